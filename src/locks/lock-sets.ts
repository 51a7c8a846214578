// Lock set commands (http-api.md "Lock sets"): acquire several locks at
// once, all or nothing, waiting in line; release several holds, all or
// nothing.
//
// - A set is granted in one committed command, every lock with its own
//   fencing token (strictly increasing, in the order asked), or not at all.
// - With waitMs > 0 it takes ONE place in the FIFO line of each lock it
//   needs and is granted when it is first in line (and fits beside the
//   holders) on all of them at once (set-wait.ts, handover.ts). Nobody
//   queued behind it overtakes it on any of its locks, so a stream of single
//   acquires cannot starve it: before it, only waiters that were ahead of it
//   when it queued can be granted on its locks.
// - Locks the session already holds come back as they are (same token) and
//   need no place ("carried").
// - While it waits it holds none of its locks; a session that holds other
//   locks and waits for a set is in the wait-for graph (deadlock.ts).
// - waitMs, abandoned requests, session end and lock-delay work as for one
//   lock (expiry.ts, sessions.ts); idempotency keys and snapshots cover sets
//   through the machine's envelope and state.
// - Caps: each place counts as a waiter of its lock (WAITERS_PER_LOCK_MAX)
//   and as one wait in all (WAITS_MAX).
import { type Applying, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { ApplyResult, HoldRef, Outcome } from './commands.js';
import { findDeadlockCycle } from './deadlock.js';
import { handOver } from './handover.js';
import { claimLock, enqueue, findHold, grant, grantableNow, holdsFull, limitMismatch, sessionHold } from './lock-queue.js';
import { deadlockOutcome, queueFull, releaseHold } from './locks.js';
import { errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import { blockedViews, endCarriers } from './set-wait.js';
import type { HoldState, LockSetEntry, MachineState } from './state.js';
import { setAcquiredBody } from './views.js';

export const lockSetCommands: CommandHandlers<'lockSet.acquire' | 'lockSet.release'> = {
  'lockSet.acquire': acquireSet,
  'lockSet.release': (cx, c) => done(releaseSet(cx, c)),
};

function acquireSet(cx: Applying, c: CommandOf<'lockSet.acquire'>): ApplyResult {
  const { state } = cx;
  const { sessions, locks, waits } = state;
  const session = c.sessionId === null ? undefined : sessions.get(c.sessionId);
  if (c.sessionId !== null && !session) return done(sessionNotFound(c.sessionId));
  const entries: LockSetEntry[] = c.locks.map((l) => ({
    name: l.name,
    mode: l.mode,
    limit: l.limit,
    carried: sessionHold(locks.get(l.name), c.sessionId) !== undefined,
  }));
  const needed = entries.filter((e) => !e.carried);
  for (const e of needed) {
    const mismatch = limitMismatch(locks.get(e.name), e.name, e.mode, e.limit);
    if (mismatch) return done(mismatch);
  }
  const blocked = needed.filter((e) => !grantableNow(locks.get(e.name), e.mode)).map((e) => e.name);
  if (blocked.length === 0) {
    const full = holdsFull(state, needed.length);
    if (full) return done(full);
    const holds: Array<{ name: string; hold: HoldState }> = entries.map((e) => ({
      name: e.name,
      hold: e.carried ? sessionHold(locks.get(e.name), c.sessionId)! : grant(cx, claimLock(state, e.name, e.mode, e.limit), { ...c, mode: e.mode }),
    }));
    return done(ok(setAcquiredBody(holds, c.sessionId, c.ttlMs)));
  }
  if (c.waitMs === 0) return done(ok({ acquired: false, blocked: blockedViews(state, blocked) }));
  const waitId = c.waitId!;
  if (waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
  for (const e of needed) {
    const full = queueFull(cx, e.name, locks.get(e.name)?.waiters.length ?? 0, needed.length);
    if (full) return done(full);
  }
  if (session) {
    const cycle = findDeadlockCycle(state, session.sessionId, needed);
    if (cycle) return done(deadlockOutcome(cycle));
  }
  state.lockSets.set(waitId, {
    waitId,
    sessionId: c.sessionId,
    ttlMs: c.ttlMs,
    owner: c.owner,
    value: c.value,
    waitMs: c.waitMs,
    locks: entries,
  });
  waits.set(waitId, { kind: 'set', name: c.locks[0].name, idempotencyKey: cx.idempotencyKey, tokenId: cx.tokenId });
  session?.waitIds.add(waitId);
  for (const e of needed) {
    const lock = claimLock(state, e.name, e.mode, e.limit);
    enqueue(cx, lock, { waitId, sessionId: c.sessionId, ttlMs: c.ttlMs, mode: e.mode, limit: e.limit, owner: c.owner, value: c.value, waitMs: c.waitMs });
  }
  return { kind: 'queued', waitId };
}

/** The 409 not_holder a set release answers when some of its holds do not hold (then nothing is released); null when all hold. */
export function setNotHolding(state: MachineState, holds: HoldRef[]): Outcome | null {
  const missing = holds.filter((h) => !findHold(state, h.name, h.fencingToken));
  if (missing.length === 0) return null;
  const names = missing.map((h) => h.name);
  return errorOutcome('not_holder', `${describe(missing)} ${missing.length === 1 ? 'does' : 'do'} not hold: nothing was released`, { names });
}

/** All or nothing: every named hold must hold, then all are released and their locks handed over together. */
function releaseSet(cx: Applying, c: CommandOf<'lockSet.release'>): Outcome {
  const refused = setNotHolding(cx.state, c.holds);
  if (refused !== null) return refused;
  const namesBySession = new Map<string | null, string[]>();
  for (const h of c.holds) {
    const sessionId = releaseHold(cx, h.name, h.fencingToken);
    namesBySession.set(sessionId, [...(namesBySession.get(sessionId) ?? []), h.name]);
  }
  // Waiting sets that counted on these holds end, then every line moves on at once (one fixpoint).
  const left = [...namesBySession].flatMap(([sessionId, names]) => endCarriers(cx, sessionId, names));
  handOver(cx, [...c.holds.map((h) => h.name), ...left]);
  return ok({ released: c.holds.map((h) => h.name) });
}

function describe(holds: readonly HoldRef[]): string {
  return holds.map((h) => `fencing token ${h.fencingToken} on ${h.name}`).join(', ');
}
