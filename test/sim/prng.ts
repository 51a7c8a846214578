// The simulator's seeded PRNG: the tree's one generator (src/node/random.ts,
// xoshiro128** seeded through splitmix32) with the draws the simulator needs.
// Everything random in a run (each node's Raft config `random`, the network,
// the nemesis, the clients) is forked from ONE seed, so a run is a pure
// function of (seed, options) and a failing seed replays exactly.
import { seededUint32 } from '../../src/node/random.js';

const UINT32_RANGE = 0x1_0000_0000;

function hashLabel(label: string): number {
  // FNV-1a, enough to give forks with different labels different streams.
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Prng {
  private readonly u32: () => number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`prng seed must be an integer, got ${seed}`);
    this.u32 = seededUint32(seed);
  }

  /** A uint32. */
  nextU32(): number {
    return this.u32();
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / UINT32_RANGE;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`prng.int needs a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('prng.pick from an empty list');
    return items[this.int(items.length)];
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** An independent stream named `label`, derived from this one's seed material (not its position). */
  fork(label: string): Prng {
    return new Prng(Math.imul(this.seed ^ hashLabel(label), 0x2c1b3c6d) ^ hashLabel(label));
  }
}
