// Two checks on the lifetime of holds, by evidence a client saw:
//
// early-expiry: no hold ended before its TTL as the leader measured it
//   (docs/safety.md #14: failover never shortens a lease). A hold with
//   token t, granted by an acquire that completed at c, ended before the
//   earliest time its lease could have run out (clock-bound.ts) if an op
//   invoked after c and completed before that time saw the lock without t,
//   and nobody had asked to release t (or delete its session) by then.
//
// lost-ack: no acknowledged release or session delete was undone, and no
//   acknowledged acquire vanished across a crash: an op invoked after a
//   release of t was acknowledged must never see t hold again; after a
//   session delete was acknowledged, the session must never answer again.
//   A hold that vanished early while a node was killed is reported here
//   rather than under early-expiry.
import type { FaultRecord, OpRecord } from '../history.js';
import type { EarliestEnd } from './clock-bound.js';
import { result, VIOLATIONS_LISTED_MAX, type CheckResult } from './result.js';

const fmt = (ms: number): string => `${ms.toFixed(0)}ms`;

/** Ops that prove a session alive when they were applied: it cannot end before invoke + ttl. */
function sessionEarliestEnds(history: readonly OpRecord[], earliestEnd: EarliestEnd): Map<string, number> {
  const ttlBySession = new Map<string, number>();
  for (const op of history) if (op.op === 'session.create' && op.result === 'ok' && op.sessionId && op.ttlMs) ttlBySession.set(op.sessionId, op.ttlMs);
  const out = new Map<string, number>();
  for (const op of history) {
    if (op.result !== 'ok' || !op.sessionId) continue;
    if (op.op !== 'session.create' && op.op !== 'session.keepalive' && op.op !== 'session.get') continue;
    const ttl = ttlBySession.get(op.sessionId);
    if (ttl === undefined) continue;
    out.set(op.sessionId, Math.max(out.get(op.sessionId) ?? -Infinity, earliestEnd(op.invokeMs, ttl)));
  }
  return out;
}

/** The earliest real time a hold granted by `grant` could have expired. */
export function holdEarliestEndFn(history: readonly OpRecord[], earliestEnd: EarliestEnd): (grant: OpRecord) => number {
  const sessions = sessionEarliestEnds(history, earliestEnd);
  return (grant) => {
    if (grant.sessionId) return Math.max(sessions.get(grant.sessionId) ?? -Infinity, grant.invokeMs);
    if (grant.ttlMs === undefined) throw new Error(`holds: grant with neither session nor ttl: ${JSON.stringify(grant)}`);
    return earliestEnd(grant.invokeMs, grant.ttlMs);
  };
}

/** Does `e` (ok) show that token t did not hold the lock at its linearization point? */
function showsGone(e: OpRecord, t: number): boolean {
  if (e.result !== 'ok' && !(e.op === 'release' && e.result === 'fail' && e.fencingToken === t)) return false;
  if (e.op === 'release' || e.op === 'resign') return e.result === 'fail' && e.fencingToken === t;
  if (e.op === 'acquire' || e.op === 'campaign') {
    if (e.acquired) return e.fencingToken !== t;
    const holders = e.holders ?? [];
    return holders.length > 0 && !holders.includes(t);
  }
  if (e.op === 'read') return !(e.holders ?? []).includes(t);
  return false;
}

function showsHeld(e: OpRecord, t: number): boolean {
  if (e.result !== 'ok') return false;
  if ((e.op === 'acquire' || e.op === 'campaign') && !e.acquired) return (e.holders ?? []).includes(t);
  if (e.op === 'read') return (e.holders ?? []).includes(t);
  return false;
}

export function checkHolds(history: readonly OpRecord[], faults: readonly FaultRecord[], earliestEnd: EarliestEnd): CheckResult[] {
  const early: string[] = [];
  const lost: string[] = [];
  const holdEnd = holdEarliestEndFn(history, earliestEnd);
  const byLock = new Map<string, OpRecord[]>();
  for (const op of history) {
    if (op.op.startsWith('session') || op.op === 'register.write') continue;
    if (!byLock.has(op.lock)) byLock.set(op.lock, []);
    byLock.get(op.lock)!.push(op);
  }
  const sessionDeleteInvokes = new Map<string, number>();
  for (const op of history) {
    if (op.op === 'session.delete' && op.sessionId) sessionDeleteInvokes.set(op.sessionId, Math.min(sessionDeleteInvokes.get(op.sessionId) ?? Infinity, op.invokeMs));
  }
  const crashes = faults.filter((f) => f.kind === 'kill' || f.kind === 'membership');
  let grantsChecked = 0;
  for (const unsorted of byLock.values()) {
    const ops = [...unsorted].sort((a, b) => a.invokeMs - b.invokeMs);
    // Index by token: releases of it, and ops that saw it hold.
    const releasesOf = new Map<number, OpRecord[]>();
    const seenHeld = new Map<number, OpRecord[]>();
    for (const op of ops) {
      if ((op.op === 'release' || op.op === 'resign') && op.fencingToken !== undefined) {
        if (!releasesOf.has(op.fencingToken)) releasesOf.set(op.fencingToken, []);
        releasesOf.get(op.fencingToken)!.push(op);
      }
      for (const t of op.result === 'ok' ? (op.holders ?? []) : []) {
        if (!seenHeld.has(t)) seenHeld.set(t, []);
        seenHeld.get(t)!.push(op);
      }
    }
    for (const g of ops) {
      if (!((g.op === 'acquire' || g.op === 'campaign') && g.result === 'ok' && g.acquired)) continue;
      const t = g.fencingToken!;
      grantsChecked += 1;
      const endBound = holdEnd(g);
      const releases = releasesOf.get(t) ?? [];
      const deleteInvoke = g.sessionId ? (sessionDeleteInvokes.get(g.sessionId) ?? Infinity) : Infinity;
      // Evidence ops were invoked after the grant completed and completed before the bound: a window of the invocation order.
      for (let k = firstInvokedAfter(ops, g.completeMs); k < ops.length && ops[k].invokeMs < endBound; k++) {
        const e = ops[k];
        if (e.completeMs >= endBound || !showsGone(e, t)) continue;
        const releaseInvoke = Math.min(Infinity, ...releases.filter((r) => r !== e).map((r) => r.invokeMs));
        if (e.completeMs >= releaseInvoke || e.completeMs >= deleteInvoke) continue;
        const crash = crashes.find((f) => f.startMs < e.completeMs && f.endMs > g.invokeMs);
        const line =
          `${g.lock}: hold ${t} (${g.process}, granted ${fmt(g.completeMs)}, cannot end before ${fmt(endBound)}) was gone for ` +
          `${e.process} ${e.op} [${fmt(e.invokeMs)}..${fmt(e.completeMs)}] with no release asked`;
        (crash ? lost : early).push(crash ? `${line}; acknowledged acquire lost across ${crash.kind} ${crash.shape} of ${crash.targets.join(',')}` : line);
        break;
      }
      // Lost release: after an acknowledged release of t, nobody may see t hold.
      for (const r of releases) {
        if (r.result !== 'ok') continue;
        const e = (seenHeld.get(t) ?? []).find((x) => x.invokeMs > r.completeMs && showsHeld(x, t));
        if (e) lost.push(`${g.lock}: release of ${t} acknowledged at ${fmt(r.completeMs)} (${r.process}) but ${e.process} ${e.op} at ${fmt(e.invokeMs)} saw ${t} hold`);
      }
    }
  }
  // Lost session delete: an acknowledged delete is final.
  let deletesChecked = 0;
  for (const d of history) {
    if (d.op !== 'session.delete' || d.result !== 'ok' || !d.sessionId) continue;
    deletesChecked += 1;
    const e = history.find(
      (x) => x.invokeMs > d.completeMs && x.sessionId === d.sessionId && x.result === 'ok' && (x.op === 'session.keepalive' || x.op === 'session.get'),
    );
    if (e) lost.push(`session ${d.sessionId} delete acknowledged at ${fmt(d.completeMs)} but ${e.process} ${e.op} at ${fmt(e.invokeMs)} found it alive`);
  }
  return [
    result('early-expiry', `${grantsChecked} holds`, early.slice(0, VIOLATIONS_LISTED_MAX), [], { exercised: grantsChecked > 0 }),
    result('lost-ack', `${grantsChecked} acquires, releases of them, ${deletesChecked} session deletes`, lost.slice(0, VIOLATIONS_LISTED_MAX), [], {
      exercised: grantsChecked + deletesChecked > 0,
    }),
  ];
}

/** Index of the first op (sorted by invocation) invoked strictly after `ms`. */
function firstInvokedAfter(ops: readonly OpRecord[], ms: number): number {
  let lo = 0;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ops[mid].invokeMs <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
