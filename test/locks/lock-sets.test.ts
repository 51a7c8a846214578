// Lock sets in the state machine (http-api.md "Lock sets"): all or nothing,
// one place in each line, nobody overtakes, carried holds, deadlock, caps,
// and the endings a single wait has (timeout, session end, lock-delay).
import { describe, expect, it } from 'vitest';
import { LockMachine } from '../../src/locks/machine.js';
import { WAITERS_PER_LOCK_MAX } from '../../src/locks/limits.js';
import { logIndex } from '../../src/raft/types.js';
import { acquireSetCmd, errorCode, Harness, holderTokens, outcomeOf, resolved } from './harness.js';

describe('lock sets: all or nothing', () => {
  it('a free set is granted at once, one token per lock in the order asked, strictly increasing', () => {
    const h = new Harness();
    h.session('s');
    const { result, events } = h.acquireSet(['b', 'a', 'c'], { sessionId: 's' });
    const out = outcomeOf(result);
    expect(out.status).toBe(200);
    const holds = (out.body as { holds: Array<{ name: string; fencingToken: number; mode: string }> }).holds;
    expect(holds.map((x) => x.name)).toEqual(['b', 'a', 'c']);
    expect(holds[0].fencingToken).toBeLessThan(holds[1].fencingToken);
    expect(holds[1].fencingToken).toBeLessThan(holds[2].fencingToken);
    expect(out.body).toMatchObject({ acquired: true, sessionId: 's' });
    expect(events.map((e) => e.type)).toEqual(['acquired', 'acquired', 'acquired']);
    for (const x of holds) expect(holderTokens(h, x.name)).toEqual([x.fencingToken]);
    // Every hold is an ordinary hold afterwards.
    expect(h.machine.getSession('s')!.holds.map((x) => x.name)).toEqual(['b', 'a', 'c']);
  });

  it('a TTL set answers expiresInMs; its holds extend and release one by one', () => {
    const h = new Harness();
    const out = outcomeOf(h.acquireSet(['a', 'b'], { ttlMs: 7_000 }).result);
    expect(out.body).toMatchObject({ acquired: true, expiresInMs: 7_000 });
    const [a, b] = (out.body as { holds: Array<{ fencingToken: number }> }).holds;
    expect(h.done({ type: 'lock.extend', name: 'a', fencingToken: a.fencingToken, ttlMs: 9_000 })).toEqual({ status: 200, body: { expiresInMs: 9_000 } });
    expect(outcomeOf(h.release('b', b.fencingToken).result).status).toBe(200);
    expect(holderTokens(h, 'a')).toEqual([a.fencingToken]);
    expect(holderTokens(h, 'b')).toEqual([]);
  });

  it('try once: one lock in the way means none is taken, and the answer names what blocked', () => {
    const h = new Harness();
    const held = h.hold('b', { owner: 'x' });
    const out = outcomeOf(h.acquireSet(['a', 'b', 'c']).result);
    expect(out.body).toEqual({
      acquired: false,
      blocked: [{ name: 'b', holders: [{ fencingToken: held, mode: 'exclusive', owner: 'x', expiresInMs: 5_000 }], queueLength: 0 }],
    });
    expect(h.machine.getLock('a').holders).toEqual([]);
    expect(h.machine.getLock('c').holders).toEqual([]);
    expect(h.machine.listLocks().locks.map((l) => l.name)).toEqual(['b']);
  });

  it('modes per lock: shared beside shared holders, a semaphore slot, exclusive', () => {
    const h = new Harness();
    h.hold('r', { mode: 'shared' });
    h.hold('sem', { limit: 2 });
    const holds = h.holdSet([{ name: 'r', mode: 'shared' }, { name: 'sem', limit: 2 }, 'x']);
    expect(h.machine.getLock('r').holders).toHaveLength(2);
    expect(h.machine.getLock('sem').holders).toHaveLength(2);
    expect(Object.keys(holds)).toEqual(['r', 'sem', 'x']);
    const mismatch = outcomeOf(h.acquireSet([{ name: 'sem', limit: 3 }, 'y']).result);
    expect(mismatch.status).toBe(409);
    expect(mismatch.body).toMatchObject({ error: { code: 'limit_mismatch', name: 'sem', limit: 2 } });
    expect(h.machine.getLock('y').holders).toEqual([]);
  });

  it('locks the session holds already come back as they are (same token, same mode)', () => {
    const h = new Harness();
    h.session('s');
    const a = h.hold('a', { sessionId: 's', mode: 'shared' });
    const out = outcomeOf(h.acquireSet(['a', 'b'], { sessionId: 's' }).result);
    const holds = (out.body as { holds: Array<{ name: string; fencingToken: number; mode: string }> }).holds;
    expect(holds[0]).toEqual({ name: 'a', fencingToken: a, mode: 'shared' });
    expect(holds[1].fencingToken).toBeGreaterThan(a);
    expect(h.machine.getLock('a').holders).toHaveLength(1);
  });
});

describe('lock sets: waiting in line', () => {
  it('a waiting set has a place on every lock; nobody behind it overtakes, even where the lock is free', () => {
    const h = new Harness();
    const a = h.hold('a');
    const waitId = h.waitSet(['a', 'b']);
    expect(h.machine.getLock('a').waiters).toHaveLength(1);
    expect(h.machine.getLock('b').waiters).toHaveLength(1);
    expect(h.machine.getLock('b').holders).toEqual([]);
    // b is free, but the set is first in its line: a single does not get it.
    expect(outcomeOf(h.acquire('b').result).body).toEqual({ acquired: false, name: 'b', holders: [], queueLength: 1 });
    const single = h.wait('b');
    const { events } = h.release('a', a);
    const granted = resolved(events, waitId)!;
    expect(granted.body).toMatchObject({ acquired: true, holds: [{ name: 'a' }, { name: 'b' }] });
    // One command: released, then per lock its place leaves and the hold is made, then the answer.
    expect(events.map((e) => e.type)).toEqual(['released', 'dequeued', 'acquired', 'dequeued', 'acquired', 'wait.resolved']);
    expect(resolved(events, single)).toBeUndefined();
    expect(h.machine.getLock('b').waiters).toHaveLength(1);
  });

  it('one release grants several waiters in the same command: a set, then shared singles behind it', () => {
    const h = new Harness();
    const a = h.hold('a');
    const b = h.hold('b');
    const set = h.waitSet([{ name: 'a', mode: 'shared' }, 'b']);
    const r1 = h.wait('a', { mode: 'shared' });
    const x = h.wait('b');
    const { events } = h.releaseSet([{ name: 'a', fencingToken: a }, { name: 'b', fencingToken: b }]);
    expect(resolved(events, set)?.body).toMatchObject({ acquired: true });
    expect(resolved(events, r1)?.body).toMatchObject({ acquired: true, mode: 'shared' });
    expect(resolved(events, x)).toBeUndefined();
    expect(h.machine.getLock('a').holders).toHaveLength(2);
    expect(events.filter((e) => e.type === 'acquired').map((e) => (e as { name: string }).name)).toEqual(['a', 'b', 'a']);
  });

  it('a set granted on one lock moves the line of its other lock (the fixpoint crosses locks)', () => {
    const h = new Harness();
    const a = h.hold('a');
    const s1 = h.waitSet(['a', 'b']); // holds the head of b
    const s2 = h.waitSet(['b', 'c']); // behind s1 on b, first on c
    const c1 = h.wait('c'); // behind s2 on c
    const { events } = h.release('a', a);
    expect(resolved(events, s1)?.body).toMatchObject({ acquired: true });
    expect(resolved(events, s2)).toBeUndefined();
    expect(resolved(events, c1)).toBeUndefined();
    const holds = (resolved(events, s1)!.body as { holds: Array<{ name: string; fencingToken: number }> }).holds;
    const out = h.releaseSet(holds.map(({ name, fencingToken }) => ({ name, fencingToken })));
    expect(resolved(out.events, s2)?.body).toMatchObject({ acquired: true });
    expect(resolved(out.events, c1)).toBeUndefined();
  });

  it('a stream of single acquires never starves a waiting set: only waiters ahead of it are granted first', () => {
    const h = new Harness();
    let a = h.hold('a');
    let b = h.hold('b');
    h.wait('a'); // ahead of the set on a
    const set = h.waitSet(['a', 'b']);
    let grantsBefore = 0;
    for (let round = 0; round < 20; round++) {
      h.wait('a');
      h.wait('b');
      const out = a > 0 ? h.release('a', a) : h.release('b', b);
      const setAnswer = resolved(out.events, set);
      if (setAnswer) {
        expect(setAnswer.body).toMatchObject({ acquired: true });
        break;
      }
      grantsBefore += out.events.filter((e) => e.type === 'acquired').length;
      // Whoever got a lets it go at once; b is released next round.
      a = holderTokens(h, 'a')[0] ?? 0;
      if (a === 0) b = holderTokens(h, 'b')[0];
      expect(round).toBeLessThan(3);
    }
    expect(grantsBefore).toBe(1); // the one waiter ahead of it on a
  });

  it('timeout (wait.cancel) answers only the locks that blocked, and the line behind it moves', () => {
    const h = new Harness();
    h.session('s');
    const a = h.hold('a');
    const set = h.waitSet(['a', 'b'], { sessionId: 's' });
    const behind = h.wait('b');
    const { events } = h.cancel([set]);
    expect(resolved(events, set)).toEqual({
      status: 200,
      body: { acquired: false, blocked: [{ name: 'a', holders: [{ fencingToken: a, mode: 'exclusive', expiresInMs: 5_000 }], queueLength: 0 }] },
    });
    expect(resolved(events, behind)?.body).toMatchObject({ acquired: true, name: 'b' });
    expect(h.machine.getLock('a').waiters).toEqual([]);
    expect(h.machine.getSession('s')!.waits).toEqual([]);
  });

  it('session end: the set answers 404 session_not_found and the waiters behind it are granted', () => {
    const h = new Harness();
    h.session('s');
    h.hold('a');
    const set = h.waitSet(['a', 'b'], { sessionId: 's' });
    const behind = h.wait('b');
    const { events } = h.expire({ sessionIds: ['s'] });
    expect(errorCode(resolved(events, set)!)).toBe('session_not_found');
    expect(resolved(events, behind)?.body).toMatchObject({ acquired: true });
    expect(h.machine.getLock('a').waiters).toEqual([]);
  });

  it('lock-delay on one lock holds the set until it ends, then it is granted', () => {
    const h = new Harness();
    h.session('gone', { lockDelayMs: 3_000 });
    h.hold('a', { sessionId: 'gone' });
    h.expire({ sessionIds: ['gone'] });
    expect(outcomeOf(h.acquireSet(['a', 'b']).result).body).toEqual({ acquired: false, blocked: [{ name: 'a', holders: [], queueLength: 0, lockDelayRemainingMs: 3_000 }] });
    const set = h.waitSet(['a', 'b']);
    const { events } = h.expire({ lockDelays: ['a'] });
    expect(resolved(events, set)?.body).toMatchObject({ acquired: true });
  });
});

describe('lock sets: carried holds', () => {
  it('a set that waits does not queue on the locks its session holds; the grant returns them as they are', () => {
    const h = new Harness();
    h.session('s');
    const a = h.hold('a', { sessionId: 's' });
    const b = h.hold('b');
    const set = h.waitSet(['a', 'b'], { sessionId: 's' });
    expect(h.machine.getLock('a').waiters).toEqual([]);
    const { events } = h.release('b', b);
    const holds = (resolved(events, set)!.body as { holds: Array<{ name: string; fencingToken: number }> }).holds;
    expect(holds[0]).toEqual({ name: 'a', fencingToken: a, mode: 'exclusive' });
  });

  it('releasing a carried hold while the set waits ends the set: 409 not_holder naming it', () => {
    const h = new Harness();
    h.session('s');
    const a = h.hold('a', { sessionId: 's' });
    h.hold('b');
    const set = h.waitSet(['a', 'b'], { sessionId: 's' });
    const { events } = h.release('a', a);
    const out = resolved(events, set)!;
    expect(out.status).toBe(409);
    expect(out.body).toMatchObject({ error: { code: 'not_holder', names: ['a'] } });
    expect(h.machine.getLock('b').waiters).toEqual([]);
    expect(h.machine.getSession('s')!.waits).toEqual([]);
  });

  it('a lock the session gets meanwhile (another request) is carried from then on', () => {
    const h = new Harness();
    h.session('s');
    const b = h.hold('b');
    const c = h.hold('c');
    const single = h.wait('b', { sessionId: 's' });
    const set = h.waitSet(['b', 'c'], { sessionId: 's' });
    const first = h.release('b', b);
    const got = resolved(first.events, single)!.body as { fencingToken: number };
    expect(h.machine.getLock('b').waiters).toEqual([]); // the set's place there left the line
    const { events } = h.release('c', c);
    const holds = (resolved(events, set)!.body as { holds: Array<{ name: string; fencingToken: number }> }).holds;
    expect(holds[0]).toEqual({ name: 'b', fencingToken: got.fencingToken, mode: 'exclusive' });
  });

  it('a set left carrying everything is granted in that same command', () => {
    const h = new Harness();
    h.session('s');
    const b = h.hold('b');
    const single = h.wait('b', { sessionId: 's' });
    h.hold('a', { sessionId: 's' });
    const set = h.waitSet(['a', 'b'], { sessionId: 's' });
    const { events } = h.release('b', b);
    expect(resolved(events, single)?.body).toMatchObject({ acquired: true });
    expect(resolved(events, set)?.body).toMatchObject({ acquired: true });
  });
});

describe('lock sets: deadlock', () => {
  it('a session that holds locks and waits for a set is in the wait-for graph', () => {
    const h = new Harness();
    h.session('A');
    h.session('B');
    h.hold('x', { sessionId: 'A' });
    h.hold('y', { sessionId: 'B' });
    h.wait('y', { sessionId: 'A' }); // A waits for B
    const out = outcomeOf(h.acquireSet(['z', 'x'], { sessionId: 'B', waitMs: 1_000, waitId: 'w' }).result);
    expect(out.status).toBe(409);
    expect(out.body).toMatchObject({ error: { code: 'deadlock', cycle: ['x', 'y'] } });
    expect(h.machine.getLock('z').waiters).toEqual([]);
    expect(h.machine.listLocks().locks.map((l) => l.name)).toEqual(['x', 'y']);
  });

  it('clients that take only sets never deadlock, whatever order they name the locks in', () => {
    const h = new Harness();
    for (const s of ['A', 'B', 'C']) h.session(s);
    const first = h.holdSet(['a', 'b'], { sessionId: 'A' });
    const b = h.waitSet(['b', 'a'], { sessionId: 'B' });
    const c = h.waitSet(['a', 'b'], { sessionId: 'C' });
    const out = h.releaseSet(Object.entries(first).map(([name, fencingToken]) => ({ name, fencingToken })));
    expect(resolved(out.events, b)?.body).toMatchObject({ acquired: true });
    expect(resolved(out.events, c)).toBeUndefined();
  });

  it('a set waiting without a session links its locks: a cycle through it is refused', () => {
    const h = new Harness();
    h.session('X');
    h.hold('m', { sessionId: 'X' });
    h.waitSet(['l', 'm'], { ttlMs: 5_000 }); // first on l, waits for X on m
    const out = outcomeOf(h.acquire('l', { sessionId: 'X', waitMs: 1_000 }).result);
    expect(out.body).toMatchObject({ error: { code: 'deadlock', cycle: ['l', 'm'] } });
  });

  it('a set first in line that fits beside shared holders does not wait for them (no false refusal)', () => {
    const h = new Harness();
    for (const s of ['H', 'S', 'Q']) h.session(s);
    h.hold('l', { sessionId: 'H', mode: 'shared' });
    h.hold('m', { sessionId: 'Q' });
    h.waitSet([{ name: 'l', mode: 'shared' }, 'm'], { sessionId: 'S' });
    // H waits on m behind S and for Q; S waits only for Q (it can join H on l): no cycle.
    expect(h.acquire('m', { sessionId: 'H', waitMs: 1_000 }).result.kind).toBe('queued');
  });
});

describe('lock sets: release all or nothing', () => {
  it('one hold that does not hold: 409 not_holder with its name, nothing released', () => {
    const h = new Harness();
    const holds = h.holdSet(['a', 'b']);
    const out = h.done({ type: 'lockSet.release', holds: [{ name: 'a', fencingToken: holds.a }, { name: 'b', fencingToken: holds.b + 100 }] });
    expect(out.status).toBe(409);
    expect(out.body).toMatchObject({ error: { code: 'not_holder', names: ['b'] } });
    expect(holderTokens(h, 'a')).toEqual([holds.a]);
    const ok = h.done({ type: 'lockSet.release', holds: [{ name: 'b', fencingToken: holds.b }, { name: 'a', fencingToken: holds.a }] });
    expect(ok).toEqual({ status: 200, body: { released: ['b', 'a'] } });
  });
});

describe('lock sets: caps, validation, snapshots, idempotency', () => {
  it(`each place counts against the waiters of its lock (${WAITERS_PER_LOCK_MAX}); the set is 429 and queues nowhere`, () => {
    const h = new Harness();
    h.hold('busy');
    for (let i = 0; i < WAITERS_PER_LOCK_MAX; i++) h.wait('busy');
    const out = outcomeOf(h.acquireSet(['free', 'busy'], { waitMs: 1_000 }).result);
    expect(out.status).toBe(429);
    expect(errorCode(out)).toBe('limit_exceeded');
    expect(h.machine.getLock('free').waiters).toEqual([]);
  });

  it('2..64 distinct names; a release names 1..64 distinct holds', () => {
    const h = new Harness();
    const names = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`);
    expect(errorCode(outcomeOf(h.run(acquireSetCmd(['a'])).result))).toBe('invalid_argument');
    expect(errorCode(outcomeOf(h.run(acquireSetCmd(['a', 'a'])).result))).toBe('invalid_argument');
    expect(errorCode(outcomeOf(h.run(acquireSetCmd(names(65))).result))).toBe('invalid_argument');
    expect(outcomeOf(h.run(acquireSetCmd(names(64))).result).body).toMatchObject({ acquired: true });
    expect(errorCode(outcomeOf(h.run(acquireSetCmd([{ name: 'r', mode: 'shared', limit: 2 }, 'q'])).result))).toBe('invalid_argument');
    expect(errorCode(h.done({ type: 'lockSet.release', holds: [] }))).toBe('invalid_argument');
    expect(errorCode(h.done({ type: 'lockSet.release', holds: [{ name: 'a', fencingToken: 1 }, { name: 'a', fencingToken: 1 }] }))).toBe('invalid_argument');
  });

  it('a snapshot with a waiting set restores to a machine that answers the next commands alike', () => {
    const h = new Harness();
    h.session('s');
    const a = h.hold('a');
    h.hold('c', { sessionId: 's' });
    const set = h.waitSet(['a', 'b', 'c'], { sessionId: 's' });
    const copy = new LockMachine();
    copy.restore(h.machine.snapshot(), logIndex(h.index));
    expect(copy.snapshot()).toEqual(h.machine.snapshot());
    expect(copy.allWaits()).toEqual([{ waitId: set, waitMs: 30_000 }]);
    const next = { command: { type: 'lock.release' as const, name: 'a', fencingToken: a }, nowMs: h.nowMs, idempotency: null };
    const original = h.machine.applyProposal(h.index + 1, next);
    expect(copy.applyProposal(h.index + 1, next)).toEqual(original);
    expect(resolved(original.events, set)?.body).toMatchObject({ acquired: true });
  });

  it('a repeat with the same Idempotency-Key joins the waiting set, then replays its grant', () => {
    const h = new Harness();
    const a = h.hold('a');
    const key = { key: 'k1', method: 'POST', path: '/v1/lock-sets/acquire' };
    const cmd = acquireSetCmd(['a', 'b'], { waitMs: 1_000, waitId: 'w1' });
    expect(h.run(cmd, key).result).toEqual({ kind: 'queued', waitId: 'w1' });
    expect(h.run({ ...cmd, waitId: 'w2' }, key).result).toEqual({ kind: 'queued', waitId: 'w1' });
    const granted = resolved(h.release('a', a).events, 'w1')!;
    expect(h.run({ ...cmd, waitId: 'w3' }, key).result).toEqual({ kind: 'done', outcome: granted });
    expect(h.machine.getLock('b').waiters).toEqual([]);
  });
});
