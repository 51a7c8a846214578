// Commands that will surely fail, told from the applied state without
// applying them (issue 11: 1,000 DELETEs of an unknown session wrote 1,000
// log entries). The leader asks before proposing; when the answer is a
// failure it confirms it at a linearizable read point (ReadIndex) and answers
// the client without a log entry (src/server/lock-service.ts).
//
// Only failures that no later command can turn into success are predicted,
// so the answer is the one applying the command would give at the read point
// AND at any later point — a retry with the same Idempotency-Key would get it
// again, which is why nothing needs to be recorded for it:
// - an unknown session: ids are random (chosen by the leader, 122 bits) and a
//   session that ended never comes back, so a session unknown at the read
//   point never becomes known under that id;
// - a fencing token that does not hold `name`: tokens only grow (every grant
//   takes a token above every earlier one), so a token at or below the
//   largest granted that does not hold now never will; one above it was never
//   granted, so no answer ever gave it to a client (not holding is still the
//   linearizable answer at the read point; a made-up token retried with its
//   key after a grant reached it would be a guess, which fencing tokens, being
//   capabilities, allow anyway);
// - an election term that does not lead: terms are fencing tokens too;
// - an unknown token id (revoke): ids are random and a revoked token is gone.
// Each predictor returns exactly the outcome the command's handler would.
import type { LockCommand, Outcome } from './commands.js';
import { notLeader } from './elections.js';
import { findHold } from './lock-queue.js';
import { notHolder } from './locks.js';
import { setNotHolding } from './lock-sets.js';
import { sessionNotFound } from './outcomes.js';
import { tokenNotFound } from './tokens.js';
import type { MachineState } from './state.js';
import { validateCommand } from './validate.js';

type Predictor<T extends LockCommand['type']> = (state: MachineState, command: Extract<LockCommand, { type: T }>) => Outcome | null;

const unknownSession = (state: MachineState, sessionId: string | null): Outcome | null =>
  sessionId !== null && !state.sessions.has(sessionId) ? sessionNotFound(sessionId) : null;

const notHolding = (state: MachineState, name: string, fencingToken: number): Outcome | null =>
  findHold(state, name, fencingToken) === null ? notHolder(name, fencingToken) : null;

const notLeading = (state: MachineState, name: string, term: number): Outcome | null =>
  state.elections.get(name)?.leader?.term === term ? null : notLeader(name, term);

const PREDICTORS: { [T in LockCommand['type']]?: Predictor<T> } = {
  'session.delete': (state, c) => unknownSession(state, c.sessionId),
  'lock.acquire': (state, c) => unknownSession(state, c.sessionId),
  'lock.release': (state, c) => notHolding(state, c.name, c.fencingToken),
  'lock.extend': (state, c) => notHolding(state, c.name, c.fencingToken),
  'election.campaign': (state, c) => unknownSession(state, c.sessionId),
  'lockSet.acquire': (state, c) => unknownSession(state, c.sessionId),
  // Only when none of its holds holds, each at or below the largest token granted: then the answer (which
  // names them all) never changes. With some holding, the answer would name more holds once those go.
  'lockSet.release': (state, c) =>
    c.holds.every((h) => h.fencingToken <= state.lastToken && findHold(state, h.name, h.fencingToken) === null) ? setNotHolding(state, c.holds) : null,
  'election.proclaim': (state, c) => notLeading(state, c.name, c.term),
  'election.resign': (state, c) => notLeading(state, c.name, c.term),
  // Token ids are random (the proposer's) and a revoked token never comes back.
  'token.revoke': (state, c) => (state.tokens.has(c.id) ? null : tokenNotFound(c.id)),
};

/** The failure applying `command` to `state` would surely answer, now and later; null when it might succeed. */
export function surelyFails(state: MachineState, command: LockCommand): Outcome | null {
  if (validateCommand(command) !== null) return null; // the machine answers 400 itself
  const predict = PREDICTORS[command.type] as Predictor<LockCommand['type']> | undefined;
  return predict === undefined ? null : predict(state, command);
}
