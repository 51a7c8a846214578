// The endings the leader proposes from its deadlines (leases.ts): waits that
// ran out or were abandoned (`wait.cancel`), and sessions, TTL holds and
// lock-delays that ran out (`expire`). Each item is re-checked here: one
// granted, released or deleted meanwhile is skipped (docs/safety.md #13).
import { type Applying, assert, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { Outcome } from './commands.js';
import { electionOf, takeCandidate } from './elections.js';
import { handOver } from './handover.js';
import { findHold, lockOf, placeOf, removeHold, takeLockWaiter } from './lock-queue.js';
import { ok } from './outcomes.js';
import { endSession } from './sessions.js';
import { blockedBy, blockedViews, setOf, withdrawSet } from './set-wait.js';
import { notAcquiredBody } from './views.js';

export const expiryCommands: CommandHandlers<'wait.cancel' | 'expire'> = {
  'wait.cancel': (cx, c) => done(cancelWaits(cx, c)),
  expire: (cx, c) => done(expire(cx, c)),
};

function cancelWaits(cx: Applying, c: CommandOf<'wait.cancel'>): Outcome {
  let cancelled = 0;
  for (const waitId of c.waitIds) {
    // Granted, resolved or never known: a no-op. Else it answers what it would have at its deadline.
    if (withdrawWait(cx, waitId, null)) cancelled++;
  }
  return ok({ cancelled });
}

/**
 * Takes a queued wait out of its queue and resolves it: with `outcome`, or
 * (null) with what a wait that ran out answers — not acquired / not elected,
 * with the state as it is. The waiters behind it may be granted now. False if
 * the wait is not queued (granted, resolved or never known).
 */
export function withdrawWait(cx: Applying, waitId: string, outcome: Outcome | null): boolean {
  const { state } = cx;
  const ref = state.waits.get(waitId);
  if (!ref) return false;
  if (ref.kind === 'lock') {
    const lock = lockOf(state, ref.name);
    takeLockWaiter(cx, lock, placeOf(lock, waitId));
    cx.resolveWait(waitId, ref, outcome ?? ok(notAcquiredBody(lock.name, lock)));
    // The withdrawn waiter may have blocked the ones behind it (e.g. exclusive ahead of shared).
    handOver(cx, [lock.name]);
  } else if (ref.kind === 'set') {
    const set = setOf(state, waitId);
    // What stood in the way is judged with the set still in line; the views show the lines it leaves.
    const blocked = blockedBy(state, set);
    const left = withdrawSet(cx, set);
    cx.resolveWait(waitId, ref, outcome ?? ok({ acquired: false, blocked: blockedViews(state, blocked) }));
    handOver(cx, left);
  } else {
    const election = electionOf(state, ref.name);
    takeCandidate(cx, election, election.candidates.findIndex((w) => w.waitId === waitId));
    assert(election.leader !== null, `election ${ref.name} with candidates has no leader`);
    cx.resolveWait(waitId, ref, outcome ?? ok({ elected: false, name: election.name, leader: { ...election.leader } }));
  }
  return true;
}

function expire(cx: Applying, c: CommandOf<'expire'>): Outcome {
  const { state } = cx;
  let sessions = 0;
  let holds = 0;
  let lockDelays = 0;
  for (const sessionId of c.sessionIds) {
    const session = state.sessions.get(sessionId);
    if (!session) continue; // deleted or expired meanwhile
    endSession(cx, session, 'expired');
    sessions++;
  }
  for (const ref of c.holds) {
    const found = findHold(state, ref.name, ref.fencingToken);
    if (!found || found.hold.ttlMs === null) continue; // released meanwhile, or a session hold (ends with its session)
    removeHold(state, found.lock, found.hold, undefined);
    cx.emit({ type: 'expired', index: cx.index, name: ref.name, fencingToken: ref.fencingToken, sessionId: null });
    handOver(cx, [ref.name]);
    holds++;
  }
  for (const name of c.lockDelays) {
    const lock = state.locks.get(name);
    if (!lock || lock.lockDelayMs === null) continue;
    lock.lockDelayMs = null;
    cx.emit({ type: 'lockDelay.ended', index: cx.index, name });
    handOver(cx, [name]);
    lockDelays++;
  }
  return ok({ expired: { sessions, holds, lockDelays } });
}
