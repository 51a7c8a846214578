// The SDK against the real HTTP server (one in-memory node): request shapes,
// error codes, idempotency, long-poll waits, SSE watch and observe.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { isLockstepError, LockstepError } from '../../packages/client/src/errors.js';
import { closedPort } from '../cli/fake-api.js';
import { startLiveServer, type LiveServer } from './live-server.js';

let live: LiveServer;
let client: Client;
beforeAll(async () => {
  live = await startLiveServer();
  client = new Client({ endpoints: [live.url] });
});
afterAll(async () => {
  await live.close();
});

describe('SDK against a live server', () => {
  it('withLock hands out a fencing token and releases afterwards', async () => {
    const token = await client.withLock('live:a', { ttlMs: 5000, owner: 'alice' }, async (hold) => {
      const info = await client.getLock('live:a');
      expect(info.holders).toHaveLength(1);
      expect(info.holders[0]).toMatchObject({ fencingToken: hold.fencingToken, owner: 'alice' });
      expect(await client.checkFencing('live:a', hold.fencingToken)).toBe(true);
      return hold.fencingToken;
    });
    expect(token).toBeGreaterThan(0);
    expect((await client.getLock('live:a')).holders).toHaveLength(0);
    expect(await client.checkFencing('live:a', token)).toBe(false);
  });

  it('withLocks: opposite orders never deadlock, every move holds both accounts, and everything is released', async () => {
    const balance = new Map([['live:acct:1', 100], ['live:acct:2', 100]]);
    const move = (from: string, to: string) =>
      client.withLocks([from, to], { ttlMs: 10_000, waitMs: 10_000 }, async (set) => {
        for (const name of [from, to]) expect(await client.checkFencing(name, set.fencingToken(name))).toBe(true);
        const amount = balance.get(from)!;
        // A turn of the event loop between read and write: without the locks, moves would interleave here.
        await new Promise((r) => setImmediate(r));
        balance.set(from, amount - 1);
        balance.set(to, balance.get(to)! + 1);
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? move('live:acct:1', 'live:acct:2') : move('live:acct:2', 'live:acct:1'))));
    expect(balance.get('live:acct:1')! + balance.get('live:acct:2')!).toBe(200);
    expect(balance.get('live:acct:1')).toBe(100);
    expect((await client.listLocks({ prefix: 'live:acct:' })).locks).toEqual([]);
  });

  it('fails over from a dead endpoint to a live one', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const c = new Client({ endpoints: [dead, live.url] });
    expect((await c.cluster()).leader).toBe('n1');
  });

  it('a waiter gets the lock after the holder releases, with a larger token', async () => {
    const first = await client.acquire('live:b', { ttlMs: 10_000 });
    expect(first.acquired).toBe(true);
    const waiting = client.acquire('live:b', { ttlMs: 10_000, waitMs: 10_000 });
    // Wait until the second is queued, then release.
    for (let i = 0; i < 100 && (await client.getLock('live:b')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    if (!first.acquired) throw new Error('unreachable');
    await client.release('live:b', first.fencingToken);
    const second = await waiting;
    expect(second.acquired).toBe(true);
    if (second.acquired) {
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      await client.release('live:b', second.fencingToken);
    }
  });

  it('a repeat with the same Idempotency-Key returns the first outcome without acquiring twice', async () => {
    const spec = { method: 'POST' as const, path: '/v1/locks/live:c/acquire', body: { ttlMs: 5000, limit: 2 }, retry: 'keyed' as const, idempotencyKey: 'test-key-c' };
    const a = await client.request<{ fencingToken: number }>(spec);
    const b = await client.request<{ fencingToken: number }>(spec);
    expect(b.body.fencingToken).toBe(a.body.fencingToken);
    expect((await client.getLock('live:c')).holders).toHaveLength(1);
  });

  it('a waiter that gives up just as it is granted: the server records the grant under its key, and the SDK releases it', async () => {
    const first = await client.acquire('live:late', { ttlMs: 10_000 });
    if (!first.acquired) throw new Error('the lock should be free');
    const ac = new AbortController();
    let dropped = false;
    // The server answers the waiter's grant; the caller gives up as it arrives, and the answer is lost.
    const dropping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!dropped && String(input).endsWith('late/acquire')) {
        dropped = true;
        await res.text();
        ac.abort();
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      }
      return res;
    };
    const waiter = new Client({ endpoints: [live.url], fetch: dropping });
    const waiting = waiter.acquire('live:late', { ttlMs: 10_000, waitMs: 10_000 }, { signal: ac.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 100 && (await client.getLock('live:late')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await client.release('live:late', first.fencingToken);
    expect(await waiting).toMatchObject({ code: 'aborted' });
    expect(dropped).toBe(true);
    // Released in the background within a few round trips, not after the 10 s TTL.
    let holders = (await client.getLock('live:late')).holders;
    for (let i = 0; i < 100 && holders.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      holders = (await client.getLock('live:late')).holders;
    }
    expect(holders).toEqual([]);
  });

  it('a wait whose node then hangs is noticed by the health probe and retried on another node, where it joins the same queued wait', async () => {
    // A node in front of the server that can be frozen as SIGSTOP freezes one: connections stay
    // open and accepted, nothing is answered or passed on, and no close reaches the server.
    const port = Number(new URL(live.url).port);
    let frozen = false;
    const sockets = new Set<Socket>();
    const proxy = createServer((downstream) => {
      const upstream = connect(port, '127.0.0.1');
      for (const s of [downstream, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      downstream.on('data', (d) => void (frozen || upstream.write(d)));
      upstream.on('data', (d) => void (frozen || downstream.write(d)));
      downstream.on('close', () => void (frozen || upstream.destroy()));
      upstream.on('close', () => void (frozen || downstream.destroy()));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const first = await client.acquire('live:hung', { ttlMs: 10_000 });
      if (!first.acquired) throw new Error('the lock should be free');
      const waiter = new Client({ endpoints: [proxyUrl, live.url], requestTimeoutMs: 300 });
      const waiting = waiter.acquire('live:hung', { ttlMs: 10_000, waitMs: 60_000 });
      for (let i = 0; i < 100 && (await client.getLock('live:hung')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      frozen = true;
      const frozenAtMs = performance.now();
      // The retry (same key) has joined the queued wait when the server still shows one waiter; then the lock is passed on.
      for (let i = 0; i < 300 && performance.now() - frozenAtMs < 700; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await client.getLock('live:hung')).waiters).toHaveLength(1);
      await client.release('live:hung', first.fencingToken);
      // Without the probe it would wait out its attempt timeout (60.3 s) on the frozen node.
      const second = await Promise.race([waiting, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 10_000))]);
      expect(second).toMatchObject({ acquired: true });
      if (second === 'still waiting') throw new Error('unreachable');
      const info = await client.getLock('live:hung');
      expect(info.holders.map((h) => h.fencingToken)).toEqual([second.acquired ? second.fencingToken : -1]);
      expect(info.waiters).toEqual([]);
      if (second.acquired) await client.release('live:hung', second.fencingToken);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('errors carry the contract code and status', async () => {
    const err = (await client.release('live:d', 999_999).catch((e: unknown) => e)) as LockstepError;
    expect(isLockstepError(err, 'not_holder')).toBe(true);
    expect(err.status).toBe(409);
    const bad = (await client.acquire('-bad name', { ttlMs: 5000 }).catch((e: unknown) => e)) as LockstepError;
    expect(bad.code).toBe('invalid_argument');
    expect(bad.status).toBe(400);
    const gone = (await client.getSession('no-such-session').catch((e: unknown) => e)) as LockstepError;
    expect(gone.code).toBe('session_not_found');
  });

  it('a session keeps itself alive, holds locks, and close() releases them', async () => {
    const s = await client.session({ ttlMs: 2000, name: 'live-test' });
    const r = await client.acquire('live:e', { sessionId: s.id });
    expect(r.acquired).toBe(true);
    const info = await client.getSession(s.id);
    expect(info.holds.map((h) => h.name)).toEqual(['live:e']);
    expect(s.alive).toBe(true);
    await s.close();
    expect(s.signal.aborted).toBe(true);
    expect((await client.getLock('live:e')).holders).toHaveLength(0);
    await expect(client.getSession(s.id)).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('watchLock streams the state first, then changes', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const ev of client.watchLock('live:f', { signal: ac.signal })) {
        seen.push(ev.type);
        if (ev.type === 'state') {
          const r = await client.acquire('live:f', { ttlMs: 5000 });
          if (r.acquired) await client.release('live:f', r.fencingToken);
        }
        if (ev.type === 'released') break;
      }
    })();
    await reading;
    ac.abort();
    expect(seen[0]).toBe('state');
    expect(seen).toContain('acquired');
    expect(seen.at(-1)).toBe('released');
  });

  it('elect calls onElected with a term, observe sees the leader, close() resigns', async () => {
    const ac = new AbortController();
    const leaders: unknown[] = [];
    const observing = (async () => {
      for await (const l of client.observe('live:job', { signal: ac.signal })) {
        leaders.push(l);
        if (leaders.length === 3) break;
      }
    })();
    let elected: (t: number) => void = () => undefined;
    const gotTerm = new Promise<number>((r) => (elected = r));
    const demoted: string[] = [];
    const election = client.elect('live:job', 'worker-1', {
      onElected: (l) => elected(l.term),
      onDemoted: (reason) => void demoted.push(reason),
    });
    const t = await gotTerm;
    expect(t).toBeGreaterThan(0);
    expect(election.leadership?.term).toBe(t);
    expect((await client.getElection('live:job')).leader).toMatchObject({ value: 'worker-1', term: t });
    await election.close();
    expect(demoted).toEqual(['closed']);
    await observing;
    ac.abort();
    expect(leaders[0]).toBeNull();
    expect(leaders[1]).toMatchObject({ value: 'worker-1', term: t });
    expect(leaders[2]).toBeNull();
  });

  it('elect: a lost session demotes (signal fires) and the election campaigns again with a new session and a larger term', async () => {
    const terms: number[] = [];
    const signals: AbortSignal[] = [];
    const demoted: string[] = [];
    let wake: () => void = () => undefined;
    const election = client.elect('live:re', 'w', {
      sessionTtlMs: 2000,
      onElected: (l) => {
        terms.push(l.term);
        signals.push(l.signal);
        wake();
      },
      onDemoted: (reason) => void demoted.push(reason),
    });
    const next = () => new Promise<void>((r) => (wake = r));
    let waiting = next();
    while (terms.length < 1) await waiting;
    const first = election.leadership!;
    waiting = next();
    // An operator (or an expiry) ends the session behind the leadership.
    await client.deleteSession(first.session.id);
    await waiting;
    expect(signals[0].aborted).toBe(true);
    expect(demoted).toEqual(['session_lost']);
    expect(terms[1]).toBeGreaterThan(terms[0]);
    expect(election.leadership?.session.id).not.toBe(first.session.id);
    await election.close();
  });
});
