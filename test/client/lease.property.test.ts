// Property (docs/safety.md #18) of LeaseGuard against a tiny model:
// whenever the guard says the lease is held, less than ttl - margin has passed
// since the SEND time of the newest renewal it accepted; renewals sent earlier
// never move the deadline back; and once ended it stays ended. Time moves by
// ordinary advances (timers fire) and by stalls (timers fire late).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaseGuard } from '../../packages/client/src/lease.js';
import { ManualClock } from './fakes.js';

type Op = { kind: 'advance'; ms: number } | { kind: 'stall'; ms: number } | { kind: 'renew'; sentAgoMs: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
  fc.record({ kind: fc.constant('stall' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('renew' as const), sentAgoMs: fc.integer({ min: 0, max: 2500 }) }),
);

describe('LeaseGuard property', () => {
  it('never reports held at or past (newest accepted send + ttl - margin)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1000, max: 5000 }), fc.integer({ min: 0, max: 900 }), fc.array(op, { maxLength: 30 }), async (ttlMs, marginMs, ops) => {
        const clock = new ManualClock();
        await clock.advance(10_000); // so that "sent ago" stays positive
        const guard = new LeaseGuard(clock, ttlMs, marginMs, clock.nowMs(), 'prop');
        let newestAcceptedSendMs = clock.nowMs();
        let endedSeen = false;
        for (const o of ops) {
          if (o.kind === 'advance') await clock.advance(o.ms);
          else if (o.kind === 'stall') clock.stall(o.ms);
          else {
            const sentAtMs = clock.nowMs() - o.sentAgoMs;
            if (guard.renew(sentAtMs)) newestAcceptedSendMs = Math.max(newestAcceptedSendMs, sentAtMs);
          }
          // The timer alone (no check() call) ends the lease once an advance reaches the deadline.
          if (o.kind === 'advance' && clock.nowMs() >= guard.deadline) expect(guard.signal.aborted).toBe(true);
          const held = guard.check();
          if (held) expect(clock.nowMs()).toBeLessThan(newestAcceptedSendMs + ttlMs - marginMs);
          expect(guard.signal.aborted).toBe(!held);
          if (endedSeen) expect(held).toBe(false);
          endedSeen ||= !held;
          // The deadline is exactly the model's (renewals never move it back).
          expect(guard.deadline).toBe(newestAcceptedSendMs + ttlMs - marginMs);
        }
      }),
      { numRuns: 200 },
    );
  });
});
