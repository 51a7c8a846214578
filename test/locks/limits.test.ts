// Named limits answer 4xx and change nothing.
import { describe, expect, it } from 'vitest';
import { LockMachine } from '../../src/locks/index.js';
import { HOLDERS_PER_LOCK_MAX, WAITERS_PER_LOCK_MAX } from '../../src/locks/limits.js';
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
