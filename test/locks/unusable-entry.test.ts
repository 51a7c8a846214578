// A committed entry the lock machine cannot use is a deterministic no-op
// answered 500 internal, never a throw: a throw stops every replica at the same
// index, again at every restart (issue 10).
import { describe, expect, it } from 'vitest';
import { LockMachine } from '../../src/locks/machine.js';
import { Harness, outcomeOf } from './harness.js';

describe('a committed command the lock machine cannot use', () => {
  it('is answered internal, changes nothing it could check, and is reported the same on two replicas', () => {
    const replicas = [new Harness(new LockMachine()), new Harness(new LockMachine())];
    const outs = replicas.map((h) => {
      h.session('s1');
      h.hold('a', { sessionId: 's1' });
      // Break the machine's own bookkeeping the way a bug (or a member's corrupt snapshot) would:
      // the session says it holds `a`, the lock has no hold.
      (h.machine as unknown as { state: { locks: Map<string, unknown> } }).state.locks.delete('a');
      const out = h.run({ type: 'session.delete', sessionId: 's1' });
      return { out, snapshot: h.machine.snapshot(), applied: h.machine.appliedIndex() };
    });
    for (const { out, applied } of outs) {
      expect(outcomeOf(out.result)).toMatchObject({ status: 500, body: { error: { code: 'internal' } } });
      expect(out.events).toEqual([]);
      expect(out.unusable).toMatch(/LockMachine invariant violated/);
      expect(applied).toBe(3);
    }
    expect(outs[0].snapshot).toEqual(outs[1].snapshot);
    // The machine goes on: the next command applies.
    expect(replicas[0].done({ type: 'session.create', sessionId: 's2', ttlMs: 10_000, name: 's2', lockDelayMs: 0 }).status).toBe(201);
  });

  it('an entry that is not a proposal at all is a no-op answered 400', () => {
    const m = new LockMachine();
    const out = m.apply({ index: 1 as never, term: 1 as never, data: new Uint8Array([0xc1, 0xff]) });
    expect(outcomeOf(out.result as never)).toMatchObject({ status: 400 });
    expect(m.appliedIndex()).toBe(1);
  });
});
