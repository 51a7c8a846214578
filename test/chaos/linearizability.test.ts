import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLinearizable } from '../../src/chaos/checker/linearizability.js';
import type { ModelContext } from '../../src/chaos/checker/lock-model.js';
import type { OpRecord } from '../../src/chaos/history.js';
import { acq, acqUnknown, busy, read, rel } from './ops.js';

function ctx(history: OpRecord[]): ModelContext {
  return {
    knownTokens: new Set(history.filter((o) => o.result === 'ok' && o.acquired).map((o) => o.fencingToken!)),
    earliestEndMs: (op) => op.invokeMs + (op.ttlMs ?? Infinity),
  };
}
const check = (h: OpRecord[]) => checkLinearizable(h, ctx(h));

describe('linearizability of a lock history', () => {
  it('accepts sequential acquire/release pairs with growing tokens', () => {
    const h = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 30, 5), acq('b', 'L', 40, 50, 7), rel('b', 'L', 60, 70, 7)];
    expect(check(h).kind).toBe('ok');
  });

  it('refuses two overlapping ok acquires of the same lock (mutual exclusion)', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 20, 30, 7), rel('a', 'L', 40, 50, 5), rel('b', 'L', 60, 70, 7)];
    const v = check(h);
    expect(v.kind).toBe('violation');
  });

  it('refuses a second grant even when no client saw anything wrong (both released fine)', () => {
    // a holds 5 from 10 to 100; b is granted 7 at 50 and releases at 60: each client is happy.
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 40, 50, 7), rel('b', 'L', 55, 60, 7), rel('a', 'L', 90, 100, 5)];
    expect(check(h).kind).toBe('violation');
  });

  it('accepts a second grant after the first hold could have expired', () => {
    const h = [acq('a', 'L', 0, 10, 5, 1000), acq('b', 'L', 1200, 1210, 7), rel('a', 'L', 1300, 1310, 5, 'fail')];
    expect(check(h).kind).toBe('ok');
  });

  it('refuses an expiry earlier than the TTL allows', () => {
    const h = [acq('a', 'L', 0, 10, 5, 1000), acq('b', 'L', 500, 510, 7)];
    expect(check(h).kind).toBe('violation');
  });

  it('accepts concurrent acquires when they can be ordered around a release', () => {
    // a's release overlaps b's acquire: b may be granted right after the release.
    const h = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 40, 5), acq('b', 'L', 30, 50, 7)];
    expect(check(h).kind).toBe('ok');
  });

  it('refuses tokens that go backwards in linearization order', () => {
    const h = [acq('a', 'L', 0, 10, 9), rel('a', 'L', 20, 30, 9), acq('b', 'L', 40, 50, 7)];
    expect(check(h).kind).toBe('violation');
  });

  it('refuses an acknowledged release that is undone (a later read still sees the holder)', () => {
    const h = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 30, 5), read('r', 'L', 40, 50, [5])];
    expect(check(h).kind).toBe('violation');
  });

  it('refuses "held" answers for a free lock and "free" answers for a held one', () => {
    expect(check([busy('b', 'L', 0, 10, [3])]).kind).toBe('violation');
    expect(check([acq('a', 'L', 0, 10, 5), read('r', 'L', 20, 30, [])]).kind).toBe('violation');
  });

  it('accepts a "held" answer explained by an acquire whose result was lost', () => {
    const h = [acqUnknown('a', 'L', 0), busy('b', 'L', 100, 110, [4])];
    expect(check(h).kind).toBe('ok');
  });

  it('accepts an unknown acquire that never took effect', () => {
    const h = [acqUnknown('a', 'L', 0), acq('b', 'L', 100, 110, 6), rel('b', 'L', 120, 130, 6), read('r', 'L', 140, 150, [])];
    expect(check(h).kind).toBe('ok');
  });

  it('accepts an unknown release that took effect, and one that did not', () => {
    const took = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 0, 5, 'unknown'), acq('b', 'L', 100, 110, 7)];
    expect(check(took).kind).toBe('ok');
    const didNot = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 0, 5, 'unknown'), read('r', 'L', 100, 110, [5])];
    expect(check(didNot).kind).toBe('ok');
  });

  it('refuses a not_holder answer to the holder while its hold must still be in force', () => {
    const h = [acq('a', 'L', 0, 10, 5, 10_000), rel('a', 'L', 20, 30, 5, 'fail')];
    expect(check(h).kind).toBe('violation');
  });

  it('explains a violation with the ops it could not order', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 20, 30, 7)];
    const v = check(h);
    if (v.kind !== 'violation') throw new Error('expected a violation');
    expect(v.explanation).toContain('held by token 5');
    expect(v.explanation).toContain('got token 7');
  });

  it('accepts histories generated sequentially from the model, and refuses them with a foreign holder', () => {
    // Property: on sequential histories generated from the model itself (no
    // overlap), the checker accepts; swapping in one foreign token makes it refuse.
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (choices) => {
        const h: OpRecord[] = [];
        let t = 0;
        let token = 1;
        for (const releaseNext of choices) {
          h.push(acq('p', 'L', t, t + 5, token));
          t += 10;
          if (releaseNext) h.push(rel('p', 'L', t, t + 5, token));
          else h.push(read('p', 'L', t, t + 5, [token]), rel('p', 'L', t + 10, t + 15, token));
          t += 20;
          token += 2;
        }
        expect(check(h).kind).toBe('ok');
        const bad = h.map((o) => (o.op === 'read' ? { ...o, holders: [1_000_000] } : o));
        const hasRead = h.some((o) => o.op === 'read');
        expect(check(bad).kind).toBe(hasRead ? 'violation' : 'ok');
      }),
      { numRuns: 50 },
    );
  });

  it('handles a long, highly concurrent history within the search budget', () => {
    // 8 clients, 400 ops, each client's acquire overlaps all others': every
    // acquire but the winner's answers "held".
    const h: OpRecord[] = [];
    let token = 1;
    for (let round = 0; round < 50; round++) {
      const t0 = round * 100;
      const winner = round % 8;
      for (let c = 0; c < 8; c++) {
        if (c === winner) h.push(acq(`c${c}`, 'L', t0 + c, t0 + 20, token));
        else h.push(busy(`c${c}`, 'L', t0 + c, t0 + 25 + c, [token]));
      }
      h.push(rel(`c${winner}`, 'L', t0 + 50, t0 + 60, token));
      token += 3;
    }
    expect(check(h).kind).toBe('ok');
  });

  it('orders outcomes learned late (long windows) without exploding the search', () => {
    // 600 sequential ops, plus answers replayed at the end of the run for
    // ops invoked early: each "found it held by [t]" fits only right after t.
    const h: OpRecord[] = [];
    // Reads overlap each hold, and holds may expire (TTL 50ms) before their release: many alternatives at every step.
    for (let k = 0; k < 300; k++) {
      h.push(acq('a', 'L', k * 100, k * 100 + 10, 2 * k + 1, 50), read('r', 'L', k * 100 + 5, k * 100 + 95, []), rel('a', 'L', k * 100 + 20, k * 100 + 90, 2 * k + 1, 'unknown'));
    }
    for (const k of [3, 50, 120]) h.push({ ...busy('b', 'L', k * 100 + 5, 40_000, [2 * k + 1]), resolvedLate: true, index: 10_000 });
    const v = checkLinearizable(h, ctx(h), 5000);
    expect(v.kind).toBe('ok');
  });
});

