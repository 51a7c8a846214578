// A harder copy of a real history for the linearizability search: a seeded
// fraction of releases and of refused acquires (answered `acquired: false`)
// lose their answers, as if every attempt had timed out. Each such op may
// then have taken effect at any time after its invocation, or never, which
// is what makes a search explode (issue 9: a 90 s history with 20 % of them
// unknown used to run out of its 2,000,000-configuration budget). The truth
// is unchanged, so the blurred copy must still be linearizable.
import type { OpRecord } from '../history.js';
import { Prng } from '../prng.js';

export function blurOutcomes(history: readonly OpRecord[], fraction: number, seed: number): OpRecord[] {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`blurOutcomes: fraction must be in [0, 1], got ${fraction}`);
  const prng = new Prng(seed);
  return history.map((op) => {
    const refused = op.op === 'acquire' && op.result === 'ok' && op.acquired === false;
    const released = op.op === 'release' && op.result === 'ok';
    if (!(refused || released) || !prng.chance(fraction)) return op;
    // What an op whose every attempt lost its answer records (workload/client.ts): no answer fields.
    const { acquired: _acquired, holders: _holders, index: _index, resolvedLate: _late, ...rest } = op;
    return { ...rest, result: 'unknown', completeMs: Infinity, error: 'blurred' };
  });
}
