// Named limits answer 4xx and change nothing.
import { describe, expect, it } from 'vitest';
import { LockMachine } from '../../src/locks/index.js';
import { HOLDERS_PER_LOCK_MAX, HOLDS_MAX, WAITERS_PER_LOCK_MAX } from '../../src/locks/limits.js';
import { countHolds, type MachineState } from '../../src/locks/state.js';
import { Harness, errorCode, outcomeOf } from './harness.js';

describe('limits', () => {
  it(`a lock queues at most ${WAITERS_PER_LOCK_MAX} waiters; the next is 429 limit_exceeded`, () => {
    const h = new Harness();
    h.hold('busy');
    for (let i = 0; i < WAITERS_PER_LOCK_MAX; i++) h.wait('busy');
    const over = outcomeOf(h.acquire('busy', { waitMs: 1_000 }).result);
    expect(over.status).toBe(429);
    expect(errorCode(over)).toBe('limit_exceeded');
    expect(h.machine.getLock('busy').waiters).toHaveLength(WAITERS_PER_LOCK_MAX);
  });

  it(`at most ${HOLDERS_PER_LOCK_MAX} shared holders; the next one is not granted`, () => {
    const h = new Harness();
    for (let i = 0; i < HOLDERS_PER_LOCK_MAX; i++) h.hold('wide', { mode: 'shared' });
    expect(outcomeOf(h.acquire('wide', { mode: 'shared' }).result).body).toMatchObject({ acquired: false });
    expect(errorCode(outcomeOf(h.acquire('sem', { limit: HOLDERS_PER_LOCK_MAX + 1 }).result))).toBe('invalid_argument');
  });

  // Security audit: a writer token (even one confined to a prefix) could take TTL holds on new names
  // without end, each with a 4 KiB value: 10,000 of them grew every replica by 250-390 MB, so a
  // few hundred thousand took the whole cluster down. Holds now have a cap of their own.
  it(`at most ${HOLDS_MAX} lock holds and election leaderships in all; more is 429 limit_exceeded, and the count survives a snapshot`, () => {
    const h = new Harness();
    h.session('s');
    h.done({ type: 'election.campaign', name: 'job', sessionId: 's', value: 'v', waitMs: 0, waitId: null });
    const first = h.hold('h0', { mode: 'shared' });
    h.hold('h0', { mode: 'shared' });
    for (let i = 1; i < HOLDS_MAX - 2; i++) h.hold(`h${i}`);
    const over = outcomeOf(h.acquire('one-more').result);
    expect(over.status).toBe(429);
    expect(errorCode(over)).toBe('limit_exceeded');
    expect(errorCode(outcomeOf(h.acquire('h0', { mode: 'shared' }).result))).toBe('limit_exceeded');
    expect(errorCode(outcomeOf(h.acquireSet(['set-a', 'set-b']).result))).toBe('limit_exceeded');
    expect(errorCode(h.done({ type: 'election.campaign', name: 'job2', sessionId: 's', value: 'v', waitMs: 0, waitId: null }))).toBe('limit_exceeded');
    expect(h.machine.getLock('one-more').holders).toHaveLength(0);
    // A wait is bounded by WAITS_MAX, not refused here: it takes no hold until it is granted.
    h.wait('h1');

    const restored = new Harness(new LockMachine());
    restored.machine.restore(h.machine.snapshot(), h.index as never);
    restored.index = h.index;
    expect(errorCode(outcomeOf(restored.acquire('one-more').result))).toBe('limit_exceeded');

    // A release makes room again.
    h.release('h0', first);
    expect(outcomeOf(h.acquire('one-more').result).body).toMatchObject({ acquired: true });
    expect(errorCode(outcomeOf(h.acquire('two-more').result))).toBe('limit_exceeded');
  });

  it('the count of holds follows every way a hold starts and ends', () => {
    const h = new Harness();
    const state = (h.machine as unknown as { state: MachineState }).state;
    const agrees = () => expect(state.heldCount).toBe(countHolds(state));
    h.session('s');
    h.session('t');
    const a = h.hold('a', { sessionId: 's' });
    const b = h.hold('b', { ttlMs: 1_000 });
    h.wait('a', { sessionId: 't' });
    h.holdSet(['c', 'd'], { sessionId: 't' });
    h.done({ type: 'election.campaign', name: 'e', sessionId: 's', value: 'v', waitMs: 0, waitId: null });
    h.run({ type: 'election.campaign', name: 'e', sessionId: 't', value: 'w', waitMs: 1_000, waitId: 'cand' });
    h.done({ type: 'election.campaign', name: 'f', sessionId: 't', value: 'v', waitMs: 0, waitId: null });
    agrees();
    expect(state.heldCount).toBe(6);
    h.release('a', a); // t is granted a
    agrees();
    h.expire({ sessionIds: ['s'], holds: [{ name: 'b', fencingToken: b }] }); // t leads e
    agrees();
    const f = h.machine.getElection('f').leader!.term;
    h.done({ type: 'election.resign', name: 'f', term: f });
    agrees();
    h.done({ type: 'session.delete', sessionId: 't' });
    agrees();
    expect(state.heldCount).toBe(0);
  });

  it('a wait id in use is refused, a session id in use is refused', () => {
    const h = new Harness();
    h.hold('a');
    h.wait('a', { waitId: 'same' });
    expect(errorCode(outcomeOf(h.acquire('a', { waitMs: 1_000, waitId: 'same' }).result))).toBe('invalid_argument');
    h.session('s');
    expect(errorCode(h.done({ type: 'session.create', sessionId: 's', ttlMs: 10_000, name: '', lockDelayMs: 0 }))).toBe('invalid_argument');
    expect(h.machine.getLock('a').waiters).toHaveLength(1);
  });

  it('restore refuses a snapshot of an unknown version', () => {
    const m = new LockMachine();
    expect(() => m.restore(new Uint8Array([0x80]), 0 as never)).toThrow(/snapshot version/);
  });
});
