// Election commands: campaign (lead now, or queue as a candidate), proclaim
// and resign (http-api.md "Elections"). A vacancy is filled by the next live
// candidate in the same command that made it.
import { type Applying, assert, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { ApplyResult, Outcome } from './commands.js';
import { WAITERS_PER_LOCK_MAX, WAITS_MAX } from './limits.js';
import { holdsFull } from './lock-queue.js';
import { errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import type { ElectionState, MachineState } from './state.js';

export const electionCommands: CommandHandlers<'election.campaign' | 'election.proclaim' | 'election.resign'> = {
  'election.campaign': campaign,
  'election.proclaim': (cx, c) => done(proclaim(cx, c)),
  'election.resign': (cx, c) => done(resign(cx, c)),
};

export function notLeader(name: string, term: number): Outcome {
  return errorOutcome('not_holder', `term ${term} does not lead election ${name}`);
}

export function electionOf(state: MachineState, name: string): ElectionState {
  const election = state.elections.get(name);
  assert(election !== undefined, `election ${name} is missing`);
  return election;
}

/** An election with no leader and no candidates is forgotten. */
export function collectElection(state: MachineState, election: ElectionState): void {
  if (election.leader === null && election.candidates.length === 0) state.elections.delete(election.name);
}

function elect(cx: Applying, election: ElectionState, sessionId: string, value: string): void {
  assert(election.leader === null, `election ${election.name} is not vacant`);
  const session = cx.state.sessions.get(sessionId);
  assert(session !== undefined, `electing dead session ${sessionId}`);
  election.leader = { sessionId, value, term: cx.nextToken() };
  cx.state.heldCount += 1;
  session.ledElections.add(election.name);
  emitLeader(cx, election);
}

function emitLeader(cx: Applying, election: ElectionState): void {
  const leader = election.leader === null ? null : { ...election.leader };
  cx.emit({ type: 'election.leader', index: cx.index, name: election.name, leader });
}

/** The leader leaves (resigned, or its session ended); the caller promotes the next candidate. */
export function vacate(state: MachineState, election: ElectionState): void {
  assert(election.leader !== null, `election ${election.name} is already vacant`);
  state.sessions.get(election.leader.sessionId)?.ledElections.delete(election.name);
  election.leader = null;
  state.heldCount -= 1;
}

/** Removes the candidate at `position` from the queue and the indexes. */
export function takeCandidate(cx: Applying, election: ElectionState, position: number): void {
  assert(position >= 0 && position < election.candidates.length, `no candidate at ${position} on ${election.name}`);
  const [candidate] = election.candidates.splice(position, 1);
  cx.state.queuedPlaces -= 1;
  cx.state.waits.delete(candidate.waitId);
  cx.state.sessions.get(candidate.sessionId)?.waitIds.delete(candidate.waitId);
}

/** The election is vacant: the next live candidate is elected in this same command, else a vacancy is announced. */
export function promoteCandidate(cx: Applying, election: ElectionState): void {
  assert(election.leader === null, 'promote into an occupied election');
  while (election.candidates.length > 0) {
    const head = election.candidates[0];
    const ref = cx.state.waits.get(head.waitId);
    assert(ref !== undefined, `candidate ${head.waitId} has no wait record`);
    takeCandidate(cx, election, 0);
    if (!cx.state.sessions.has(head.sessionId)) {
      // docs/safety.md #12: never elect a candidate whose session ended.
      cx.resolveWait(head.waitId, ref, sessionNotFound(head.sessionId));
      continue;
    }
    elect(cx, election, head.sessionId, head.value);
    const leader = election.leader!;
    cx.resolveWait(head.waitId, ref, ok({ elected: true, name: election.name, term: leader.term, value: leader.value }));
    return;
  }
  emitLeader(cx, election);
  collectElection(cx.state, election);
}

function campaign(cx: Applying, c: CommandOf<'election.campaign'>): ApplyResult {
  const { sessions, elections, waits } = cx.state;
  const session = sessions.get(c.sessionId);
  if (!session) return done(sessionNotFound(c.sessionId));
  let election = elections.get(c.name);
  if (election?.leader?.sessionId === c.sessionId) {
    const { term, value } = election.leader;
    return done(ok({ elected: true, name: c.name, term, value }));
  }
  if (!election || election.leader === null) {
    assert(!election || election.candidates.length === 0, `vacant election ${c.name} has candidates`);
    const full = holdsFull(cx.state, 1);
    if (full) return done(full);
    if (!election) {
      election = { name: c.name, leader: null, candidates: [] };
      elections.set(c.name, election);
    }
    elect(cx, election, c.sessionId, c.value);
    return done(ok({ elected: true, name: c.name, term: election.leader!.term, value: c.value }));
  }
  if (c.waitMs === 0) return done(ok({ elected: false, name: c.name, leader: { ...election.leader } }));
  const waitId = c.waitId!;
  if (waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
  if (election.candidates.length >= WAITERS_PER_LOCK_MAX) {
    return done(errorOutcome('limit_exceeded', `at most ${WAITERS_PER_LOCK_MAX} candidates per election`));
  }
  if (cx.state.queuedPlaces >= WAITS_MAX) return done(errorOutcome('limit_exceeded', `at most ${WAITS_MAX} waits in all`));
  election.candidates.push({ waitId, sessionId: c.sessionId, value: c.value, waitMs: c.waitMs });
  cx.state.queuedPlaces += 1;
  waits.set(waitId, { kind: 'election', name: c.name, idempotencyKey: cx.idempotencyKey, tokenId: cx.tokenId });
  session.waitIds.add(waitId);
  cx.emit({ type: 'election.queued', index: cx.index, name: c.name, waitId, sessionId: c.sessionId, waitMs: c.waitMs });
  return { kind: 'queued', waitId };
}

function proclaim(cx: Applying, c: CommandOf<'election.proclaim'>): Outcome {
  const election = cx.state.elections.get(c.name);
  if (!election?.leader || election.leader.term !== c.term) return notLeader(c.name, c.term);
  election.leader.value = c.value;
  emitLeader(cx, election);
  return ok({ name: c.name, term: c.term, value: c.value });
}

function resign(cx: Applying, c: CommandOf<'election.resign'>): Outcome {
  const election = cx.state.elections.get(c.name);
  if (!election?.leader || election.leader.term !== c.term) return notLeader(c.name, c.term);
  vacate(cx.state, election);
  promoteCandidate(cx, election);
  return ok({ resigned: true });
}
