// A seeded PRNG for the simulator: xoshiro128** (Blackman & Vigna) seeded
// through splitmix32. Everything random in a run (each node's Raft config
// `random`, the network, the nemesis, the clients) is forked from ONE seed,
// so a run is a pure function of (seed, options) and a failing seed replays
// exactly.

const UINT32_RANGE = 0x1_0000_0000;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

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
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`prng seed must be an integer, got ${seed}`);
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // xoshiro's all-zero state is a fixed point.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
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

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
