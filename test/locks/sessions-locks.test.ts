// Readable examples of the contract's session and lock rules
// (docs/http-api.md, "Sessions" and "Locks").
import { describe, expect, it } from 'vitest';
import { decodeValue } from '../../src/locks/codec.js';
import { Harness, errorCode, holderTokens, outcomeOf, resolved } from './harness.js';

describe('sessions', () => {
  it('create answers 201 with the session, GET shows it at full TTL without a leader clock', () => {
    const h = new Harness();
    const out = h.done({ type: 'session.create', sessionId: 's1', ttlMs: 15_000, name: 'worker', lockDelayMs: 2_000 });
    expect(out).toEqual({ status: 201, body: { sessionId: 's1', ttlMs: 15_000, lockDelayMs: 2_000, name: 'worker' } });
    expect(h.machine.getSession('s1')).toEqual({
      sessionId: 's1', name: 'worker', ttlMs: 15_000, lockDelayMs: 2_000, remainingMs: 15_000, holds: [], waits: [],
    });
  });

  it('refuses a TTL out of range and changes nothing', () => {
    const h = new Harness();
    const out = h.done({ type: 'session.create', sessionId: 's1', ttlMs: 999, name: '', lockDelayMs: 0 });
    expect(out.status).toBe(400);
    expect(errorCode(out)).toBe('invalid_argument');
    expect(h.machine.getSession('s1')).toBeNull();
  });

  it('unknown session is 404 session_not_found for delete, acquire and campaign', () => {
    const h = new Harness();
    expect(errorCode(h.done({ type: 'session.delete', sessionId: 'nope' }))).toBe('session_not_found');
    expect(outcomeOf(h.acquire('a', { sessionId: 'nope' }).result).status).toBe(404);
    expect(errorCode(h.done({ type: 'election.campaign', name: 'e', sessionId: 'nope', value: 'v', waitMs: 0, waitId: null }))).toBe(
      'session_not_found',
    );
  });

  it('delete releases holds without lock-delay and grants the next waiter in the same command', () => {
    const h = new Harness();
    h.session('s1', { lockDelayMs: 5_000 });
    h.session('s2');
    const token = h.hold('a', { sessionId: 's1' });
    const waitId = h.wait('a', { sessionId: 's2' });
    const { result, events } = h.run({ type: 'session.delete', sessionId: 's1' });
    expect(outcomeOf(result)).toEqual({ status: 200, body: { sessionId: 's1', released: [{ name: 'a', fencingToken: token }] } });
    const granted = resolved(events, waitId);
    expect(granted?.body).toMatchObject({ acquired: true, name: 'a', sessionId: 's2' });
    expect(h.machine.getLock('a').lockDelayRemainingMs).toBeUndefined();
  });

  it('expiry releases holds, resolves the session waits with 404, and starts lock-delay', () => {
    const h = new Harness();
    h.session('s1', { lockDelayMs: 3_000 });
    h.session('s2');
    h.hold('a', { sessionId: 's1' });
    h.hold('b', { sessionId: 's2' });
    const waitId = h.wait('b', { sessionId: 's1' });
    const { events } = h.expire({ sessionIds: ['s1'] });
    expect(resolved(events, waitId)).toMatchObject({ status: 404, body: { error: { code: 'session_not_found' } } });
    expect(events.map((e) => e.type)).toEqual(['session.ended', 'dequeued', 'wait.resolved', 'expired', 'lockDelay.started']);
    expect(h.machine.getLock('a')).toMatchObject({ holders: [], lockDelayRemainingMs: 3_000 });
    expect(h.machine.getLock('b').waiters).toEqual([]);
    expect(h.machine.getSession('s1')).toBeNull();
  });

  it('a session ending with two waits on one lock resolves both with 404 (found by the model test)', () => {
    const h = new Harness();
    h.session('s1');
    h.hold('c');
    const w1 = h.wait('c', { sessionId: 's1' });
    const w2 = h.wait('c', { sessionId: 's1' });
    const { events } = h.run({ type: 'session.delete', sessionId: 's1' });
    expect([resolved(events, w1)?.status, resolved(events, w2)?.status]).toEqual([404, 404]);
    expect(h.machine.getLock('c').waiters).toEqual([]);
  });

  it('GET session lists holds (locks and elections) and waits', () => {
    const h = new Harness();
    h.session('s1');
    h.session('s2');
    const ta = h.hold('a', { sessionId: 's1' });
    h.hold('b', { sessionId: 's2' });
    h.wait('b', { sessionId: 's1' });
    const term = (outcomeOf(h.run({ type: 'election.campaign', name: 'e', sessionId: 's1', value: 'x', waitMs: 0, waitId: null }).result)
      .body as { term: number }).term;
    expect(h.machine.getSession('s1')).toMatchObject({
      holds: [{ kind: 'lock', name: 'a', fencingToken: ta }, { kind: 'election', name: 'e', fencingToken: term }],
      waits: ['b'],
    });
  });

  it('lists sessions in id order with a cursor', () => {
    const h = new Harness();
    for (const id of ['c', 'a', 'b']) h.session(id);
    const first = h.machine.listSessions(2);
    expect(first.sessions.map((s) => s.sessionId)).toEqual(['a', 'b']);
    expect(first.next).toBe('b');
    const second = h.machine.listSessions(2, first.next);
    expect(second.sessions.map((s) => s.sessionId)).toEqual(['c']);
    expect(second.next).toBeUndefined();
  });
});

describe('locks', () => {
  it('a free lock reads as free', () => {
    const h = new Harness();
    expect(h.machine.getLock('free')).toEqual({ name: 'free', mode: null, limit: 1, holders: [], waiters: [] });
  });

  it('TTL hold answers expiresInMs and can be extended; a session hold cannot', () => {
    const h = new Harness();
    h.session('s1');
    const out = outcomeOf(h.acquire('t', { ttlMs: 4_000, owner: 'me', value: 'v' }).result);
    expect(out.body).toEqual({ acquired: true, name: 't', fencingToken: h.index, mode: 'exclusive', expiresInMs: 4_000 });
    const token = (out.body as { fencingToken: number }).fencingToken;
    const ext = h.run({ type: 'lock.extend', name: 't', fencingToken: token, ttlMs: 9_000 });
    expect(outcomeOf(ext.result)).toEqual({ status: 200, body: { expiresInMs: 9_000 } });
    expect(ext.events).toEqual([{ type: 'extended', index: h.index, name: 't', fencingToken: token, ttlMs: 9_000 }]);
    expect(outcomeOf(h.run({ type: 'lock.extend', name: 't', fencingToken: token, ttlMs: null }).result).body).toEqual({ expiresInMs: 9_000 });
    const st = h.hold('s', { sessionId: 's1' });
    expect(errorCode(h.done({ type: 'lock.extend', name: 's', fencingToken: st, ttlMs: null }))).toBe('invalid_argument');
    expect(errorCode(h.done({ type: 'lock.extend', name: 't', fencingToken: token + 100, ttlMs: null }))).toBe('not_holder');
  });

  it('exactly one of sessionId and ttlMs', () => {
    const h = new Harness();
    h.session('s1');
    const both = h.done({ ...acquire('a'), sessionId: 's1', ttlMs: 5_000 });
    const neither = h.done({ ...acquire('a'), sessionId: null, ttlMs: null });
    expect([errorCode(both), errorCode(neither)]).toEqual(['invalid_argument', 'invalid_argument']);
    expect(h.machine.getLock('a').holders).toEqual([]);
  });

  it('an acquire by a session that already holds returns the same hold', () => {
    const h = new Harness();
    h.session('s1');
    const token = h.hold('a', { sessionId: 's1' });
    expect(h.hold('a', { sessionId: 's1' })).toBe(token);
    expect(h.machine.getLock('a').holders).toHaveLength(1);
  });

  it('try-once on a held lock answers acquired:false with holders and queue length', () => {
    const h = new Harness();
    h.session('s1');
    h.session('s2');
    const token = h.hold('a', { sessionId: 's1', owner: 'alice' });
    expect(outcomeOf(h.acquire('a', { sessionId: 's2' }).result).body).toEqual({
      acquired: false, name: 'a', holders: [{ fencingToken: token, mode: 'exclusive', sessionId: 's1', owner: 'alice' }], queueLength: 0,
    });
  });

  it('release by a non-holder token is 409 not_holder; release by the holder grants the next waiter', () => {
    const h = new Harness();
    const token = h.hold('a');
    const waitId = h.wait('a');
    expect(errorCode(outcomeOf(h.release('a', token + 1).result))).toBe('not_holder');
    const { result, events } = h.release('a', token);
    expect(outcomeOf(result)).toEqual({ status: 200, body: { released: true } });
    expect(events.map((e) => e.type)).toEqual(['released', 'dequeued', 'acquired', 'wait.resolved']);
    expect(resolved(events, waitId)?.body).toEqual({ acquired: true, name: 'a', fencingToken: h.index, mode: 'exclusive', expiresInMs: 5_000 });
    expect(h.machine.checkFencing('a', token)).toEqual({ valid: false });
    expect(h.machine.checkFencing('a', h.index)).toEqual({ valid: true });
  });

  it('semaphore: up to limit holders; a different limit while in force is 409 limit_mismatch; a free lock takes the next limit', () => {
    const h = new Harness();
    const t1 = h.hold('sem', { limit: 2 });
    const t2 = h.hold('sem', { limit: 2 });
    expect(outcomeOf(h.acquire('sem', { limit: 2 }).result).body).toMatchObject({ acquired: false, queueLength: 0 });
    const mismatch = outcomeOf(h.acquire('sem', { limit: 3 }).result);
    expect(mismatch.status).toBe(409);
    expect(mismatch.body).toMatchObject({ error: { code: 'limit_mismatch', limit: 2 } });
    h.release('sem', t1);
    h.release('sem', t2);
    h.hold('sem', { limit: 3 });
    expect(h.machine.getLock('sem').limit).toBe(3);
  });

  it('a lock held in shared mode has no limit in force: a semaphore acquire waits and then sets its limit (not 409 limit_mismatch)', () => {
    // http-api.md "Locks": `limit` is exclusive only; it is in force while the lock has holders or waiters.
    const h = new Harness();
    const reader = h.hold('rw', { mode: 'shared' });
    expect(h.machine.getLock('rw').limit).toBe(1);
    expect(outcomeOf(h.acquire('rw', { limit: 3 }).result).body).toMatchObject({ acquired: false, name: 'rw' });
    const waitId = h.wait('rw', { limit: 3 });
    expect(h.machine.getLock('rw').limit).toBe(3);
    // The queued semaphore request put its limit in force: another limit now conflicts.
    expect(outcomeOf(h.acquire('rw', { limit: 2 }).result).body).toMatchObject({ error: { code: 'limit_mismatch', limit: 3 } });
    const { events } = h.release('rw', reader);
    expect(resolved(events, waitId)?.body).toMatchObject({ acquired: true, mode: 'exclusive' });
    h.hold('rw', { limit: 3 });
    h.hold('rw', { limit: 3 });
    expect(h.machine.getLock('rw')).toMatchObject({ mode: 'exclusive', limit: 3 });
    expect(h.machine.getLock('rw').holders).toHaveLength(3);
  });

  it('shared holders coexist; an exclusive waiter blocks later shared ones (strict FIFO)', () => {
    const h = new Harness();
    const r1 = h.hold('rw', { mode: 'shared' });
    const r2 = h.hold('rw', { mode: 'shared' });
    const writer = h.wait('rw', { mode: 'exclusive' });
    // A shared request behind a queued writer does not jump the queue.
    expect(outcomeOf(h.acquire('rw', { mode: 'shared' }).result).body).toMatchObject({ acquired: false, queueLength: 1 });
    const reader = h.wait('rw', { mode: 'shared' });
    h.release('rw', r1);
    const { events } = h.release('rw', r2);
    expect(resolved(events, writer)?.body).toMatchObject({ acquired: true, mode: 'exclusive' });
    expect(resolved(events, reader)).toBeUndefined();
    expect(h.machine.getLock('rw')).toMatchObject({ mode: 'exclusive', waiters: [{ mode: 'shared' }] });
  });

  it('one release can grant several shared waiters, each with its own strictly increasing token', () => {
    const h = new Harness();
    const w = h.hold('rw');
    const a = h.wait('rw', { mode: 'shared' });
    const b = h.wait('rw', { mode: 'shared' });
    const c = h.wait('rw', { mode: 'exclusive' });
    const { events } = h.release('rw', w);
    const ta = (resolved(events, a)?.body as { fencingToken: number }).fencingToken;
    const tb = (resolved(events, b)?.body as { fencingToken: number }).fencingToken;
    expect(ta).toBe(h.index);
    expect(tb).toBe(h.index + 1);
    expect(resolved(events, c)).toBeUndefined();
    // The next grant, at a later index, still exceeds both.
    const d = h.hold('other');
    expect(d).toBeGreaterThan(tb);
  });

  it('cancel of a queued wait resolves acquired:false; cancel of a granted or unknown wait is a no-op', () => {
    const h = new Harness();
    const token = h.hold('a');
    const w1 = h.wait('a');
    const cancel = h.run({ type: 'wait.cancel', waitIds: [w1, 'unknown'], reason: 'timeout' });
    expect(outcomeOf(cancel.result).body).toEqual({ cancelled: 1 });
    expect(resolved(cancel.events, w1)).toEqual({
      status: 200, body: { acquired: false, name: 'a', holders: [{ fencingToken: token, mode: 'exclusive', expiresInMs: 5_000 }], queueLength: 0 },
    });
    const w2 = h.wait('a');
    h.release('a', token);
    const again = h.run({ type: 'wait.cancel', waitIds: [w2], reason: 'abandoned' });
    expect(again.events).toEqual([]);
    expect(h.machine.getLock('a').holders).toHaveLength(1);
  });

  it('cancelling an exclusive waiter at the head lets the shared waiters behind it join shared holders', () => {
    const h = new Harness();
    h.hold('rw', { mode: 'shared' });
    const writer = h.wait('rw', { mode: 'exclusive' });
    const reader = h.wait('rw', { mode: 'shared' });
    const { events } = h.run({ type: 'wait.cancel', waitIds: [writer], reason: 'timeout' });
    expect(resolved(events, reader)?.body).toMatchObject({ acquired: true, mode: 'shared' });
    expect(h.machine.getLock('rw').holders).toHaveLength(2);
  });

  it('TTL hold expiry by the leader hands over; a stale expire of a released hold is skipped', () => {
    const h = new Harness();
    const token = h.hold('a', { ttlMs: 2_000 });
    const waitId = h.wait('a');
    const { events } = h.expire({ holds: [{ name: 'a', fencingToken: token }] });
    expect(events[0]).toEqual({ type: 'expired', index: h.index, name: 'a', fencingToken: token, sessionId: null });
    expect(resolved(events, waitId)?.body).toMatchObject({ acquired: true });
    const again = h.expire({ holds: [{ name: 'a', fencingToken: token }] });
    expect(outcomeOf(again.result).body).toEqual({ expired: { sessions: 0, holds: 0, lockDelays: 0 } });
  });

  it('lists locks by prefix in name order', () => {
    const h = new Harness();
    for (const n of ['job:2', 'job:1', 'other', 'job:3']) h.hold(n);
    const page = h.machine.listLocks('job:', 2);
    expect(page.locks.map((l) => l.name)).toEqual(['job:1', 'job:2']);
    expect(h.machine.listLocks('job:', 2, page.next).locks.map((l) => l.name)).toEqual(['job:3']);
  });

  it('validates names, owner and value lengths', () => {
    const h = new Harness();
    for (const name of ['', '-x', 'a b', 'x'.repeat(257)]) expect(errorCode(outcomeOf(h.acquire(name).result))).toBe('invalid_argument');
    expect(errorCode(outcomeOf(h.acquire('a', { owner: 'o'.repeat(257) }).result))).toBe('invalid_argument');
    expect(errorCode(outcomeOf(h.acquire('a', { value: 'v'.repeat(4097) }).result))).toBe('invalid_argument');
    expect(errorCode(outcomeOf(h.acquire('a', { mode: 'shared', limit: 2 }).result))).toBe('invalid_argument');
    expect(holderTokens(h, 'a')).toEqual([]);
  });

  it('an undecodable entry answers 400 and changes nothing', () => {
    const h = new Harness();
    const before = h.machine.snapshot();
    const { result, events } = h.machine.apply({ index: 1 as never, term: 1 as never, data: new Uint8Array([0xc1]) });
    expect(events).toEqual([]);
    expect(errorCode(outcomeOf(result))).toBe('invalid_argument');
    expect(h.machine.appliedIndex()).toBe(1);
    // Only the applied index moved.
    const withoutIndex = (bytes: Uint8Array) => ({ ...(decodeValue(bytes) as Record<string, unknown>), appliedIndex: null });
    expect(withoutIndex(h.machine.snapshot())).toEqual(withoutIndex(before));
  });
});

function acquire(name: string) {
  return { type: 'lock.acquire' as const, name, sessionId: null, ttlMs: null, waitMs: 0, waitId: null, mode: 'exclusive' as const, limit: 1, owner: null, value: null };
}

describe('string limits', () => {
  it('count code points, as the HTTP schema does: 4096 emoji fit a value, 4097 do not', () => {
    const h = new Harness();
    expect(outcomeOf(h.acquire('a', { value: '😀'.repeat(4096) }).result).body).toMatchObject({ acquired: true });
    expect(errorCode(outcomeOf(h.acquire('b', { value: '😀'.repeat(4097) }).result))).toBe('invalid_argument');
  });
});
