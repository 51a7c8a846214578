// A lock set waiting in line (http-api.md "Lock sets"): whether it can be
// granted now, granting it in one command, and ending its wait. Its places
// are ordinary queue places (lock-queue.ts) carrying the set's waitId; the
// set's record (state.lockSets) says which locks it asked for, in which
// mode, and which of them its session already holds ("carried": no place,
// returned as they are).
//
// All or nothing: a set is granted only when it is ready on every lock at
// once — first in line there (nobody ahead of it), no lock-delay, and it
// fits beside the holders — and then on all of them in the same command.
// Until then it holds none of them, and because its place stays in every
// line, nobody queued behind it overtakes it on any of its locks.
import { type Applying, assert } from './applying.js';
import type { Outcome } from './commands.js';
import { fits, grant, lockOf, placeOf, removePlace, sessionHold } from './lock-queue.js';
import { errorOutcome, ok } from './outcomes.js';
import type { HoldState, LockSetEntry, LockSetWait, LockState, MachineState } from './state.js';
import { blockedView, type BlockedView, setAcquiredBody } from './views.js';

export function setOf(state: MachineState, waitId: string): LockSetWait {
  const set = state.lockSets.get(waitId);
  assert(set !== undefined, `lock set ${waitId} is missing`);
  return set;
}

/** The entries that have a place in a queue (the locks the set still waits for). */
export function placedEntries(set: LockSetWait): LockSetEntry[] {
  return set.locks.filter((e) => !e.carried);
}

/** First in line on `lock` (nothing ahead of its place), no lock-delay, and fits beside the holders. */
function readyOn(lock: LockState, waitId: string, entry: LockSetEntry): boolean {
  return lock.lockDelayMs === null && lock.waiters[0]?.waitId === waitId && fits(lock, entry.mode);
}

function carriedHold(state: MachineState, set: LockSetWait, name: string): HoldState {
  const hold = sessionHold(state.locks.get(name), set.sessionId);
  // Releasing a carried hold ends the set's wait (endCarriers), so it is always there.
  assert(hold !== undefined, `lock set ${set.waitId} carries ${name} but its session does not hold it`);
  return hold;
}

export function setReady(state: MachineState, set: LockSetWait): boolean {
  return placedEntries(set).every((e) => readyOn(lockOf(state, e.name), set.waitId, e));
}

/** The locks that stand in the way of a waiting set, as the not-acquired answer shows them. */
export function blockedBy(state: MachineState, set: LockSetWait): string[] {
  return placedEntries(set)
    .filter((e) => !readyOn(lockOf(state, e.name), set.waitId, e))
    .map((e) => e.name);
}

export function blockedViews(state: MachineState, names: readonly string[]): BlockedView[] {
  return names.map((name) => blockedView(name, state.locks.get(name)));
}

/** The set leaves the state: its record and indexes (its places are the caller's). */
function forgetSet(state: MachineState, set: LockSetWait): void {
  state.lockSets.delete(set.waitId);
  state.waits.delete(set.waitId);
  if (set.sessionId !== null) state.sessions.get(set.sessionId)?.waitIds.delete(set.waitId);
}

/**
 * Grants a ready set in this command: on each lock it waits for (in the
 * order asked) its place leaves the line and it gets a new hold with its own
 * fencing token; carried holds come back as they are. Returns the names of
 * the new holds (their lines may move on, and the session's other sets now
 * carry them: handover.ts).
 */
export function grantSet(cx: Applying, set: LockSetWait): string[] {
  const { state } = cx;
  assert(setReady(state, set), `lock set ${set.waitId} granted while not ready`);
  assert(set.sessionId === null || state.sessions.has(set.sessionId), `lock set ${set.waitId} of an ended session granted`);
  const ref = state.waits.get(set.waitId);
  assert(ref?.kind === 'set', `lock set ${set.waitId} has no wait record`);
  const holds: Array<{ name: string; hold: HoldState }> = [];
  const granted: string[] = [];
  for (const entry of set.locks) {
    if (entry.carried) {
      holds.push({ name: entry.name, hold: carriedHold(state, set, entry.name) });
      continue;
    }
    const lock = lockOf(state, entry.name);
    assert(placeOf(lock, set.waitId) === 0, `lock set ${set.waitId} granted ${entry.name} while not first in its line`);
    removePlace(cx, lock, 0);
    holds.push({ name: entry.name, hold: grant(cx, lock, { ...set, mode: entry.mode }) });
    granted.push(entry.name);
  }
  forgetSet(state, set);
  cx.resolveWait(set.waitId, ref, ok(setAcquiredBody(holds, set.sessionId, set.ttlMs)));
  return granted;
}

/** The set leaves every line it is in and the state (its wait is the caller's to resolve). Returns those locks (hand them over). */
export function withdrawSet(cx: Applying, set: LockSetWait): string[] {
  const names: string[] = [];
  for (const entry of placedEntries(set)) {
    const lock = lockOf(cx.state, entry.name);
    removePlace(cx, lock, placeOf(lock, set.waitId));
    names.push(entry.name);
  }
  forgetSet(cx.state, set);
  return names;
}

/** Ends a set's wait with `outcome`: its places leave their lines. Returns those locks (hand them over). */
export function endSetWait(cx: Applying, set: LockSetWait, outcome: Outcome): string[] {
  const ref = cx.state.waits.get(set.waitId);
  assert(ref?.kind === 'set', `lock set ${set.waitId} has no wait record`);
  const names = withdrawSet(cx, set);
  cx.resolveWait(set.waitId, ref, outcome);
  return names;
}

/** The session's waiting sets, in arrival order. */
export function setsOfSession(state: MachineState, sessionId: string): LockSetWait[] {
  const session = state.sessions.get(sessionId);
  if (session === undefined) return [];
  const sets: LockSetWait[] = [];
  for (const waitId of session.waitIds) {
    const set = state.lockSets.get(waitId);
    if (set !== undefined) sets.push(set);
  }
  return sets;
}

/** The set now carries `name` (its session got it through another request): its place there leaves the line. */
export function carry(cx: Applying, set: LockSetWait, entry: LockSetEntry): void {
  assert(!entry.carried && set.locks.includes(entry), `lock set ${set.waitId} cannot carry ${entry.name}`);
  const lock = lockOf(cx.state, entry.name);
  removePlace(cx, lock, placeOf(lock, set.waitId));
  entry.carried = true;
}

/**
 * The session let go of `names` while some of its sets waited carrying them:
 * those sets counted on holds that are gone and would now have to queue
 * there behind waiters that may wait for this very session. Their waits end
 * at once with 409 not_holder naming the released locks (a release never
 * makes a new wait, so it never closes a wait-for cycle). Returns the locks
 * whose lines they left.
 */
export function endCarriers(cx: Applying, sessionId: string | null, names: readonly string[]): string[] {
  if (sessionId === null) return [];
  const left: string[] = [];
  for (const set of setsOfSession(cx.state, sessionId)) {
    const released = set.locks.filter((e) => e.carried && names.includes(e.name)).map((e) => e.name);
    if (released.length === 0) continue;
    const outcome = errorOutcome('not_holder', `the lock set waited with the session's holds of ${released.join(', ')}, which were released meanwhile`, { names: released });
    left.push(...endSetWait(cx, set, outcome));
  }
  return left;
}
