// Lock sets under random load (model-driver.ts checks every step against the
// reference model and the properties: all or nothing, FIFO without
// overtaking, token order, the starvation bound, real deadlock cycles).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquireIntent, cancelIntent, createIntent, expireSessionIntent, type Intent, releaseIntent, releaseSetIntent, run, type RunStats, setIntent } from './model-driver.js';

const noKey = fc.constant(null);
const fresh = (): RunStats => ({ deadlocks: 0, setsGranted: 0, setsQueued: 0, passedMax: 0 });

describe('lock sets against the reference model', () => {
  it('a stream of single acquires never starves a waiting set: at most the places ahead of it are granted first', () => {
    // Mostly singles that wait (exclusive and shared), some sets, releases to keep the lines moving.
    const load: fc.Arbitrary<Intent> = fc.oneof(
      { arbitrary: acquireIntent({ wait: fc.constant(true), key: noKey }), weight: 10 },
      { arbitrary: setIntent({ wait: fc.constant(true), key: noKey }), weight: 2 },
      { arbitrary: releaseIntent.map((r) => ({ ...r, key: null })), weight: 8 },
      { arbitrary: releaseSetIntent.map((r) => ({ ...r, key: null })), weight: 2 },
      { arbitrary: cancelIntent, weight: 1 },
    );
    const stats = fresh();
    fc.assert(fc.property(fc.array(load, { minLength: 10, maxLength: 80, size: 'max' }), (intents) => { run(intents, stats); }), { numRuns: 150 });
    // The bound was exercised: sets waited while grants passed them, and were granted.
    expect(stats.setsGranted).toBeGreaterThan(20);
    expect(stats.passedMax).toBeGreaterThan(1);
  });

  it('sessions that hold locks and wait for sets: deadlocks refused only for real cycles, carried holds, session ends', () => {
    const load: fc.Arbitrary<Intent> = fc.oneof(
      { arbitrary: acquireIntent({ wait: fc.boolean(), key: noKey }), weight: 5 },
      { arbitrary: setIntent({ wait: fc.constant(true), key: noKey }), weight: 5 },
      { arbitrary: releaseIntent.map((r) => ({ ...r, key: null })), weight: 3 },
      { arbitrary: releaseSetIntent.map((r) => ({ ...r, key: null })), weight: 1 },
      { arbitrary: cancelIntent, weight: 1 },
      { arbitrary: expireSessionIntent, weight: 1 },
      { arbitrary: createIntent, weight: 1 },
    );
    const stats = fresh();
    fc.assert(fc.property(fc.array(load, { minLength: 10, maxLength: 60, size: 'max' }), (intents) => { run(intents, stats); }), { numRuns: 150 });
    expect(stats.deadlocks).toBeGreaterThan(0);
    expect(stats.setsGranted).toBeGreaterThan(0);
  });
});
