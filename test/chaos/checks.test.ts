import { describe, expect, it } from 'vitest';
import { earliestLeaseEnd } from '../../src/chaos/checker/clock-bound.js';
import { checkMembership } from '../../src/chaos/checker/faults.js';
import { checkFencing } from '../../src/chaos/checker/fencing.js';
import { checkHolds } from '../../src/chaos/checker/holds.js';
import { checkRecovery } from '../../src/chaos/checker/recovery.js';
import { runChecks } from '../../src/chaos/checker/index.js';
import { verdictOf } from '../../src/chaos/checker/result.js';
import type { FaultRecord, OpRecord, RegisterWrite } from '../../src/chaos/history.js';
import { acq, busy, read, rel } from './ops.js';

const noClockFaults = earliestLeaseEnd([]);
const write = (lock: string, token: number, accepted: boolean, maxBeforeToken: number, atMs: number): RegisterWrite => ({ atMs, lock, token, process: 'p', accepted, maxBeforeToken });

describe('fencing check', () => {
  const all = (h: OpRecord[], reg: RegisterWrite[]) => checkFencing(h, reg).flatMap((c) => c.violations);

  it('passes increasing tokens and a register that refused a stale one', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 100, 110, 9)];
    const reg = [write('L', 9, true, 0, 120), write('L', 5, false, 9, 130)];
    const [fencing, register] = checkFencing(h, reg);
    expect(all(h, reg)).toEqual([]);
    expect([verdictOf(fencing), verdictOf(register)]).toEqual(['PASS', 'PASS']);
  });

  it('fails when a later grant has a smaller token', () => {
    const h = [acq('a', 'L', 0, 10, 9), acq('b', 'L', 100, 110, 5)];
    expect(all(h, []).join()).toContain('not larger');
  });

  it('fails when the register accepted a stale token', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 100, 110, 9)];
    const reg = [write('L', 9, true, 0, 120), write('L', 5, true, 9, 130)];
    expect(verdictOf(checkFencing(h, reg)[1])).toBe('FAIL');
    expect(all(h, reg).join()).toContain('stale token 5');
  });

  it('fails when one token is granted twice', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'M', 100, 110, 5)];
    expect(all(h, []).join()).toContain('granted twice');
  });

  it('says NOT EXERCISED, never PASS, when nobody wrote with a stale token or when there was one grant', () => {
    const h = [acq('a', 'L', 0, 10, 5), acq('b', 'L', 100, 110, 9)];
    const [fencing, register] = checkFencing(h, [write('L', 5, true, 0, 20), write('L', 9, true, 5, 120)]);
    expect(verdictOf(fencing)).toBe('PASS');
    expect(verdictOf(register)).toBe('NOT EXERCISED');
    expect(verdictOf(checkFencing([acq('a', 'L', 0, 10, 5)], [])[0])).toBe('NOT EXERCISED');
  });
});

describe('hold lifetime checks', () => {
  it('flags a hold gone before its TTL with no release asked (early expiry)', () => {
    const h = [acq('a', 'L', 0, 10, 5, 5000), busy('b', 'L', 1000, 1010, [8]), acq('c', 'L', 900, 1000, 8)];
    const [early, lost] = checkHolds(h, [], noClockFaults);
    expect(early.violations.length).toBe(1);
    expect(lost.violations).toEqual([]);
  });

  it('calls it a lost acknowledgement when a node was killed meanwhile', () => {
    const kill: FaultRecord = { kind: 'kill', shape: 'leader', targets: ['n1'], startMs: 100, endMs: 800 };
    const h = [acq('a', 'L', 0, 10, 5, 5000), read('r', 'L', 1000, 1010, [])];
    const [early, lost] = checkHolds(h, [kill], noClockFaults);
    expect(early.violations).toEqual([]);
    expect(lost.violations.join()).toContain('lost across kill');
  });

  it('allows a hold to end early when a clock ran fast', () => {
    // Node n2 ran at 4x from 0 to 2000ms: a 5000ms TTL can end around 1300ms.
    const fast = earliestLeaseEnd([{ node: 'n2', fromMs: 0, toMs: 2000, rate: 4, jumpMs: 0 }]);
    const h = [acq('a', 'L', 0, 10, 5, 5000), read('r', 'L', 1900, 1910, [])];
    expect(checkHolds(h, [], fast)[0].violations).toEqual([]);
    expect(checkHolds(h, [], noClockFaults)[0].violations.length).toBe(1);
  });

  it('allows for forward clock jumps', () => {
    const jump = earliestLeaseEnd([{ node: 'n1', fromMs: 500, toMs: 600, rate: 1, jumpMs: 4000 }]);
    expect(jump(0, 5000)).toBeLessThanOrEqual(1000);
    expect(noClockFaults(0, 5000)).toBeGreaterThan(4800);
  });

  it('flags an acknowledged release that is undone', () => {
    const h = [acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 30, 5), busy('b', 'L', 40, 50, [5])];
    expect(checkHolds(h, [], noClockFaults)[1].violations.join()).toContain('release of 5 acknowledged');
  });

  it('flags an acknowledged session delete that is undone', () => {
    const s = (op: OpRecord['op'], inv: number, comp: number): OpRecord => ({ process: 'a', op, lock: 's1', invokeMs: inv, completeMs: comp, node: 'n1', result: 'ok', sessionId: 's1', ttlMs: 2000 });
    const h = [s('session.create', 0, 10), s('session.delete', 20, 30), s('session.keepalive', 40, 50)];
    expect(checkHolds(h, [], noClockFaults)[1].violations.join()).toContain('delete acknowledged');
  });

  it('does not flag a hold whose holder asked to release it', () => {
    const h = [acq('a', 'L', 0, 10, 5, 5000), rel('a', 'L', 100, 0, 5, 'unknown'), acq('b', 'L', 200, 210, 9)];
    expect(checkHolds(h, [], noClockFaults).flatMap((r) => r.violations)).toEqual([]);
  });
});

describe('recovery check', () => {
  const fault: FaultRecord = { kind: 'partition', shape: 'halves', targets: ['n1'], startMs: 0, endMs: 1000 };
  const leader = { atMs: 1500, node: 'n2', role: 'leader', leader: 'n2', term: 3, commitIndex: 10 };

  it('passes when a leader and a write follow the heal within the bound', () => {
    const r = checkRecovery([acq('a', 'L', 1200, 1800, 5)], [fault], [leader], 20_000, 5000);
    expect(r.violations).toEqual([]);
    expect(r.recoveriesMs).toEqual([800]);
  });

  it('fails when nothing is acknowledged within the bound', () => {
    const r = checkRecovery([acq('a', 'L', 1200, 9000, 5)], [fault], [leader], 20_000, 5000);
    expect(r.violations.join()).toContain('no write acknowledged');
  });

  it('does not judge a window cut short by the end of the run', () => {
    const r = checkRecovery([], [fault], [], 2000, 5000);
    expect(r.violations).toEqual([]);
    expect(r.notes.length).toBe(1);
  });
});

describe('membership check', () => {
  const replacement = (detail: Record<string, unknown>): FaultRecord => ({ kind: 'membership', shape: 'replace-follower', targets: ['n2', 'n4'], startMs: 100, endMs: 900, detail: { removed: 'ok', added: 'ok', ...detail } });

  it('passes a replacement whose removed node was told, and one recorded before the question was asked', () => {
    const r = checkMembership([replacement({ told: 'ok after 1800ms' }), replacement({})]);
    expect(r.violations).toEqual([]);
    expect(r.checked).toBe('2 member replacements complete within their bound; 1 removed nodes told so while still running');
  });

  it('fails a replacement whose removed node was never told, or that did not complete', () => {
    const r = checkMembership([replacement({ told: 'not told within 10000ms (readyz: 503)' }), replacement({ added: 'timeout' })]);
    expect(r.violations).toEqual([
      'replacing n2 at 100ms did not complete: remove ok, add timeout',
      'n2, removed at 100ms, was not told it was removed: not told within 10000ms (readyz: 503)',
    ]);
  });

  it('says not exercised without a replacement', () => {
    expect(checkMembership([{ kind: 'membership', shape: 'transfer-leadership', targets: ['n1'], startMs: 0, endMs: 1 }]).exercised).toBe(false);
  });
});

describe('all checks together', () => {
  it('pass a clean run and fail a run with a mutual-exclusion violation', () => {
    const records = (history: OpRecord[]) => ({ history, faults: [], clocks: [], leaders: [], register: [], runEndMs: 1000 });
    const clean = runChecks(records([acq('a', 'L', 0, 10, 5), rel('a', 'L', 20, 30, 5)]), { recoveryBoundMs: 5000 });
    expect(clean.flatMap((r) => r.violations)).toEqual([]);
    const dirty = runChecks(records([acq('a', 'L', 0, 10, 5), acq('b', 'L', 20, 30, 7), rel('a', 'L', 40, 50, 5)]), { recoveryBoundMs: 5000 });
    expect(dirty.find((r) => r.name === 'linearizability')!.violations.length).toBe(1);
  });
});

describe('observer streams check', () => {
  const campaign = (term: number): OpRecord => ({ process: 'c', op: 'campaign', lock: 'election/e', invokeMs: 0, completeMs: 10, node: 'n1', result: 'ok', acquired: true, fencingToken: term, sessionId: 's' });
  const ev = (stream: number, term: number | null, atMs: number) => ({ stream, node: 'n1', election: 'e', atMs, term, index: null });

  it('passes terms that move forward within a stream', async () => {
    const { checkObservers } = await import('../../src/chaos/checker/observers.js');
    expect(checkObservers([ev(1, 5, 0), ev(1, null, 1), ev(1, 9, 2), ev(2, 5, 3)], [campaign(5), campaign(9)]).violations).toEqual([]);
  });

  it('fails a stream whose term goes back, and a leader nobody elected', async () => {
    const { checkObservers } = await import('../../src/chaos/checker/observers.js');
    expect(checkObservers([ev(1, 9, 0), ev(1, 5, 1)], [campaign(5), campaign(9)]).violations.join()).toContain('went back');
    expect(checkObservers([ev(1, 7, 0)], [campaign(5)]).violations.join()).toContain('no campaign won');
  });
});
