// Property: for any sequence of transient failures, a state-changing call
// either returns the first success or gives up within its attempt budget,
// and every attempt of the call carries one and the same Idempotency-Key
// (docs/safety.md #15). A simple model decides the expected outcome.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LockstepError } from '../../packages/client/src/errors.js';
import { apiError, connectionError, fakeFetch, hang, json, ManualClock, settle } from './fakes.js';

type Failure = 'refused' | 'reset' | 'unavailable' | 'no_leader' | 'timeout';
const failure = fc.constantFrom<Failure>('refused', 'reset', 'unavailable', 'no_leader', 'timeout');

describe('retry property', () => {
  it('keyed calls: same key on every attempt; success iff it comes within maxAttempts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(failure, { maxLength: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), async (failures, maxAttempts, endpointCount) => {
        const clock = new ManualClock();
        let n = 0;
        const { fetch, calls } = fakeFetch(clock, (req) => {
          const f = failures[n++];
          switch (f) {
            case undefined:
              return json(200, { released: true });
            case 'refused':
              throw connectionError('ECONNREFUSED');
            case 'reset':
              throw connectionError('ECONNRESET');
            case 'unavailable':
              return apiError(503, 'unavailable');
            case 'no_leader':
              return apiError(503, 'no_leader', {}, { 'retry-after': '0.1' });
            case 'timeout':
              return hang(req);
          }
        });
        const endpoints = Array.from({ length: endpointCount }, (_, i) => `http://n${i + 1}:7001`);
        const client = new Client({ endpoints, fetch, clock, maxAttempts, requestTimeoutMs: 500, totalTimeoutMs: 600_000 });
        let result: unknown;
        let done = false;
        client.release('x', 1).then(
          (r) => ((result = r), (done = true)),
          (e: unknown) => ((result = e), (done = true)),
        );
        for (let i = 0; i < 10_000 && !done; i++) await clock.advance(100);
        await settle();
        expect(done).toBe(true);
        const shouldSucceed = failures.length < maxAttempts;
        if (shouldSucceed) expect(result).toEqual({ released: true });
        else expect(result).toBeInstanceOf(LockstepError);
        expect(calls.length).toBe(Math.min(failures.length + 1, maxAttempts));
        expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
        // Failover: consecutive attempts go to consecutive endpoints.
        calls.forEach((c, i) => {
          if (i > 0) expect(endpoints.indexOf(c.endpoint)).toBe((endpoints.indexOf(calls[0].endpoint) + i) % endpointCount);
        });
      }),
      { numRuns: 60 },
    );
  });
});
