// The checker itself must be able to fail: feed it violating histories.

import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/raft/types.js';
import { logIndex, term } from '../../src/raft/types.js';
import { Checker } from './checker.js';
import { LogRegistry } from './log-registry.js';
import { Prng } from './prng.js';
import { SimStore } from './store.js';

const cmd = (index: number, t: number, id: string): Entry => ({
  index: logIndex(index),
  term: term(t),
  type: 'normal',
  data: new TextEncoder().encode(id),
});

describe('checker', () => {
  it('election safety: two leaders in one term', () => {
    const c = new Checker();
    const reg = new LogRegistry();
    c.observeLeader({ id: 'n1', term: 3, store: new SimStore('n1', reg) });
    expect(() => c.observeLeader({ id: 'n2', term: 3, store: new SimStore('n2', reg) })).toThrow(/election safety/);
  });

  it('state machine safety: two commands applied at one index', () => {
    const c = new Checker();
    c.observeApplied('n1', cmd(1, 1, 'a'), 1, []);
    expect(() => c.observeApplied('n2', cmd(1, 1, 'b'), 1, [])).toThrow(/state machine safety/);
  });

  it('leader completeness: a later-term leader without a committed entry', async () => {
    const c = new Checker();
    const reg = new LogRegistry();
    c.observeApplied('n1', cmd(1, 1, 'a'), 1, []);
    const store = new SimStore('n2', reg);
    await store.write(null, [cmd(1, 2, 'other')], null);
    expect(() => c.observeLeader({ id: 'n2', term: 2, store })).toThrow(/leader completeness/);
  });

  it('log matching: same index and term, different prefixes', async () => {
    const reg = new LogRegistry();
    const a = new SimStore('n1', reg);
    const b = new SimStore('n2', reg);
    await a.write(null, [cmd(1, 1, 'x'), cmd(2, 2, 'y')], null);
    await expect(b.write(null, [cmd(1, 1, 'DIFFERENT'), cmd(2, 2, 'y')], null)).rejects.toThrow(/log matching/);
  });

  it('persisted commit never goes down (the storage twin refuses it)', async () => {
    const s = new SimStore('n1', new LogRegistry());
    await s.write({ term: term(1), vote: null, commit: logIndex(5) }, [1, 2, 3, 4, 5].map((i) => cmd(i, 1, `c${i}`)), null);
    await expect(s.write({ term: term(1), vote: null, commit: logIndex(4) }, [], null)).rejects.toThrow(/commit would move back from 5 to 4/);
  });
});

describe('prng', () => {
  it('is a pure function of the seed, and forks are independent of position', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(new Prng(8).nextU32()).not.toBe(xs[0]);
    const forkBefore = new Prng(7).fork('net').nextU32();
    expect(a.fork('net').nextU32()).toBe(forkBefore);
    expect(a.fork('other').nextU32()).not.toBe(forkBefore);
  });
});
