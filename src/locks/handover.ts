// Handing locks on to their waiters, in the command that freed them: one
// commit per handover, nobody polls (docs/safety.md #17).
//
// One command can free several locks (a set release, a session's end) and
// one grant can unblock other locks (a set granted on A and B moves the lines
// of both), so a handover runs to a fixpoint: the locks the command touched
// are settled in the order they were touched, and every lock a grant touches
// is settled (again) after them. Settling a lock grants its line from the
// head while the head can be granted:
// - a single waiter when it fits beside the holders (a shared waiter behind
//   an exclusive one waits for it);
// - a lock set when it is ready on ALL its locks at once (set-wait.ts); it
//   is then granted on all of them, and those locks are settled in turn.
// A head that cannot be granted stops its line: nobody behind it overtakes.
// So one release can grant several waiters, singles and sets, in the same
// command. Which waiters are granted does not depend on the order: a head
// that can be granted stays grantable while other locks are settled (grants
// elsewhere only add holders to locks it does not wait for), so the fixpoint
// is the same; the order only decides the order of the fencing tokens, and
// it is fixed (insertion order), so every replica grants alike.
import { type Applying, assert } from './applying.js';
import { collectLock, fits, grant, takeLockWaiter, waitRefOf } from './lock-queue.js';
import { ok, sessionNotFound } from './outcomes.js';
import type { LockState } from './state.js';
import { carry, grantSet, placedEntries, setOf, setReady, setsOfSession } from './set-wait.js';
import { acquiredBody } from './views.js';

/** Settles `names` (in order) and every lock a grant touches, until no line can move. */
export function handOver(cx: Applying, names: Iterable<string>): void {
  const pending = new Set<string>(names);
  // A Set visits what is added while it is iterated, and again what is deleted and added back.
  for (const name of pending) {
    pending.delete(name);
    const lock = cx.state.locks.get(name);
    if (lock === undefined) continue;
    settle(cx, lock, pending);
    collectLock(cx.state, lock);
  }
}

function settle(cx: Applying, lock: LockState, pending: Set<string>): void {
  const { sessions } = cx.state;
  while (lock.waiters.length > 0 && lock.lockDelayMs === null) {
    const head = lock.waiters[0];
    const ref = waitRefOf(cx.state, head);
    if (ref.kind === 'set') {
      const set = setOf(cx.state, head.waitId);
      if (!setReady(cx.state, set)) break;
      granted(cx, set.sessionId, grantSet(cx, set), pending);
      continue;
    }
    assert(ref.kind === 'lock', `waiter ${head.waitId} on ${lock.name} is a ${ref.kind} wait`);
    if (head.sessionId !== null) {
      const session = sessions.get(head.sessionId);
      if (!session) {
        // docs/safety.md #12 (etcd #11456): a waiter whose session ended is never granted.
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
    granted(cx, head.sessionId, [lock.name], pending);
  }
}

/**
 * New holds on `names`: those lines may move on (e.g. shared after shared),
 * and the session's other waiting sets now carry these locks — their places
 * there leave the line (a session holds a lock once; waiting for it again
 * would wait for itself). A set left carrying everything is granted now.
 */
function granted(cx: Applying, sessionId: string | null, names: readonly string[], pending: Set<string>): void {
  for (const name of names) pending.add(name);
  if (sessionId === null) return;
  for (const set of setsOfSession(cx.state, sessionId)) {
    const entries = set.locks.filter((e) => !e.carried && names.includes(e.name));
    if (entries.length === 0) continue;
    for (const entry of entries) carry(cx, set, entry);
    const rest = placedEntries(set);
    if (rest.length === 0) granted(cx, sessionId, grantSet(cx, set), pending);
    else for (const entry of rest) pending.add(entry.name);
  }
}
