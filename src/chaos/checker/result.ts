// What one checker reports, and what it means for the run. A check with
// violations FAILS the run; one that could not decide (a search cut short)
// is INCONCLUSIVE and fails the run too — it proved nothing; one that had
// nothing to check (no stale write was ever attempted, no member replaced)
// is NOT EXERCISED: reported as such, never as PASS.
export interface CheckResult {
  name: string;
  /** One line on what was checked, e.g. "412 holds on 4 locks". */
  checked: string;
  violations: string[];
  /** Neither violations nor doubts: things the report should mention (skipped windows). */
  notes: string[];
  /** Parts the check could not decide, e.g. a search over its budget. */
  undecided: string[];
  /** False when there was nothing to check. */
  exercised: boolean;
}

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'NOT EXERCISED';

export const VIOLATIONS_LISTED_MAX = 20;

export function result(
  name: string,
  checked: string,
  violations: string[],
  notes: string[] = [],
  more: { undecided?: string[]; exercised?: boolean } = {},
): CheckResult {
  return { name, checked, violations, notes, undecided: more.undecided ?? [], exercised: more.exercised ?? true };
}

export function verdictOf(r: CheckResult): Verdict {
  if (r.violations.length > 0) return 'FAIL';
  if (r.undecided.length > 0) return 'INCONCLUSIVE';
  return r.exercised ? 'PASS' : 'NOT EXERCISED';
}

/** The run's verdict: a failure wins over an undecided check; NOT EXERCISED checks fail nothing by themselves. */
export function runVerdict(checks: readonly CheckResult[]): 'PASS' | 'FAIL' | 'INCONCLUSIVE' {
  const verdicts = checks.map(verdictOf);
  if (verdicts.includes('FAIL')) return 'FAIL';
  if (verdicts.includes('INCONCLUSIVE')) return 'INCONCLUSIVE';
  return 'PASS';
}

export const passed = (r: CheckResult): boolean => verdictOf(r) === 'PASS' || verdictOf(r) === 'NOT EXERCISED';
