// The holders and the FIFO queue of one lock: who fits, granting, removing a
// hold or a queue place. Commands on locks (locks.ts, lock-sets.ts) and
// everything that ends holds or waits (sessions.ts, expiry.ts) go through
// these, so exclusion is checked in one place; handover.ts hands a lock on
// to its waiters.
import { type Applying, assert } from './applying.js';
import { HOLDERS_PER_LOCK_MAX, HOLDS_MAX } from './limits.js';
import type { Outcome } from './commands.js';
import { errorOutcome } from './outcomes.js';
import { type HoldState, limitInForce, type LockState, type LockWaiter, type MachineState, type SessionState, type WaitRef } from './state.js';

export type LockHoldMode = LockWaiter['mode'];

export function lockOf(state: MachineState, name: string): LockState {
  const lock = state.locks.get(name);
  assert(lock !== undefined, `lock ${name} is missing`);
  return lock;
}

export function isFree(lock: LockState | undefined): boolean {
  return lock === undefined || (lock.holders.length === 0 && lock.waiters.length === 0);
}

/** Whether one more holder in `mode` fits beside the current holders (ignoring queue and lock-delay). */
export function fits(lock: LockState, mode: LockHoldMode): boolean {
  if (lock.holders.length === 0) return true;
  if (mode === 'shared') return lock.mode === 'shared' && lock.holders.length < HOLDERS_PER_LOCK_MAX;
  return lock.mode === 'exclusive' && lock.holders.length < lock.limit;
}

/** Whether a new request in `mode` is granted at once: nobody in line, no lock-delay, and it fits. */
export function grantableNow(lock: LockState | undefined, mode: LockHoldMode): boolean {
  return lock === undefined || (lock.lockDelayMs === null && lock.waiters.length === 0 && fits(lock, mode));
}

/** 409 limit_mismatch when an exclusive request's semaphore `limit` differs from the one in force; else null. */
export function limitMismatch(lock: LockState | undefined, name: string, mode: LockHoldMode, limit: number): Outcome | null {
  const inForce = limitInForce(lock);
  if (mode !== 'exclusive' || inForce === null || limit === inForce) return null;
  return errorOutcome('limit_mismatch', `limit ${limit} differs from the limit ${inForce} in force on ${name}`, { name, limit: inForce });
}

/**
 * The lock's record for a new hold or queue place in `mode` with `limit`
 * (after limitMismatch): made if absent. A free lock, or one held or awaited
 * in shared mode only, takes this request's limit.
 */
export function claimLock(state: MachineState, name: string, mode: LockHoldMode, limit: number): LockState {
  let lock = state.locks.get(name);
  if (lock === undefined) {
    lock = { name, mode: null, limit, holders: [], waiters: [], lockDelayMs: null };
    state.locks.set(name, lock);
  } else if (isFree(lock) || (mode === 'exclusive' && limitInForce(lock) === null)) {
    lock.limit = limit;
  }
  return lock;
}

export function findHold(state: MachineState, name: string, fencingToken: number): { lock: LockState; hold: HoldState } | null {
  const lock = state.locks.get(name);
  const hold = lock?.holders.find((h) => h.fencingToken === fencingToken);
  return lock && hold ? { lock, hold } : null;
}

/** The hold a session has on a lock, if any (a session holds a lock at most once). */
export function sessionHold(lock: LockState | undefined, sessionId: string | null): HoldState | undefined {
  return sessionId === null ? undefined : lock?.holders.find((h) => h.sessionId === sessionId);
}

/** 429 when `more` holds granted now would pass HOLDS_MAX (lock holds and election leaderships in all); else null. */
export function holdsFull(state: MachineState, more: number): Outcome | null {
  return state.heldCount + more > HOLDS_MAX ? errorOutcome('limit_exceeded', `at most ${HOLDS_MAX} holds in all (locks and election leaderships)`) : null;
}

export function grant(cx: Applying, lock: LockState, w: Pick<LockWaiter, 'sessionId' | 'ttlMs' | 'mode' | 'owner' | 'value'>): HoldState {
  assert(fits(lock, w.mode) && lock.lockDelayMs === null, `grant on ${lock.name} breaks exclusion`);
  const hold: HoldState = {
    fencingToken: cx.nextToken(),
    mode: w.mode,
    sessionId: w.sessionId,
    ttlMs: w.ttlMs,
    owner: w.owner,
    value: w.value,
  };
  lock.mode = w.mode;
  lock.holders.push(hold);
  cx.state.heldCount += 1;
  if (w.sessionId !== null) cx.state.sessions.get(w.sessionId)!.heldLocks.add(lock.name);
  cx.emit({
    type: 'acquired',
    index: cx.index,
    name: lock.name,
    fencingToken: hold.fencingToken,
    sessionId: hold.sessionId,
    ttlMs: hold.ttlMs,
  });
  return hold;
}

export function removeHold(state: MachineState, lock: LockState, hold: HoldState, session: SessionState | undefined): void {
  const at = lock.holders.indexOf(hold);
  assert(at >= 0, `hold ${hold.fencingToken} not on ${lock.name}`);
  lock.holders.splice(at, 1);
  state.heldCount -= 1;
  if (lock.holders.length === 0) lock.mode = null;
  session?.heldLocks.delete(lock.name);
}

/** Puts a place at the end of the lock's queue; emits `queued`. The wait's record is the caller's. */
export function enqueue(cx: Applying, lock: LockState, waiter: LockWaiter): void {
  lock.waiters.push(waiter);
  cx.state.queuedPlaces += 1;
  cx.emit({ type: 'queued', index: cx.index, name: lock.name, waitId: waiter.waitId, sessionId: waiter.sessionId, waitMs: waiter.waitMs });
}

/** Removes the place at `position` from the queue; emits `dequeued`. The wait's record is the caller's. */
export function removePlace(cx: Applying, lock: LockState, position: number): LockWaiter {
  assert(position >= 0 && position < lock.waiters.length, `no waiter at ${position} on ${lock.name}`);
  const [waiter] = lock.waiters.splice(position, 1);
  cx.state.queuedPlaces -= 1;
  cx.emit({ type: 'dequeued', index: cx.index, name: lock.name, waitId: waiter.waitId, sessionId: waiter.sessionId });
  return waiter;
}

export function placeOf(lock: LockState, waitId: string): number {
  const position = lock.waiters.findIndex((w) => w.waitId === waitId);
  assert(position >= 0, `wait ${waitId} has no place on ${lock.name}`);
  return position;
}

/** Removes a single acquire's waiter at `position` from the queue and the indexes; emits `dequeued`. */
export function takeLockWaiter(cx: Applying, lock: LockState, position: number): LockWaiter {
  const waiter = removePlace(cx, lock, position);
  assert(cx.state.waits.get(waiter.waitId)?.kind === 'lock', `waiter ${waiter.waitId} on ${lock.name} is not a single acquire`);
  cx.state.waits.delete(waiter.waitId);
  if (waiter.sessionId !== null) cx.state.sessions.get(waiter.sessionId)?.waitIds.delete(waiter.waitId);
  return waiter;
}

/** The wait record of a queue place. */
export function waitRefOf(state: MachineState, waiter: LockWaiter): WaitRef {
  const ref = state.waits.get(waiter.waitId);
  assert(ref !== undefined, `waiter ${waiter.waitId} has no wait record`);
  return ref;
}

/** A lock with no holders, waiters or lock-delay is forgotten (a free lock reads as free). */
export function collectLock(state: MachineState, lock: LockState): void {
  if (isFree(lock) && lock.lockDelayMs === null) state.locks.delete(lock.name);
}
