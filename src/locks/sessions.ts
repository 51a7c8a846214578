// Session commands: create and delete (http-api.md "Sessions"), and the end
// of a session, which expiry (expiry.ts) shares: its waits resolve, its holds
// are released and its elections pass on, all in the command that ended it.
import { type Applying, assert, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { HoldRef, Outcome } from './commands.js';
import { collectElection, electionOf, promoteCandidate, takeCandidate, vacate } from './elections.js';
import { SESSIONS_MAX } from './limits.js';
import { handOver } from './handover.js';
import { lockOf, placeOf, removeHold, takeLockWaiter } from './lock-queue.js';
import { created, errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import { refusedNames } from './permissions.js';
import { endSetWait, setOf } from './set-wait.js';
import type { MachineState, SessionState } from './state.js';

export const sessionCommands: CommandHandlers<'session.create' | 'session.delete'> = {
  'session.create': (cx, c) => done(createSession(cx, c)),
  'session.delete': (cx, c) => done(deleteSession(cx, c)),
};

function createSession(cx: Applying, c: CommandOf<'session.create'>): Outcome {
  const { sessions } = cx.state;
  if (sessions.has(c.sessionId)) return invalidArgument(`sessionId ${c.sessionId} already exists`);
  if (sessions.size >= SESSIONS_MAX) return errorOutcome('limit_exceeded', `at most ${SESSIONS_MAX} sessions`);
  sessions.set(c.sessionId, {
    sessionId: c.sessionId,
    ttlMs: c.ttlMs,
    lockDelayMs: c.lockDelayMs,
    name: c.name,
    createdBy: cx.tokenId,
    heldLocks: new Set(),
    ledElections: new Set(),
    waitIds: new Set(),
  });
  cx.emit({ type: 'session.created', index: cx.index, sessionId: c.sessionId, ttlMs: c.ttlMs });
  return created({ sessionId: c.sessionId, ttlMs: c.ttlMs, lockDelayMs: c.lockDelayMs, name: c.name });
}

function deleteSession(cx: Applying, c: CommandOf<'session.delete'>): Outcome {
  const session = cx.state.sessions.get(c.sessionId);
  if (!session) return sessionNotFound(c.sessionId);
  // A session id is a capability, but deleting one releases what it holds:
  // like a lock set, that needs the right on every name it holds, leads or
  // waits for — judged here, on the state the delete is applied to, since a
  // check before proposing could not see what the session takes meanwhile.
  if (cx.principal !== null) {
    const refused = refusedNames(cx.principal, { kind: 'write', names: sessionNames(cx.state, session) });
    if (refused === null || refused.length > 0) {
      return errorOutcome('forbidden', `this token may not release what session ${c.sessionId} holds or waits for`, { names: refused ?? [] });
    }
  }
  const released = endSession(cx, session, 'deleted');
  return ok({ sessionId: c.sessionId, released });
}

/** Every name a session holds, leads or waits for, in that order, without repeats. */
export function sessionNames(state: MachineState, session: SessionState): string[] {
  const names = new Set<string>([...session.heldLocks, ...session.ledElections]);
  for (const waitId of session.waitIds) {
    const ref = state.waits.get(waitId);
    assert(ref !== undefined, `session wait ${waitId} is unknown`);
    // A waiting lock set: every name it asked for (its carried holds are held anyway).
    const set = ref.kind === 'set' ? state.lockSets.get(waitId) : undefined;
    for (const name of set ? set.locks.map((e) => e.name) : [ref.name]) names.add(name);
  }
  return [...names];
}

/**
 * Ends a session: it is gone first, so that no grant below can pick it
 * (docs/safety.md #12); then its waits resolve 404, its holds are
 * released (on expiry with lock-delay), and the locks pass to their next
 * waiters in this same command (item 17).
 */
export function endSession(cx: Applying, session: SessionState, reason: 'deleted' | 'expired'): HoldRef[] {
  const { state } = cx;
  state.sessions.delete(session.sessionId);
  cx.emit({ type: 'session.ended', index: cx.index, sessionId: session.sessionId, reason });
  // Remove every wait of the session first, then hand over: a grant loop run
  // between two removals would meet the session's later wait at the head.
  const touchedLocks = new Set<string>();
  for (const waitId of [...session.waitIds]) {
    const ref = state.waits.get(waitId);
    assert(ref !== undefined, `session wait ${waitId} is unknown`);
    session.waitIds.delete(waitId); // the session is no longer in the map, so the takes below cannot reach it
    if (ref.kind === 'set') {
      for (const name of endSetWait(cx, setOf(state, waitId), sessionNotFound(session.sessionId))) touchedLocks.add(name);
      continue;
    }
    if (ref.kind === 'lock') {
      const lock = lockOf(state, ref.name);
      takeLockWaiter(cx, lock, placeOf(lock, waitId));
      touchedLocks.add(ref.name);
    } else {
      const election = electionOf(state, ref.name);
      takeCandidate(cx, election, election.candidates.findIndex((w) => w.waitId === waitId));
      collectElection(state, election);
    }
    cx.resolveWait(waitId, ref, sessionNotFound(session.sessionId));
  }
  handOver(cx, touchedLocks);
  const released: HoldRef[] = [];
  for (const name of [...session.heldLocks]) {
    const lock = lockOf(state, name);
    const hold = lock.holders.find((h) => h.sessionId === session.sessionId);
    assert(hold !== undefined, `session ${session.sessionId} holds ${name} but no hold found`);
    removeHold(state, lock, hold, session);
    released.push({ name, fencingToken: hold.fencingToken });
    cx.emit({
      type: reason === 'expired' ? 'expired' : 'released',
      index: cx.index,
      name,
      fencingToken: hold.fencingToken,
      sessionId: session.sessionId,
    });
    // Chubby's lock-delay: only when the holder vanished (expiry), not when it let go (delete).
    if (reason === 'expired' && session.lockDelayMs > 0) {
      lock.lockDelayMs = Math.max(lock.lockDelayMs ?? 0, session.lockDelayMs);
      cx.emit({ type: 'lockDelay.started', index: cx.index, name, lockDelayMs: session.lockDelayMs });
    }
    handOver(cx, [name]);
  }
  for (const name of [...session.ledElections]) {
    const election = electionOf(state, name);
    assert(election.leader?.sessionId === session.sessionId, `session ${session.sessionId} does not lead ${name}`);
    vacate(state, election);
    promoteCandidate(cx, election);
  }
  assert(session.heldLocks.size === 0 && session.waitIds.size === 0, 'ended session still holds or waits');
  return released;
}
