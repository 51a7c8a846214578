// Fencing (docs/safety.md #11): every grant's token is unique and
// larger than every token granted before it; per lock, an acquire that
// completed before another was invoked has the smaller token. And the fenced
// register (the protected resource) never accepted a token smaller than one
// it had already accepted, nor a token nobody was granted — a separate check,
// exercised only when a holder whose lease had ended did try to write.
import type { OpRecord, RegisterWrite } from '../history.js';
import { result, type CheckResult } from './result.js';

const isGrant = (op: OpRecord): boolean => (op.op === 'acquire' || op.op === 'campaign') && op.result === 'ok' && op.acquired === true;

export function checkFencing(history: readonly OpRecord[], register: readonly RegisterWrite[]): [fencing: CheckResult, fencedRegister: CheckResult] {
  const violations: string[] = [];
  const grants = history.filter(isGrant);
  // Unique per grant: two distinct holds never share a token. (A session
  // re-acquiring a lock it holds gets the same hold back, so the same token.)
  const owner = new Map<number, OpRecord>();
  for (const g of grants) {
    const t = g.fencingToken!;
    const prev = owner.get(t);
    if (prev && !(prev.lock === g.lock && prev.sessionId !== undefined && prev.sessionId === g.sessionId)) {
      violations.push(`token ${t} granted twice: ${prev.process} on ${prev.lock} and ${g.process} on ${g.lock}`);
    }
    owner.set(t, g);
  }
  // Real-time order: if a completed before b was invoked, a's token < b's token.
  const byLock = new Map<string, OpRecord[]>();
  for (const g of grants) {
    if (!byLock.has(g.lock)) byLock.set(g.lock, []);
    byLock.get(g.lock)!.push(g);
  }
  for (const list of byLock.values()) {
    const byComplete = [...list].sort((a, b) => a.completeMs - b.completeMs);
    const byInvoke = [...list].sort((a, b) => a.invokeMs - b.invokeMs);
    // Sweep: the largest token among grants completed before each invocation.
    let j = 0;
    let maxDone: OpRecord | null = null;
    for (const b of byInvoke) {
      while (j < byComplete.length && byComplete[j].completeMs < b.invokeMs) {
        if (!maxDone || byComplete[j].fencingToken! > maxDone.fencingToken!) maxDone = byComplete[j];
        j++;
      }
      if (maxDone && maxDone.fencingToken! >= b.fencingToken! && maxDone !== b && maxDone.fencingToken !== b.fencingToken) {
        violations.push(
          `${b.lock}: token ${b.fencingToken} (${b.process}, invoked ${b.invokeMs.toFixed(0)}ms) is not larger than token ${maxDone.fencingToken} granted earlier (${maxDone.process}, completed ${maxDone.completeMs.toFixed(0)}ms)`,
        );
      }
    }
  }
  // The register's own log: accepted tokens never go down; refused ones really were stale.
  const registerViolations: string[] = [];
  const maxAccepted = new Map<string, number>();
  const granted = new Set(grants.map((g) => g.fencingToken!));
  let refused = 0;
  let stale = 0;
  for (const w of [...register].sort((a, b) => a.atMs - b.atMs)) {
    const max = maxAccepted.get(w.lock) ?? 0;
    if (w.token < max) stale += 1;
    if (w.accepted) {
      if (w.token < max) registerViolations.push(`register accepted stale token ${w.token} for ${w.lock} after ${max} (${w.process} at ${w.atMs.toFixed(0)}ms)`);
      if (!granted.has(w.token)) registerViolations.push(`register accepted token ${w.token} for ${w.lock} that no acquire was granted`);
      maxAccepted.set(w.lock, Math.max(max, w.token));
    } else {
      refused += 1;
      if (w.token >= max) registerViolations.push(`register refused token ${w.token} for ${w.lock} though its largest was ${max}`);
    }
  }
  return [
    result('fencing', `${grants.length} grants`, violations, [], { exercised: grants.length >= 2 }),
    result(
      'fenced-register',
      stale > 0 ? `${register.length} writes, ${stale} with a stale token (${refused} refused)` : `${register.length} writes; no holder wrote after a newer token was used`,
      registerViolations,
      [],
      { exercised: stale > 0 },
    ),
  ];
}
