import { get as httpGet } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flush, type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

async function session(body: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', '/v1/sessions', body);
  expect(res.status).toBe(201);
  return res.body.sessionId;
}

describe('sessions', () => {
  it('create with defaults, get, keepalive, list, delete', async () => {
    const created = await h.call('POST', '/v1/sessions');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ sessionId: expect.any(String), ttlMs: 10_000, lockDelayMs: 0, name: '' });
    expect(created.headers['x-lockstep-index']).toBe('1');
    const id = created.body.sessionId;

    const got = await h.call('GET', `/v1/sessions/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ sessionId: id, name: '', ttlMs: 10_000, lockDelayMs: 0, remainingMs: 10_000, holds: [], waits: [] });

    await h.advance(4_000);
    expect((await h.call('GET', `/v1/sessions/${id}`)).body.remainingMs).toBe(6_000);
    const kept = await h.call('POST', `/v1/sessions/${id}/keepalive`);
    expect(kept.status).toBe(200);
    expect(kept.body).toEqual({ sessionId: id, ttlMs: 10_000 });
    expect((await h.call('GET', `/v1/sessions/${id}`)).body.remainingMs).toBe(10_000);

    const list = await h.call('GET', '/v1/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([id]);

    const hold = await h.call('POST', '/v1/locks/a/acquire', { sessionId: id });
    const deleted = await h.call('DELETE', `/v1/sessions/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ sessionId: id, released: [{ name: 'a', fencingToken: hold.body.fencingToken }] });
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(404);
  });

  it('keepalive does not write the log', async () => {
    const id = await session();
    const before = h.node.proposals.length;
    await h.call('POST', `/v1/sessions/${id}/keepalive`);
    expect(h.node.proposals.length).toBe(before);
  });

  it('unknown sessions are 404 session_not_found for get, keepalive and delete', async () => {
    for (const [method, url] of [['GET', '/v1/sessions/nope'], ['POST', '/v1/sessions/nope/keepalive'], ['DELETE', '/v1/sessions/nope']]) {
      const res = await h.call(method, url);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toBe('session_not_found');
    }
  });

  it('pages sessions with limit and after', async () => {
    const ids = [await session(), await session(), await session()].sort();
    const first = await h.call('GET', '/v1/sessions?limit=2');
    expect(first.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(ids.slice(0, 2));
    expect(first.body.next).toBe(ids[1]);
    const second = await h.call('GET', `/v1/sessions?limit=2&after=${first.body.next}`);
    expect(second.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(ids.slice(2));
    expect(second.body.next).toBeUndefined();
    expect((await h.call('GET', '/v1/sessions?limit=0')).status).toBe(400);
    expect((await h.call('GET', '/v1/sessions?limit=abc')).status).toBe(400);
  });

  it('expires a session that stops heartbeating, releasing its holds (with lock-delay)', async () => {
    const id = await session({ ttlMs: 2_000, lockDelayMs: 3_000 });
    const hold = await h.call('POST', '/v1/locks/job/acquire', { sessionId: id });
    expect(hold.body.acquired).toBe(true);
    await h.advance(1_999);
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(200);
    await h.advance(1);
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(404);
    const lock = await h.call('GET', '/v1/locks/job');
    expect(lock.body.holders).toEqual([]);
    expect(lock.body.lockDelayRemainingMs).toBe(3_000);
    // Lock-delay refuses new holders until it ends, and the refusal says so with the time left
    // (issue 15: `{acquired: false, holders: [], queueLength: 0}` alone looked like a bug).
    expect((await h.call('POST', '/v1/locks/job/acquire', { ttlMs: 5_000 })).body).toEqual({ acquired: false, name: 'job', holders: [], queueLength: 0, lockDelayRemainingMs: 3_000 });
    await h.advance(1_200);
    expect((await h.call('POST', '/v1/locks/job/acquire', { ttlMs: 5_000 })).body).toMatchObject({ acquired: false, lockDelayRemainingMs: 1_800 });
    const set = await h.call('POST', '/v1/lock-sets/acquire', { locks: [{ name: 'job' }, { name: 'other' }], ttlMs: 5_000 });
    expect(set.body).toEqual({ acquired: false, blocked: [{ name: 'job', holders: [], queueLength: 0, lockDelayRemainingMs: 1_800 }] });
    expect((await h.call('GET', '/v1/locks')).body.locks).toEqual([{ name: 'job', mode: null, limit: 1, holders: [], waiters: [], lockDelayRemainingMs: 1_800 }]);
    // A watch's first event says so too (`lockstep watch` prints it): free, but not to be had yet.
    await h.server.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpGet(`${url}/v1/locks/job/watch`, (res) => res.once('data', (chunk: Buffer) => (resolve(chunk.toString('utf8')), req.destroy())));
      req.once('error', reject);
    });
    expect(first).toMatch(/^event: state\ndata: /);
    expect(JSON.parse(first.split('\n')[1].slice('data: '.length))).toMatchObject({ name: 'job', holders: [], waiters: [], lockDelayRemainingMs: 1_800 });
    await h.advance(1_800);
    expect((await h.call('POST', '/v1/locks/job/acquire', { ttlMs: 5_000 })).body.acquired).toBe(true);
  });

  it('a refused acquire shows each TTL holder with the time it has left, as GET does (not its full ttlMs)', async () => {
    const held = await h.call('POST', '/v1/locks/tix/acquire', { ttlMs: 30_000 });
    expect(held.body.expiresInMs).toBe(30_000);
    await h.advance(8_000);
    const holder = { fencingToken: held.body.fencingToken, mode: 'exclusive', expiresInMs: 22_000 };
    expect((await h.call('GET', '/v1/locks/tix')).body.holders).toEqual([holder]);
    expect((await h.call('POST', '/v1/locks/tix/acquire', { ttlMs: 5_000 })).body).toEqual({ acquired: false, name: 'tix', holders: [holder], queueLength: 0 });
    const set = await h.call('POST', '/v1/lock-sets/acquire', { locks: [{ name: 'tix' }, { name: 'free' }], ttlMs: 5_000 });
    expect(set.body).toEqual({ acquired: false, blocked: [{ name: 'tix', holders: [holder], queueLength: 0 }] });
    // A wait that runs out says the same.
    const waited = h.call('POST', '/v1/locks/tix/acquire', { ttlMs: 5_000, waitMs: 4_000 });
    await flush();
    await h.advance(4_000);
    expect((await waited).body.holders).toEqual([{ ...holder, expiresInMs: 18_000 }]);
  });

  it('docs/safety.md #13: a leader without recent quorum confirmation expires nothing', async () => {
    const id = await session({ ttlMs: 1_000 });
    h.node.confirmed = false;
    await h.advance(60_000);
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(200);
    h.node.confirmed = true;
    await h.advance(0);
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(404);
  });

  it('docs/safety.md #14: after a change of leader every lease restarts in full plus grace', async () => {
    const id = await session({ ttlMs: 2_000 });
    await h.advance(1_500);
    h.node.setRole('follower', 'n2');
    h.node.setRole('leader', 'n1');
    await flush();
    await h.advance(1_000); // 2.5 s after create: the old deadline has passed
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(200);
    await h.advance(1_999); // reset at 1.5 s + 1 s grace + 2 s ttl = 4.5 s
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(200);
    await h.advance(1);
    expect((await h.call('GET', `/v1/sessions/${id}`)).status).toBe(404);
  });
});

describe('locks', () => {
  it('acquire with a TTL, read, extend, release, fencing check', async () => {
    const got = await h.call('POST', '/v1/locks/db:main/acquire', { ttlMs: 5_000, owner: 'alice', value: 'v' });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ acquired: true, name: 'db:main', fencingToken: expect.any(Number), mode: 'exclusive', expiresInMs: 5_000 });
    const token = got.body.fencingToken;
    expect(got.headers['x-lockstep-index']).toBe(String(token));

    await h.advance(2_000);
    const read = await h.call('GET', '/v1/locks/db:main');
    expect(read.body).toEqual({
      name: 'db:main',
      mode: 'exclusive',
      limit: 1,
      holders: [{ fencingToken: token, mode: 'exclusive', owner: 'alice', value: 'v', expiresInMs: 3_000 }],
      waiters: [],
    });
    const extended = await h.call('POST', '/v1/locks/db:main/extend', { fencingToken: token });
    expect(extended.status).toBe(200);
    expect(extended.body.expiresInMs).toBe(5_000);

    expect((await h.call('POST', '/v1/fencing/check', { name: 'db:main', fencingToken: token })).body).toEqual({ valid: true });
    expect((await h.call('POST', '/v1/locks/db:main/release', { fencingToken: token })).body).toEqual({ released: true });
    expect((await h.call('POST', '/v1/fencing/check', { name: 'db:main', fencingToken: token })).body).toEqual({ valid: false });
    const again = await h.call('POST', '/v1/locks/db:main/release', { fencingToken: token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_holder');
    expect((await h.call('POST', '/v1/locks/db:main/extend', { fencingToken: token })).body.error.code).toBe('not_holder');
  });

  it('a free lock reads as 200 with no holders; lists filter by prefix', async () => {
    expect((await h.call('GET', '/v1/locks/free')).body).toEqual({ name: 'free', mode: null, limit: 1, holders: [], waiters: [] });
    await h.call('POST', '/v1/locks/a:1/acquire', { ttlMs: 5_000 });
    await h.call('POST', '/v1/locks/b:1/acquire', { ttlMs: 5_000 });
    const list = await h.call('GET', '/v1/locks?prefix=a:');
    expect(list.body.locks.map((l: { name: string }) => l.name)).toEqual(['a:1']);
  });

  it('a list item carries the semaphore limit in force, as the lock\'s own view does (the console tells a semaphore by it)', async () => {
    await h.call('POST', '/v1/locks/sem:1/acquire', { ttlMs: 5_000, limit: 3 });
    await h.call('POST', '/v1/locks/one:1/acquire', { ttlMs: 5_000 });
    const modes = (await h.call('GET', '/v1/locks')).body.locks.map((l: { name: string; mode: string; limit: number }) => [l.name, l.mode, l.limit]);
    expect(modes).toEqual([['one:1', 'exclusive', 1], ['sem:1', 'exclusive', 3]]);
    expect((await h.call('GET', '/v1/locks/sem:1')).body.limit).toBe(3);
  });

  it('a TTL hold expires by the leader clock', async () => {
    const got = await h.call('POST', '/v1/locks/t/acquire', { ttlMs: 1_000 });
    await h.advance(999);
    expect((await h.call('POST', '/v1/fencing/check', { name: 't', fencingToken: got.body.fencingToken })).body.valid).toBe(true);
    await h.advance(1);
    expect((await h.call('POST', '/v1/fencing/check', { name: 't', fencingToken: got.body.fencingToken })).body.valid).toBe(false);
  });

  it('extend on a session hold is 400 invalid_argument', async () => {
    const id = await session();
    const got = await h.call('POST', '/v1/locks/s/acquire', { sessionId: id });
    const res = await h.call('POST', '/v1/locks/s/extend', { fencingToken: got.body.fencingToken });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
  });

  it('acquire validation: exactly one of sessionId and ttlMs, ranges, shared with a limit', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'sessionId'],
      [{ sessionId: 'x', ttlMs: 5_000 }, 'ttlMs'],
      [{ ttlMs: 999 }, 'ttlMs'],
      [{ ttlMs: 86_400_001 }, 'ttlMs'],
      [{ ttlMs: 5_000, waitMs: 300_001 }, 'waitMs'],
      [{ ttlMs: 5_000, waitMs: -1 }, 'waitMs'],
      [{ ttlMs: 5_000, mode: 'read' }, 'mode'],
      [{ ttlMs: 5_000, limit: 0 }, 'limit'],
      [{ ttlMs: 5_000, limit: 10_001 }, 'limit'],
      [{ ttlMs: 5_000, mode: 'shared', limit: 2 }, 'limit'],
      [{ ttlMs: 5_000, owner: 'o'.repeat(257) }, 'owner'],
      [{ ttlMs: 5_000, value: 'v'.repeat(4097) }, 'value'],
      [{ ttlMs: 5_000.5 }, 'ttlMs'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call('POST', '/v1/locks/v/acquire', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field, JSON.stringify(body)).toBe(field);
    }
    expect(h.node.proposals).toHaveLength(0);
    for (const body of [{}, { fencingToken: 0 }, { fencingToken: 'x' }]) {
      expect((await h.call('POST', '/v1/locks/v/release', body)).status).toBe(400);
    }
    expect((await h.call('POST', '/v1/fencing/check', { name: '-bad', fencingToken: 1 })).status).toBe(400);
  });

  it('acquire with an unknown session is 404 session_not_found', async () => {
    const res = await h.call('POST', '/v1/locks/x/acquire', { sessionId: 'ghost' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('session_not_found');
  });

  it('semaphore limit mismatch is 409 limit_mismatch; shared holders coexist', async () => {
    await h.call('POST', '/v1/locks/sem/acquire', { ttlMs: 5_000, limit: 2 });
    expect((await h.call('POST', '/v1/locks/sem/acquire', { ttlMs: 5_000, limit: 2 })).body.acquired).toBe(true);
    const mismatch = await h.call('POST', '/v1/locks/sem/acquire', { ttlMs: 5_000, limit: 3 });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe('limit_mismatch');
    expect((await h.call('POST', '/v1/locks/r/acquire', { ttlMs: 5_000, mode: 'shared' })).body.acquired).toBe(true);
    expect((await h.call('POST', '/v1/locks/r/acquire', { ttlMs: 5_000, mode: 'shared' })).body.acquired).toBe(true);
    const excl = await h.call('POST', '/v1/locks/r/acquire', { ttlMs: 5_000 });
    expect(excl.body).toMatchObject({ acquired: false, name: 'r', queueLength: 0 });
    expect(excl.body.holders).toHaveLength(2);
  });

  it('deadlock is refused at once with the cycle', async () => {
    const a = await session();
    const b = await session();
    await h.call('POST', '/v1/locks/L1/acquire', { sessionId: a });
    await h.call('POST', '/v1/locks/L2/acquire', { sessionId: b });
    const waitA = h.call('POST', '/v1/locks/L2/acquire', { sessionId: a, waitMs: 10_000 });
    await flush();
    const res = await h.call('POST', '/v1/locks/L1/acquire', { sessionId: b, waitMs: 10_000 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('deadlock');
    expect(res.body.error.cycle[0]).toBe('L1');
    await h.call('DELETE', `/v1/sessions/${b}`);
    expect((await waitA).body.acquired).toBe(true);
  });

  it('stale reads answer locally with x-lockstep-applied-index', async () => {
    await h.call('POST', '/v1/locks/s/acquire', { ttlMs: 5_000 });
    const res = await h.call('GET', '/v1/locks/s?consistency=stale');
    expect(res.status).toBe(200);
    expect(res.headers['x-lockstep-applied-index']).toBe('1');
    expect(res.headers['x-lockstep-index']).toBe('1');
    expect((await h.call('GET', '/v1/locks/s?consistency=bogus')).status).toBe(400);
  });
});
