// Lock sets in the checks. A set op is recorded whole (history.ts
// 'set.acquire' / 'set.release'); the per-lock checks (linearizability,
// fencing, hold lifetimes) see it as one op per lock, at the set op's
// invocation and completion, since holds on different locks are independent:
//
// - a set granted: an acquire granted on each lock with its own token;
// - a set not granted: on each of its locks, a read of the holders at that
//   point — the blocked locks' holders as answered, none on the others (a
//   lock that did not stand in the way was free: first in line and nobody
//   holding it). So a set granted in part while answered "not acquired" —
//   a hold nobody was told of — contradicts a lock's history;
// - a set whose outcome is unknown: an acquire with an unknown outcome on
//   each lock (it may have been granted, with tokens never learned);
// - a set released: a release of each hold (unknown: each may have been);
// - a set release refused (409 not_holder, nothing released): a refused
//   release of each hold it names, and a read showing each other hold
//   still held.
//
// And one check of the answers themselves (all or nothing): a granted set
// answers exactly the locks it asked for, in order, each with its own
// token; a set not granted names at least one lock that stood in its way.
import type { OpRecord } from '../history.js';
import { result, VIOLATIONS_LISTED_MAX, type CheckResult } from './result.js';

const isSetOp = (op: OpRecord): boolean => op.op === 'set.acquire' || op.op === 'set.release';

/** One lock's part of a set op: the set op's times, node and outcome. */
function part(op: OpRecord, lock: string, fields: Partial<OpRecord>): OpRecord {
  const { set: _set, ...rest } = op;
  return { ...rest, lock, acquired: undefined, holders: undefined, fencingToken: undefined, ...fields } as OpRecord;
}

/** A set op as one op per lock (see the header); any other op as it is. */
export function perLockOps(op: OpRecord): OpRecord[] {
  const set = op.set;
  if (!isSetOp(op) || set === undefined) return [op];
  if (op.op === 'set.acquire') {
    if (op.result === 'unknown') return set.names.map((name) => part(op, name, { op: 'acquire' }));
    if (op.result !== 'ok') return [];
    if (op.acquired) return (set.holds ?? []).map((h) => part(op, h.name, { op: 'acquire', acquired: true, fencingToken: h.fencingToken }));
    const blocked = new Map((set.blocked ?? []).map((b) => [b.name, b.holders]));
    return set.names.map((name) => part(op, name, { op: 'read', ttlMs: undefined, holders: blocked.get(name) ?? [] }));
  }
  const holds = set.holds ?? [];
  if (op.result === 'ok' || op.result === 'unknown') return holds.map((h) => part(op, h.name, { op: 'release', fencingToken: h.fencingToken }));
  if (set.notHolding === undefined) return [];
  const refused = new Set(set.notHolding);
  return holds.map((h) =>
    refused.has(h.name)
      ? part(op, h.name, { op: 'release', fencingToken: h.fencingToken })
      : part(op, h.name, { op: 'read', result: 'ok', error: undefined, holders: [h.fencingToken] }),
  );
}

export function expandLockSets(history: readonly OpRecord[]): OpRecord[] {
  return history.flatMap(perLockOps);
}

/** The locks some lock set asked for: there a waiting set can stand in a free lock's line (lock-model.ts). */
export function locksInSets(history: readonly OpRecord[]): Set<string> {
  return new Set(history.flatMap((op) => (op.op === 'set.acquire' ? (op.set?.names ?? []) : [])));
}

/** All or nothing, as answered: see the header. */
export function checkLockSets(history: readonly OpRecord[]): CheckResult {
  const violations: string[] = [];
  let granted = 0;
  let notGranted = 0;
  let unknown = 0;
  for (const op of history) {
    if (op.op !== 'set.acquire' || op.set === undefined) continue;
    const at = `${op.process} at ${op.invokeMs.toFixed(0)}ms asked for ${op.set.names.join(', ')}`;
    if (op.result === 'unknown') unknown += 1;
    if (op.result !== 'ok') continue;
    if (op.acquired) {
      granted += 1;
      const holds = op.set.holds ?? [];
      const names = holds.map((h) => h.name);
      if (names.join('\0') !== op.set.names.join('\0')) violations.push(`${at} and was granted ${names.join(', ') || 'nothing'} (a set granted in part)`);
      const tokens = holds.map((h) => h.fencingToken);
      if (new Set(tokens).size !== tokens.length || tokens.some((t) => !Number.isSafeInteger(t) || t <= 0)) violations.push(`${at} and was granted tokens ${tokens.join(', ')}: one token per lock`);
    } else {
      notGranted += 1;
      const blocked = (op.set.blocked ?? []).map((b) => b.name);
      if (blocked.length === 0) violations.push(`${at}: not granted, yet nothing stood in its way`);
      const strays = blocked.filter((n) => !op.set!.names.includes(n));
      if (strays.length > 0) violations.push(`${at}: not granted, blocked by ${strays.join(', ')}, which it did not ask for`);
    }
  }
  return result(
    'lock-sets',
    `${granted} sets granted, ${notGranted} not granted, ${unknown} unknown: each granted set answered all its locks; every lock's part checked with that lock's history`,
    violations.slice(0, VIOLATIONS_LISTED_MAX),
    [],
    { exercised: granted > 0 },
  );
}
