// Recovery: after the faults heal, the cluster has a leader and makes
// progress within a stated bound. Fault intervals are merged into busy
// periods; after each, within recoveryBoundMs, some node must report itself
// leader and some write must be invoked and acknowledged. A window cut short
// by the next fault or the end of the run is noted, not judged.
import type { FaultRecord, LeaderObservation, OpRecord } from '../history.js';
import { result, type CheckResult } from './result.js';

const WRITES = new Set(['acquire', 'release', 'session.create', 'session.keepalive', 'session.delete', 'campaign', 'resign']);

export interface RecoveryStats {
  /** Per heal: ms from heal to the first acknowledged write invoked after it. */
  recoveriesMs: number[];
}

export function busyPeriods(faults: readonly FaultRecord[]): Array<{ startMs: number; endMs: number }> {
  const spans = faults.filter((f) => f.endMs > f.startMs || f.kind === 'membership' || f.kind === 'transfer').map((f) => ({ startMs: f.startMs, endMs: f.endMs }));
  spans.sort((a, b) => a.startMs - b.startMs);
  const out: Array<{ startMs: number; endMs: number }> = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.startMs <= last.endMs) last.endMs = Math.max(last.endMs, s.endMs);
    else out.push({ ...s });
  }
  return out;
}

export function checkRecovery(
  history: readonly OpRecord[],
  faults: readonly FaultRecord[],
  leaders: readonly LeaderObservation[],
  runEndMs: number,
  recoveryBoundMs: number,
): CheckResult & RecoveryStats {
  const violations: string[] = [];
  const notes: string[] = [];
  const recoveriesMs: number[] = [];
  const periods = busyPeriods(faults);
  const writes = history.filter((op) => WRITES.has(op.op) && op.result !== 'unknown');
  let judged = 0;
  for (let i = 0; i < periods.length; i++) {
    const healMs = periods[i].endMs;
    if (!Number.isFinite(healMs)) continue;
    const windowEndMs = Math.min(healMs + recoveryBoundMs, periods[i + 1]?.startMs ?? Infinity, runEndMs);
    const progress = writes.filter((op) => op.invokeMs >= healMs && op.completeMs <= windowEndMs).sort((a, b) => a.completeMs - b.completeMs)[0];
    const leader = leaders.find((o) => o.atMs >= healMs && o.atMs <= windowEndMs && o.role === 'leader');
    if (progress) recoveriesMs.push(progress.completeMs - healMs);
    if (windowEndMs < healMs + recoveryBoundMs && (!progress || !leader)) {
      // Cut short by the next fault or the end of the run: no verdict either way.
      notes.push(`heal at ${healMs.toFixed(0)}ms: window cut to ${(windowEndMs - healMs).toFixed(0)}ms before recovery was seen, not judged`);
      continue;
    }
    judged += 1;
    if (!leader) violations.push(`no node reported itself leader within ${recoveryBoundMs}ms after the heal at ${healMs.toFixed(0)}ms`);
    if (!progress) violations.push(`no write acknowledged within ${recoveryBoundMs}ms after the heal at ${healMs.toFixed(0)}ms`);
  }
  const worst = recoveriesMs.length ? Math.max(...recoveriesMs).toFixed(0) : '-';
  return {
    ...result('recovery', `${judged} heals judged (bound ${recoveryBoundMs}ms, slowest ${worst}ms)`, violations, notes, { exercised: judged > 0 }),
    recoveriesMs,
  };
}
