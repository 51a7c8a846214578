// Did the run do what it was asked to? A fault kind asked for but never
// injected leaves every check silent about it, so the run fails (issue 9:
// a run listed membership faults while not one member was replaced). And the
// membership check is exercised only by member replacements.
import type { FaultKind, FaultRecord } from '../history.js';
import { result, type CheckResult } from './result.js';

/** A membership fault that counts: a member replaced (removed, wiped, a fresh id added). Transfers of leadership are extra. */
const isReplacement = (f: FaultRecord): boolean => f.kind === 'membership' && f.shape === 'replace-follower';

export function checkFaultCoverage(asked: readonly FaultKind[], faults: readonly FaultRecord[]): CheckResult {
  const missing = asked.filter((kind) => !faults.some((f) => (kind === 'membership' ? isReplacement(f) : f.kind === kind)));
  return result(
    'fault-coverage',
    `${asked.length} fault kinds asked for (${asked.join(',') || 'none'}), ${faults.length} faults injected`,
    missing.map((kind) => `fault kind ${kind} was asked for but never injected${kind === 'membership' ? ' (no member replacement)' : ''}: the checks say nothing about it`),
    [],
    { exercised: asked.length > 0 },
  );
}

/**
 * Replacements complete within their bound, and each removed node, still running, learned it was
 * removed (`told`: absent from runs recorded before it was asked).
 */
export function checkMembership(faults: readonly FaultRecord[]): CheckResult {
  const replacements = faults.filter(isReplacement);
  const told = replacements.filter((f) => typeof f.detail?.told === 'string' && f.detail.told.startsWith('ok'));
  const incomplete = replacements
    .filter((f) => f.detail?.removed !== 'ok' || f.detail?.added !== 'ok')
    .map((f) => `replacing ${f.targets[0]} at ${f.startMs.toFixed(0)}ms did not complete: remove ${String(f.detail?.removed)}, add ${String(f.detail?.added ?? 'not tried')}${f.detail?.error ? `; ${String(f.detail.error)}` : ''}`);
  const untold = replacements
    .filter((f) => f.detail?.removed === 'ok' && f.detail?.told !== undefined && !told.includes(f))
    .map((f) => `${f.targets[0]}, removed at ${f.startMs.toFixed(0)}ms, was not told it was removed: ${String(f.detail?.told)}`);
  return result(
    'membership',
    `${replacements.length} member replacements complete within their bound; ${told.length} removed nodes told so while still running`,
    [...incomplete, ...untold],
    [],
    { exercised: replacements.length > 0 },
  );
}
