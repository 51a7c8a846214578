// The holders and the FIFO queue of one lock: who fits, granting, removing a
// hold or a waiter, and handing the lock on to its waiters. Commands on locks
// (locks.ts) and everything that ends holds (sessions.ts, expiry.ts) go
// through these, so exclusion is checked in one place.
import { type Applying, assert } from './applying.js';
import { HOLDERS_PER_LOCK_MAX } from './limits.js';
import { ok, sessionNotFound } from './outcomes.js';
import type { HoldState, LockState, LockWaiter, MachineState, SessionState } from './state.js';
import { acquiredBody } from './views.js';

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

export function findHold(state: MachineState, name: string, fencingToken: number): { lock: LockState; hold: HoldState } | null {
  const lock = state.locks.get(name);
  const hold = lock?.holders.find((h) => h.fencingToken === fencingToken);
  return lock && hold ? { lock, hold } : null;
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

export function removeHold(lock: LockState, hold: HoldState, session: SessionState | undefined): void {
  const at = lock.holders.indexOf(hold);
  assert(at >= 0, `hold ${hold.fencingToken} not on ${lock.name}`);
  lock.holders.splice(at, 1);
  if (lock.holders.length === 0) lock.mode = null;
  session?.heldLocks.delete(lock.name);
}

/** Removes the waiter at `position` from the queue and the indexes; emits `dequeued`. */
export function takeLockWaiter(cx: Applying, lock: LockState, position: number): LockWaiter {
  assert(position >= 0 && position < lock.waiters.length, `no waiter at ${position} on ${lock.name}`);
  const [waiter] = lock.waiters.splice(position, 1);
  cx.state.waits.delete(waiter.waitId);
  if (waiter.sessionId !== null) cx.state.sessions.get(waiter.sessionId)?.waitIds.delete(waiter.waitId);
  cx.emit({ type: 'dequeued', index: cx.index, name: lock.name, waitId: waiter.waitId, sessionId: waiter.sessionId });
  return waiter;
}

/**
 * Grants waiters strictly in arrival order, as many as fit, in the command
 * that freed the lock: one commit per handover, nobody polls (correctness.md
 * item 17). A shared waiter behind an exclusive one waits for it.
 */
export function grantWaiters(cx: Applying, lock: LockState): void {
  const { sessions, waits } = cx.state;
  while (lock.waiters.length > 0 && lock.lockDelayMs === null) {
    const head = lock.waiters[0];
    const ref = waits.get(head.waitId);
    assert(ref !== undefined, `waiter ${head.waitId} has no wait record`);
    if (head.sessionId !== null) {
      const session = sessions.get(head.sessionId);
      if (!session) {
        // correctness.md item 12 (etcd #11456): a waiter whose session ended is never granted.
        takeLockWaiter(cx, lock, 0);
        cx.resolveWait(head.waitId, ref, sessionNotFound(head.sessionId));
        continue;
      }
      const existing = lock.holders.find((h) => h.sessionId === head.sessionId);
      if (existing) {
        // The session got the lock through another request meanwhile: the same hold.
        takeLockWaiter(cx, lock, 0);
        cx.resolveWait(head.waitId, ref, ok(acquiredBody(lock.name, existing)));
        continue;
      }
    }
    if (!fits(lock, head.mode)) break;
    takeLockWaiter(cx, lock, 0);
    const hold = grant(cx, lock, head);
    cx.resolveWait(head.waitId, ref, ok(acquiredBody(lock.name, hold)));
  }
  collectLock(cx.state, lock);
}

/** A lock with no holders, waiters or lock-delay is forgotten (a free lock reads as free). */
export function collectLock(state: MachineState, lock: LockState): void {
  if (isFree(lock) && lock.lockDelayMs === null) state.locks.delete(lock.name);
}
