/** What one checker reports. A check with violations fails the run. */
export interface CheckResult {
  name: string;
  /** One line on what was checked, e.g. "412 holds on 4 locks". */
  checked: string;
  violations: string[];
  /** Not violations: things the report should mention (inconclusive searches, skipped windows). */
  notes: string[];
}

export const VIOLATIONS_LISTED_MAX = 20;

export function result(name: string, checked: string, violations: string[], notes: string[] = []): CheckResult {
  return { name, checked, violations, notes };
}

export const passed = (r: CheckResult): boolean => r.violations.length === 0;
