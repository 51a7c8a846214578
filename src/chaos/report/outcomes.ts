// How the report counts operations: by result, with the failures the
// workload asked for counted apart. A `session.get` after the same client's
// acknowledged delete of that session is the lost-ack probe (workload/
// elections.ts): its 404 session_not_found is the expected answer, not a
// failure (a 200 would be the violation, which the lost-ack check reports).
import type { OpRecord, OpResult } from '../history.js';

export type OpOutcome = OpResult | 'expected';
export const OUTCOMES: readonly OpOutcome[] = ['ok', 'expected', 'fail', 'unknown'];

/** Classifies every op of a history (same order). */
export function outcomesOf(history: readonly OpRecord[]): OpOutcome[] {
  // When each client's acknowledged delete of a session completed.
  const deleted = new Map<string, number>();
  for (const op of history) {
    if (op.op === 'session.delete' && op.result === 'ok' && op.sessionId !== undefined) deleted.set(`${op.process} ${op.sessionId}`, op.completeMs);
  }
  return history.map((op) => {
    if (op.op !== 'session.get' || op.result !== 'fail' || op.error !== 'session_not_found' || op.sessionId === undefined) return op.result;
    const at = deleted.get(`${op.process} ${op.sessionId}`);
    return at !== undefined && at <= op.invokeMs ? 'expected' : op.result;
  });
}

export interface OpRow {
  op: string;
  counts: Record<OpOutcome, number>;
}

/** One row per op kind (sorted), counting each outcome. */
export function opTable(history: readonly OpRecord[]): OpRow[] {
  const outcomes = outcomesOf(history);
  const rows = new Map<string, OpRow>();
  history.forEach((op, i) => {
    const row = rows.get(op.op) ?? { op: op.op, counts: { ok: 0, expected: 0, fail: 0, unknown: 0 } };
    row.counts[outcomes[i]] += 1;
    rows.set(op.op, row);
  });
  return [...rows.values()].sort((a, b) => a.op.localeCompare(b.op));
}
