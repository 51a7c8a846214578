// The one seeded pseudo-random generator of the tree: xoshiro128** (Blackman &
// Vigna) seeded through splitmix32. The Raft core gets its randomness only from
// here (RaftConfig.random), so a seed reproduces a node's election timeouts; the
// simulator (test/sim/prng.ts) and the chaos suite (src/chaos/prng.ts) draw from
// the same generator, so one seed drives a whole run.

/** A stream of uint32s from `seed` (an integer; only its low 32 bits count). */
export function seededUint32(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new Error(`seededUint32: seed must be an integer, got ${seed}`);
  const st = { s: seed | 0 };
  let a = splitmix32(st);
  let b = splitmix32(st);
  let c = splitmix32(st);
  let d = splitmix32(st);
  // xoshiro's all-zero state is a fixed point.
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

/** Floats in [0, 1) from `seed` (a finite number; a fraction is truncated). */
export function seededRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new Error(`seededRandom: seed must be a finite number, got ${seed}`);
  const next = seededUint32(Math.trunc(seed));
  return () => next() / UINT32_RANGE;
}

/** A seed from a node id and the process, for when no seed is configured: nodes of one cluster must not share one. */
export function seedFor(id: string, salt: number): number {
  let h = 2166136261 ^ salt;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

const UINT32_RANGE = 0x1_0000_0000;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
