// Lock sets in the chaos checks (src/chaos/checker/lock-sets.ts): a set op
// counts lock by lock for linearizability, and its answers are checked for
// all or nothing. Each failing case is a history a broken server could write.
import { describe, expect, it } from 'vitest';
import { runChecks, type RunRecords } from '../../src/chaos/checker/index.js';
import { perLockOps } from '../../src/chaos/checker/lock-sets.js';
import { verdictOf } from '../../src/chaos/checker/result.js';
import type { OpRecord } from '../../src/chaos/history.js';
import { acq, busy, read, rel, setAcq, setBusy, setRel } from './ops.js';

const records = (history: OpRecord[]): RunRecords => ({ history, faults: [], clocks: [], leaders: [], register: [], runEndMs: 1000 });
const check = (history: OpRecord[], name: string) => runChecks(records(history), { recoveryBoundMs: 5000 }).find((r) => r.name === name)!;
const h = (name: string, fencingToken: number) => ({ name, fencingToken });

describe('lock sets in the chaos checks', () => {
  it('pass sets and singles taking turns on the same locks', () => {
    const history = [
      setAcq('s', 0, 10, [h('A', 5), h('B', 6)]),
      busy('x', 'A', 20, 30, [5]),
      setBusy('y', 40, 50, ['B', 'C'], [{ name: 'B', holders: [6] }]),
      setRel('s', 60, 70, [h('A', 5), h('B', 6)]),
      acq('x', 'A', 80, 90, 7),
      rel('x', 'A', 100, 110, 7),
      read('r', 'B', 120, 130, []),
    ];
    const all = runChecks(records(history), { recoveryBoundMs: 5000 });
    expect(all.flatMap((r) => r.violations)).toEqual([]);
    expect(verdictOf(all.find((r) => r.name === 'lock-sets')!)).toBe('PASS');
    expect(all.find((r) => r.name === 'lock-sets')!.checked).toMatch(/^1 sets granted, 1 not granted/);
  });

  it('fail a set answered "not acquired" that was granted on one lock (someone later sees its hold)', () => {
    // The set asked for A and B, B was in its way; a broken server granted A anyway, token 9, told nobody.
    const history = [acq('x', 'B', 0, 10, 5), setBusy('s', 20, 30, ['A', 'B'], [{ name: 'B', holders: [5] }]), busy('y', 'A', 40, 50, [9])];
    expect(check(history, 'linearizability').violations.join()).toMatch(/^A:/);
    // The same history where the set was granted (and said so) passes.
    const told = [history[0], setAcq('s', 20, 30, [h('A', 9)], ['A']), history[2]];
    expect(check(told, 'linearizability').violations).toEqual([]);
  });

  it('fail a granted set whose answer misses a lock, or gives two locks one token', () => {
    expect(check([setAcq('s', 0, 10, [h('A', 5)], ['A', 'B'])], 'lock-sets').violations.join()).toMatch(/granted A \(a set granted in part\)/);
    expect(check([setAcq('s', 0, 10, [h('A', 5), h('B', 5)])], 'lock-sets').violations.join()).toMatch(/one token per lock/);
    expect(check([setBusy('s', 0, 10, ['A', 'B'], [])], 'lock-sets').violations.join()).toMatch(/nothing stood in its way/);
  });

  it('fail a set release that answered ok while a hold stays held', () => {
    const history = [setAcq('s', 0, 10, [h('A', 5), h('B', 6)]), setRel('s', 20, 30, [h('A', 5), h('B', 6)]), read('r', 'B', 40, 50, [6])];
    expect(check(history, 'linearizability').violations.join()).toMatch(/^B:/);
  });

  it('a refused set release: its holds that did not hold are refused releases, the others still held', () => {
    const refused = setRel('s', 20, 30, [h('A', 5), h('B', 6)], 'fail', ['B']);
    expect(perLockOps(refused).map((o) => [o.op, o.lock, o.result, o.fencingToken ?? o.holders])).toEqual([
      ['read', 'A', 'ok', [5]],
      ['release', 'B', 'fail', 6],
    ]);
    // A "nothing was released" answer while A's hold was in fact gone contradicts A's history.
    const history = [acq('x', 'A', 0, 10, 5), rel('x', 'A', 12, 15, 5), refused];
    expect(check(history, 'linearizability').violations.join()).toMatch(/^A:/);
  });

  it('a single refused on a free lock is a violation, unless lock sets wait on that lock', () => {
    const refusedFree = busy('x', 'A', 0, 10, []);
    expect(check([refusedFree], 'linearizability').violations.join()).toMatch(/^A:/);
    expect(check([refusedFree, setBusy('s', 0, 20, ['A', 'B'], [{ name: 'B', holders: [3] }]), acq('y', 'B', 0, 1, 3)], 'linearizability').violations).toEqual([]);
  });

  it('says NOT EXERCISED when no set was granted', () => {
    expect(verdictOf(check([acq('x', 'A', 0, 10, 5)], 'lock-sets'))).toBe('NOT EXERCISED');
  });
});
