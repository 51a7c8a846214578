// Findings of a black-box audit against http-api.md, line by line: each test
// names the contract line it holds the server to.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flush, type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

async function session(): Promise<string> {
  const res = await h.call('POST', '/v1/sessions', {});
  expect(res.status).toBe(201);
  return res.body.sessionId;
}

describe('x-lockstep-index on every response that reflects replicated state', () => {
  it('keepalive of an unknown session: 404 session_not_found carries the index', async () => {
    await session();
    const res = await h.call('POST', '/v1/sessions/no-such-session/keepalive');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('session_not_found');
    expect(res.headers['x-lockstep-index']).toBe('1');
  });

  it('409 idempotency_conflict carries the index of the state that judged it', async () => {
    await h.call('POST', '/v1/locks/i/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k' });
    const res = await h.call('POST', '/v1/locks/other/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('idempotency_conflict');
    expect(res.headers['x-lockstep-index']).toBe('1');
  });
});

describe('400 invalid_argument: the message says which field', () => {
  it('extend on a session hold names fencingToken', async () => {
    const id = await session();
    const got = await h.call('POST', '/v1/locks/s/acquire', { sessionId: id });
    const res = await h.call('POST', '/v1/locks/s/extend', { fencingToken: got.body.fencingToken });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', field: 'fencingToken' });
    expect(res.body.error.message).toContain('fencingToken');
  });
});

describe('list pagination (`limit` has no upper bound in the contract)', () => {
  it('a limit above the page cap is served as a full page with next, not refused', async () => {
    h = await (async () => {
      await h.close();
      return makeHarness({ limits: { pageSizeMax: 2, pageSizeDefault: 2 } });
    })();
    for (const name of ['a', 'b', 'c']) await h.call('POST', `/v1/locks/${name}/acquire`, { ttlMs: 5_000 });
    const first = await h.call('GET', '/v1/locks?limit=5000');
    expect(first.status).toBe(200);
    expect(first.body.locks.map((l: { name: string }) => l.name)).toEqual(['a', 'b']);
    expect(first.body.next).toBe('b');
    const second = await h.call('GET', `/v1/locks?limit=5000&after=${first.body.next}`);
    expect(second.body.locks.map((l: { name: string }) => l.name)).toEqual(['c']);
    expect(second.body.next).toBeUndefined();
  });

  it('a limit of seven digits or more is a large limit too, served as a full page, not a 400', async () => {
    for (const name of ['a', 'b']) await h.call('POST', `/v1/locks/${name}/acquire`, { ttlMs: 5_000 });
    for (const big of ['1000000', '99999999999999999999', '9'.repeat(400)]) {
      const res = await h.call('GET', `/v1/locks?limit=${big}`);
      expect(res.status, big).toBe(200);
      expect(res.body.locks.map((l: { name: string }) => l.name)).toEqual(['a', 'b']);
      expect((await h.call('GET', `/v1/sessions?limit=${big}`)).status, big).toBe(200);
    }
  });

  it('limit=0 and a non-number are still 400 naming limit', async () => {
    for (const bad of ['0', 'abc', '-1']) {
      const res = await h.call('GET', `/v1/sessions?limit=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('limit');
    }
  });
});

describe('semaphore limit is exclusive only (Locks: "limit … exclusive only"; in force while held or waited)', () => {
  it('readers holding a lock do not make a semaphore acquire 409 limit_mismatch', async () => {
    await h.call('POST', '/v1/locks/rw/acquire', { ttlMs: 5_000, mode: 'shared' });
    const res = await h.call('POST', '/v1/locks/rw/acquire', { ttlMs: 5_000, limit: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ acquired: false, name: 'rw', queueLength: 0 });
    expect((await h.call('GET', '/v1/locks/rw')).body).toMatchObject({ mode: 'shared', limit: 1 });
  });
});

describe('string limits count characters (code points) the same in the route and the machine', () => {
  it('value of 4096 emoji is accepted; 4097 is 400 naming value, before any log entry', async () => {
    const ok = await h.call('POST', '/v1/locks/u/acquire', { ttlMs: 5_000, value: '😀'.repeat(4096), owner: '😀'.repeat(256) });
    expect(ok.status).toBe(200);
    expect((await h.call('GET', '/v1/locks/u')).body.holders[0].value).toBe('😀'.repeat(4096));
    const index = ok.headers['x-lockstep-index'];
    const over = await h.call('POST', '/v1/locks/v/acquire', { ttlMs: 5_000, value: '😀'.repeat(4097) });
    expect(over.status).toBe(400);
    expect(over.body.error.field).toBe('value');
    expect((await h.call('GET', '/v1/locks/v')).headers['x-lockstep-index']).toBe(index);
  });

  it('session name of 128 emoji and campaign value of 4096 emoji are accepted', async () => {
    const created = await h.call('POST', '/v1/sessions', { name: '😀'.repeat(128) });
    expect(created.status).toBe(201);
    const won = await h.call('POST', '/v1/elections/e/campaign', { sessionId: created.body.sessionId, value: '😀'.repeat(4096) });
    expect(won.status).toBe(200);
    expect(won.body.elected).toBe(true);
  });
});

describe('a lost campaign names its election (Elections: "200 {elected: false, name, leader}")', () => {
  it('waitMs 0 against a leader, and a candidate whose waitMs runs out, both answer with name', async () => {
    const a = await session();
    const b = await session();
    const won = await h.call('POST', '/v1/elections/job/campaign', { sessionId: a, value: 'A' });
    const leader = { sessionId: a, value: 'A', term: won.body.term };
    const lost = await h.call('POST', '/v1/elections/job/campaign', { sessionId: b, value: 'B' });
    expect(lost.status).toBe(200);
    expect(lost.body).toEqual({ elected: false, name: 'job', leader });
    const waiting = h.call('POST', '/v1/elections/job/campaign', { sessionId: b, value: 'B', waitMs: 1_000 });
    await flush();
    await h.advance(1_000);
    const ranOut = await waiting;
    expect(ranOut.status).toBe(200);
    expect(ranOut.body).toEqual({ elected: false, name: 'job', leader });
  });
});

describe('keepalive takes no body fields, and its reference says so (Conventions: an unknown field is 400)', () => {
  it('a field in a keepalive body is 400 naming it; /docs/json does not say a body is ignored', async () => {
    const id = await session();
    const res = await h.call('POST', `/v1/sessions/${id}/keepalive`, { ttlMs: 5_000 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', field: 'ttlMs' });
    const doc = (await h.call('GET', '/docs/json')).body;
    const operation = doc.paths['/v1/sessions/{id}/keepalive'].post;
    expect(`${operation.summary} ${operation.description}`).not.toMatch(/body is ignored/i);
  });
});

describe('member ids: every id a node can have (contract note 37: 1-128 of [A-Za-z0-9._:-])', () => {
  it('a member id with ":" can be added, handed leadership and removed', async () => {
    const add = await h.call('POST', '/v1/cluster/members', { id: 'dc1:n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102' });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(add.body.members.map((m: { id: string }) => m.id)).toEqual(['n1', 'dc1:n2']);
    const transfer = await h.call('POST', '/v1/cluster/leadership', { to: 'dc1:n2' });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(200);
    expect(transfer.body.leader).toBe('dc1:n2');
    h.node.setRole('leader', 'n1');
    const removed = await h.call('DELETE', '/v1/cluster/members/dc1:n2');
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.members.map((m: { id: string }) => m.id)).toEqual(['n1']);
  });

  it('an id a certificate cannot carry is still 400 naming id', async () => {
    for (const id of ['_n2', 'n 2', 'n/2', 'x'.repeat(129)]) {
      const res = await h.call('POST', '/v1/cluster/members', { id, apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102' });
      expect(res.status, id).toBe(400);
      expect(res.body.error.field).toBe('id');
    }
  });
});

describe('leadership to a learner is refused, not "outcome unknown" (503 unavailable means: retry, it may have happened)', () => {
  it('POST /v1/cluster/leadership {to: a learner} is 400 invalid_argument naming to, and leadership stays', async () => {
    await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102', voter: false });
    const res = await h.call('POST', '/v1/cluster/leadership', { to: 'n2' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', field: 'to' });
    expect(res.body.error.message).toMatch(/not a voter/);
    expect((await h.call('GET', '/v1/cluster')).body.leader).toBe('n1');
  });

  it('POST /v1/cluster/leadership {} with no other voter (one node, or only learners) is 400, not 503 no_leader', async () => {
    const alone = await h.call('POST', '/v1/cluster/leadership', {});
    expect(alone.status, JSON.stringify(alone.body)).toBe(400);
    expect(alone.body.error).toMatchObject({ code: 'invalid_argument', field: 'to' });
    await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102', voter: false });
    expect((await h.call('POST', '/v1/cluster/leadership', {})).status).toBe(400);
    expect((await h.call('GET', '/v1/cluster')).body.leader).toBe('n1');
  });
});

describe('leadership to a member that does not answer is refused at once, not after stalling writes for the transfer bound', () => {
  it('POST /v1/cluster/leadership {to: a member the leader has not heard from} is 400 naming to; {} picks one that answers, or is 400 when none does', async () => {
    for (const id of ['n2', 'n3']) await h.call('POST', '/v1/cluster/members', { id, apiUrl: `http://127.0.0.1:700${id[1]}`, peerUrl: `127.0.0.1:710${id[1]}` });
    h.node.unreachable.add('n2');
    const res = await h.call('POST', '/v1/cluster/leadership', { to: 'n2' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', field: 'to' });
    expect(res.body.error.message).toMatch(/n2 has not answered the leader/);
    expect((await h.call('GET', '/v1/cluster')).body.leader).toBe('n1');
    h.node.unreachable.add('n3');
    const none = await h.call('POST', '/v1/cluster/leadership', {});
    expect(none.status, JSON.stringify(none.body)).toBe(400);
    expect(none.body.error.message).toMatch(/no other voter has answered/);
    h.node.unreachable.delete('n3');
    expect((await h.call('POST', '/v1/cluster/leadership', { to: 'n3' })).body).toMatchObject({ leader: 'n3', previous: 'n1' });
  });
});

describe('removing the last voter is refused for good, not "outcome unknown"', () => {
  it('DELETE /v1/cluster/members/{the only voter} is 400 invalid_argument naming id; a learner beside it changes nothing', async () => {
    await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102', voter: false });
    const res = await h.call('DELETE', '/v1/cluster/members/n1');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', field: 'id' });
    expect(res.body.error.message).toMatch(/last voter/);
    expect(h.node.members.map((m) => m.id)).toEqual(['n1', 'n2']);
    expect((await h.call('DELETE', '/v1/cluster/members/n2')).status).toBe(200);
  });
});
