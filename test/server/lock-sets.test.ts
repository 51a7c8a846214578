// POST /v1/lock-sets/acquire and /release (http-api.md "Lock sets") through
// app.inject() on a MemoryNode leader, and forwarded by a follower.
import { afterEach, describe, expect, it } from 'vitest';
import { Canceller } from '../../src/cancel.js';
import { decodeProposal } from '../../src/locks/codec.js';
import { flush, type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function harness(): Promise<Harness> {
  const h = await makeHarness();
  open.push(h);
  return h;
}

const acquireSet = (h: Harness, body: unknown, headers?: Record<string, string>) => h.call('POST', '/v1/lock-sets/acquire', body, headers);
const releaseSet = (h: Harness, holds: unknown) => h.call('POST', '/v1/lock-sets/release', { holds });

describe('POST /v1/lock-sets/acquire', () => {
  it('grants every lock in one command, each with its own token, in the order asked; release gives them all back', async () => {
    const h = await harness();
    const res = await acquireSet(h, { locks: [{ name: 'acct:2' }, { name: 'acct:1', mode: 'shared' }], ttlMs: 5_000, owner: 'w1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ acquired: true, expiresInMs: 5_000 });
    const [two, one] = res.body.holds;
    expect(two).toEqual({ name: 'acct:2', fencingToken: expect.any(Number), mode: 'exclusive' });
    expect(one).toEqual({ name: 'acct:1', fencingToken: two.fencingToken + 1, mode: 'shared' });
    expect(h.node.proposals).toHaveLength(1);
    expect(Number(res.headers['x-lockstep-index'])).toBe(1);
    expect((await h.call('GET', '/v1/locks/acct:1')).body.holders[0]).toMatchObject({ fencingToken: one.fencingToken, owner: 'w1' });

    const bad = await releaseSet(h, [{ name: 'acct:2', fencingToken: two.fencingToken }, { name: 'acct:1', fencingToken: 999 }]);
    expect(bad.status).toBe(409);
    expect(bad.body.error).toMatchObject({ code: 'not_holder', names: ['acct:1'] });
    expect((await h.call('GET', '/v1/locks/acct:2')).body.holders).toHaveLength(1);
    const ok = await releaseSet(h, res.body.holds.map(({ name, fencingToken }: { name: string; fencingToken: number }) => ({ name, fencingToken })));
    expect(ok).toMatchObject({ status: 200, body: { released: ['acct:2', 'acct:1'] } });
    expect((await h.call('GET', '/v1/locks')).body.locks).toEqual([]);
  });

  it('try once on a set with one lock held: acquired false, blocked names it, nothing taken', async () => {
    const h = await harness();
    const held = await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 });
    const res = await acquireSet(h, { locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000 });
    expect(res.body).toEqual({ acquired: false, blocked: [{ name: 'b', holders: [{ fencingToken: held.body.fencingToken, mode: 'exclusive', expiresInMs: 5_000 }], queueLength: 0 }] });
    expect((await h.call('GET', '/v1/locks/a')).body.holders).toEqual([]);
  });

  it('a waiting set long-polls, shows as a waiter on each lock, and is granted by the release that frees the last of them', async () => {
    const h = await harness();
    const sessionId = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const held = await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 });
    const waiting = acquireSet(h, { locks: [{ name: 'a' }, { name: 'b' }], sessionId, waitMs: 30_000, owner: 'set' });
    await flush();
    expect((await h.call('GET', '/v1/locks/a')).body.waiters).toEqual([{ sessionId, owner: 'set', mode: 'exclusive' }]);
    expect((await h.call('GET', '/v1/locks/b')).body.waiters).toEqual([{ sessionId, owner: 'set', mode: 'exclusive' }]);
    expect((await h.call('GET', `/v1/sessions/${sessionId}`)).body.waits).toEqual(['a', 'b']);
    // a is free, but the set is first in line there: a single does not get it.
    expect((await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 })).body).toMatchObject({ acquired: false, queueLength: 1 });
    await h.call('POST', '/v1/locks/b/release', { fencingToken: held.body.fencingToken });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ acquired: true, sessionId, holds: [{ name: 'a' }, { name: 'b' }] });
    expect((await h.call('GET', `/v1/sessions/${sessionId}`)).body.holds.map((x: { name: string }) => x.name)).toEqual(['a', 'b']);
  });

  it('waitMs runs out by the leader clock: acquired false with only the locks that stood in the way', async () => {
    const h = await harness();
    await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 60_000 });
    const waiting = acquireSet(h, { locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000, waitMs: 2_000 });
    await flush();
    await h.advance(2_000);
    const res = await waiting;
    expect(res.body).toMatchObject({ acquired: false, blocked: [{ name: 'b', queueLength: 0 }] });
    expect(res.body.blocked).toHaveLength(1);
    expect((await h.call('GET', '/v1/locks/a')).body.waiters).toEqual([]);
  });

  it('an abandoned request cancels the set wait and leaves every line', async () => {
    const h = await harness();
    await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 60_000 });
    const controller = new Canceller();
    const waiting = h.server.services.locks.execute(
      { type: 'lockSet.acquire', locks: [{ name: 'a', mode: 'exclusive', limit: 1 }, { name: 'b', mode: 'exclusive', limit: 1 }], sessionId: null, ttlMs: 5_000, waitMs: 60_000, waitId: 'set-abandon', owner: null, value: null },
      { idempotency: null, cancel: controller, tokenId: null },
    );
    await flush();
    controller.cancel(new Error('client went away'));
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
    await flush();
    expect(decodeProposal(h.node.proposals.at(-1)!).command).toEqual({ type: 'wait.cancel', waitIds: ['set-abandon'], reason: 'abandoned' });
    expect((await h.call('GET', '/v1/locks/a')).body.waiters).toEqual([]);
    expect((await h.call('GET', '/v1/locks/b')).body.waiters).toEqual([]);
  });

  it('a session that holds a lock and waits for a set that closes a cycle: 409 deadlock with the cycle', async () => {
    const h = await harness();
    const a = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const b = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    await h.call('POST', '/v1/locks/x/acquire', { sessionId: a });
    await h.call('POST', '/v1/locks/y/acquire', { sessionId: b });
    const aWaits = h.call('POST', '/v1/locks/y/acquire', { sessionId: a, waitMs: 30_000 });
    await flush();
    const res = await acquireSet(h, { locks: [{ name: 'z' }, { name: 'x' }], sessionId: b, waitMs: 30_000 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'deadlock', cycle: ['x', 'y'] });
    await h.call('DELETE', `/v1/sessions/${b}`);
    expect((await aWaits).body).toMatchObject({ acquired: true });
  });

  it('an Idempotency-Key repeat joins the waiting set and then replays its grant', async () => {
    const h = await harness();
    const held = await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 });
    const body = { locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000, waitMs: 30_000 };
    const first = acquireSet(h, body, { 'idempotency-key': 'set-1' });
    await flush();
    const repeat = acquireSet(h, body, { 'idempotency-key': 'set-1' });
    await flush();
    await h.call('POST', '/v1/locks/b/release', { fencingToken: held.body.fencingToken });
    const [r1, r2] = await Promise.all([first, repeat]);
    expect(r1.body.acquired).toBe(true);
    expect(r2.body).toEqual(r1.body);
    expect((await acquireSet(h, body, { 'idempotency-key': 'set-1' })).body).toEqual(r1.body);
    const conflict = await h.call('POST', '/v1/lock-sets/release', { holds: [{ name: 'a', fencingToken: 1 }] }, { 'idempotency-key': 'set-1' });
    expect(conflict.body.error.code).toBe('idempotency_conflict');
  });

  it('bad bodies are 400 invalid_argument naming the field, and propose nothing', async () => {
    const h = await harness();
    const cases: Array<[unknown, string]> = [
      [{ locks: [{ name: 'a' }], ttlMs: 5_000 }, 'locks'],
      [{ locks: [{ name: 'a' }, { name: 'a' }], ttlMs: 5_000 }, 'locks.1.name'],
      [{ locks: Array.from({ length: 65 }, (_, i) => ({ name: `n${i}` })), ttlMs: 5_000 }, 'locks'],
      [{ locks: [{ name: 'a' }, { name: '-b' }], ttlMs: 5_000 }, 'locks.1.name'],
      [{ locks: [{ name: 'a', mode: 'shared', limit: 2 }, { name: 'b' }], ttlMs: 5_000 }, 'locks.0.limit'],
      [{ locks: [{ name: 'a', ttl: 5 }, { name: 'b' }], ttlMs: 5_000 }, 'locks.0.ttl'],
      [{ locks: [{ name: 'a' }, { name: 'b' }], ttl: 5_000 }, 'ttl'],
      [{ locks: [{ name: 'a' }, { name: 'b' }] }, 'sessionId'],
      [{ locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000, sessionId: 's' }, 'ttlMs'],
      [{ locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000, waitMs: 300_001 }, 'waitMs'],
    ];
    for (const [body, field] of cases) {
      const res = await acquireSet(h, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code: 'invalid_argument', field });
    }
    const release: Array<[unknown, string]> = [
      [{ holds: [] }, 'holds'],
      [{ holds: [{ name: 'a', fencingToken: 1 }, { name: 'a', fencingToken: 1 }] }, 'holds.1'],
      [{ holds: [{ name: 'a', fencingToken: 0 }] }, 'holds.0.fencingToken'],
    ];
    for (const [body, field] of release) {
      const res = await h.call('POST', '/v1/lock-sets/release', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field, JSON.stringify(body)).toBe(field);
    }
    expect(h.node.proposals).toHaveLength(0);
  });

  it('the OpenAPI document describes both routes', async () => {
    const h = await harness();
    const doc = (await h.call('GET', '/docs/json')).body;
    expect(doc.paths['/v1/lock-sets/acquire'].post.requestBody).toBeDefined();
    expect(doc.paths['/v1/lock-sets/release'].post.requestBody).toBeDefined();
  });
});

describe('lock sets through a follower', () => {
  it('a follower forwards acquire (waiting) and release to the leader and passes the answers through', async () => {
    const leader = await harness();
    await leader.server.listen('127.0.0.1', 0);
    const node = new MemoryNode('n2');
    node.role = 'follower';
    node.leader = leader.node.id;
    node.leaderUrl = `http://127.0.0.1:${(leader.server.app.server.address() as { port: number }).port}`;
    const follower = await makeHarness({ node });
    open.push(follower);

    const held = await follower.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 });
    const waiting = acquireSet(follower, { locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000, waitMs: 30_000 }, { 'idempotency-key': 'fw-set' });
    await until(async () => (await leader.call('GET', '/v1/locks/a')).body.waiters.length === 1);
    await follower.call('POST', '/v1/locks/b/release', { fencingToken: held.body.fencingToken });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers['x-lockstep-node']).toBe('n2');
    expect(res.body).toMatchObject({ acquired: true, holds: [{ name: 'a' }, { name: 'b' }] });
    expect(follower.node.proposals).toHaveLength(0);
    const released = await follower.call('POST', '/v1/lock-sets/release', { holds: res.body.holds.map(({ name, fencingToken }: { name: string; fencingToken: number }) => ({ name, fencingToken })) });
    expect(released.body).toEqual({ released: ['a', 'b'] });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await flush();
  }
  throw new Error('condition never held');
}
