// Lock commands: acquire (now, or queue FIFO), release and extend
// (http-api.md "Locks"). Holds and queues change only through lock-queue.ts;
// freed locks pass on through handover.ts.
import { type Applying, assert, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { ApplyResult, Outcome } from './commands.js';
import { findDeadlockCycle } from './deadlock.js';
import { handOver } from './handover.js';
import { WAITERS_PER_LOCK_MAX, WAITS_MAX } from './limits.js';
import { claimLock, enqueue, findHold, grant, grantableNow, holdsFull, limitMismatch, removeHold, sessionHold } from './lock-queue.js';
import { errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import { endCarriers } from './set-wait.js';
import { acquiredBody, notAcquiredBody } from './views.js';

export const lockCommands: CommandHandlers<'lock.acquire' | 'lock.release' | 'lock.extend'> = {
  'lock.acquire': acquire,
  'lock.release': (cx, c) => done(release(cx, c)),
  'lock.extend': (cx, c) => done(extend(cx, c)),
};

export function notHolder(name: string, fencingToken: number): Outcome {
  return errorOutcome('not_holder', `fencing token ${fencingToken} does not hold ${name}`);
}

/** 429 when one more queue place on `lock` (with `places` in all) would pass a named cap; else null. */
export function queueFull(cx: Applying, name: string, waitersOnLock: number, places: number): Outcome | null {
  if (waitersOnLock >= WAITERS_PER_LOCK_MAX) return errorOutcome('limit_exceeded', `at most ${WAITERS_PER_LOCK_MAX} waiters per lock (${name})`);
  if (cx.state.queuedPlaces + places > WAITS_MAX) return errorOutcome('limit_exceeded', `at most ${WAITS_MAX} waits in all`);
  return null;
}

export function deadlockOutcome(cycle: string[]): Outcome {
  return errorOutcome('deadlock', `waiting would close a cycle: ${cycle.join(' -> ')}`, { cycle });
}

function acquire(cx: Applying, c: CommandOf<'lock.acquire'>): ApplyResult {
  const { sessions, locks, waits } = cx.state;
  const session = c.sessionId === null ? undefined : sessions.get(c.sessionId);
  if (c.sessionId !== null && !session) return done(sessionNotFound(c.sessionId));
  const existing = sessionHold(locks.get(c.name), c.sessionId);
  if (existing) return done(ok(acquiredBody(c.name, existing)));
  const mismatch = limitMismatch(locks.get(c.name), c.name, c.mode, c.limit);
  if (mismatch) return done(mismatch);
  if (grantableNow(locks.get(c.name), c.mode)) {
    const full = holdsFull(cx.state, 1);
    if (full) return done(full);
    const lock = claimLock(cx.state, c.name, c.mode, c.limit);
    return done(ok(acquiredBody(c.name, grant(cx, lock, c))));
  }
  const lock = locks.get(c.name)!;
  if (c.waitMs === 0) return done(ok(notAcquiredBody(c.name, lock)));
  const waitId = c.waitId!;
  if (waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
  const full = queueFull(cx, c.name, lock.waiters.length, 1);
  if (full) return done(full);
  if (session) {
    const cycle = findDeadlockCycle(cx.state, session.sessionId, [{ name: c.name, mode: c.mode }]);
    if (cycle) return done(deadlockOutcome(cycle));
  }
  claimLock(cx.state, c.name, c.mode, c.limit);
  waits.set(waitId, { kind: 'lock', name: c.name, idempotencyKey: cx.idempotencyKey, tokenId: cx.tokenId });
  session?.waitIds.add(waitId);
  enqueue(cx, lock, {
    waitId,
    sessionId: c.sessionId,
    ttlMs: c.ttlMs,
    mode: c.mode,
    limit: c.limit,
    owner: c.owner,
    value: c.value,
    waitMs: c.waitMs,
  });
  return { kind: 'queued', waitId };
}

/** Releases a hold that holds (emits `released`); returns its session (its lines are the caller's to hand over). */
export function releaseHold(cx: Applying, name: string, fencingToken: number): string | null {
  const found = findHold(cx.state, name, fencingToken);
  assert(found !== null, `release of ${name} token ${fencingToken}, which does not hold`);
  const { lock, hold } = found;
  removeHold(cx.state, lock, hold, hold.sessionId === null ? undefined : cx.state.sessions.get(hold.sessionId));
  cx.emit({ type: 'released', index: cx.index, name, fencingToken: hold.fencingToken, sessionId: hold.sessionId });
  return hold.sessionId;
}

function release(cx: Applying, c: CommandOf<'lock.release'>): Outcome {
  if (!findHold(cx.state, c.name, c.fencingToken)) return notHolder(c.name, c.fencingToken);
  const sessionId = releaseHold(cx, c.name, c.fencingToken);
  // A waiting set of the session that counted on this hold ends (set-wait.ts endCarriers).
  handOver(cx, [c.name, ...endCarriers(cx, sessionId, [c.name])]);
  return ok({ released: true });
}

function extend(cx: Applying, c: CommandOf<'lock.extend'>): Outcome {
  const found = findHold(cx.state, c.name, c.fencingToken);
  if (!found) return notHolder(c.name, c.fencingToken);
  const { hold } = found;
  if (hold.ttlMs === null) return invalidArgument(`fencingToken ${c.fencingToken} is a session hold, which cannot be extended: keep its session alive instead`, 'fencingToken');
  hold.ttlMs = c.ttlMs ?? hold.ttlMs;
  cx.emit({ type: 'extended', index: cx.index, name: c.name, fencingToken: hold.fencingToken, ttlMs: hold.ttlMs });
  return ok({ expiresInMs: hold.ttlMs });
}
