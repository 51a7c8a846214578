// The driver of the model-based property tests (model.test.ts,
// lock-sets.property.test.ts): random intents become concrete proposals,
// applied to LockMachine and to the reference model (model.ts); every
// outcome, every resolved wait and every lock's state must agree, and the
// machine's own properties must hold after every step, whatever the model
// says:
// - mutual exclusion, semaphore limits, no lost wakeup (lock-checker.ts);
// - all or nothing: every hold a command grants is in exactly one granted
//   answer of that command, and a granted set holds every lock it asked for;
// - FIFO without overtaking (checkFifo): nobody is granted while a place
//   ahead of it on that lock still waits;
// - fencing tokens strictly increase across all names;
// - no starvation of a set: while it waits, grants on the locks it waits for
//   go only to places that were ahead of it when it queued (a bound);
// - a refused deadlock names a real cycle of the wait-for graph.
// A snapshot copy taken before each step must answer that step exactly like
// the original.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ApplyResult, LockCommand, LockEvent, LockProposal, Outcome } from '../../src/locks/commands.js';
import { decodeValue } from '../../src/locks/codec.js';
import { LockMachine } from '../../src/locks/machine.js';
import { countHolds, countQueuedPlaces, type MachineState, type SnapshotData } from '../../src/locks/state.js';
import { logIndex } from '../../src/raft/types.js';
import { allOrNothingViolation, checkFifo, checkLockState, decodeLockState } from '../sim/lock-checker.js';
import { acquireCmd } from './harness.js';
import { Model, type ModelResult } from './model.js';

export const SESSIONS = ['s0', 's1', 's2'];
export const LOCKS = ['a', 'b', 'c', 'd'];
const ELECTIONS = ['e0', 'e1'];
const KEYS = ['k0', 'k1', 'k2'];
const NOW_MS = 1_000_000;

export type Intent =
  | { t: 'create'; s: number; lockDelay: boolean }
  | { t: 'delete'; s: number }
  | { t: 'acquire'; lock: number; s: number | null; wait: boolean; shared: boolean; limit: number; key: number | null }
  | { t: 'acquireSet'; locks: number[]; s: number | null; wait: boolean; shared: boolean[]; limit: number; key: number | null }
  | { t: 'release'; pick: number; key: number | null }
  | { t: 'releaseSet'; picks: number[]; key: number | null }
  | { t: 'extend'; pick: number; ttl: boolean }
  | { t: 'cancel'; pick: number }
  | { t: 'expireSession'; s: number }
  | { t: 'expireHold'; pick: number }
  | { t: 'expireDelay'; lock: number }
  | { t: 'campaign'; e: number; s: number; wait: boolean; key: number | null }
  | { t: 'proclaim'; e: number; stale: boolean }
  | { t: 'resign'; e: number; stale: boolean }
  | { t: 'invalid'; which: number };

export const session = fc.nat(SESSIONS.length - 1);
export const lock = fc.nat(LOCKS.length - 1);
const key = fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, { arbitrary: fc.nat(KEYS.length - 1), weight: 1 });
const lockIndexes = LOCKS.map((_, i) => i);

export const acquireIntent = (o: { s?: fc.Arbitrary<number | null>; wait?: fc.Arbitrary<boolean>; key?: fc.Arbitrary<number | null>; limit?: fc.Arbitrary<number> } = {}): fc.Arbitrary<Intent> =>
  fc.record({
    t: fc.constant('acquire' as const),
    lock,
    s: o.s ?? (fc.option(session, { freq: 4 }) as fc.Arbitrary<number | null>),
    wait: o.wait ?? fc.boolean(),
    shared: fc.boolean(),
    limit: o.limit ?? fc.integer({ min: 1, max: 2 }),
    key: o.key ?? key,
  });

export const setIntent = (o: { s?: fc.Arbitrary<number | null>; wait?: fc.Arbitrary<boolean>; key?: fc.Arbitrary<number | null>; limit?: fc.Arbitrary<number> } = {}): fc.Arbitrary<Intent> =>
  fc.record({
    t: fc.constant('acquireSet' as const),
    locks: fc.shuffledSubarray(lockIndexes, { minLength: 2, maxLength: 3 }),
    s: o.s ?? (fc.option(session, { freq: 3 }) as fc.Arbitrary<number | null>),
    wait: o.wait ?? fc.boolean(),
    shared: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    limit: o.limit ?? fc.integer({ min: 1, max: 2 }),
    key: o.key ?? key,
  });

export const releaseIntent = fc.record({ t: fc.constant('release' as const), pick: fc.nat(), key });
export const releaseSetIntent = fc.record({ t: fc.constant('releaseSet' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), key });
export const cancelIntent = fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() });
export const expireSessionIntent = fc.record({ t: fc.constant('expireSession' as const), s: session });
export const createIntent = fc.record({ t: fc.constant('create' as const), s: session, lockDelay: fc.boolean() });

export const intent: fc.Arbitrary<Intent> = fc.oneof(
  { arbitrary: createIntent, weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('delete' as const), s: session }), weight: 1 },
  { arbitrary: acquireIntent(), weight: 8 },
  { arbitrary: setIntent(), weight: 4 },
  { arbitrary: releaseIntent, weight: 4 },
  { arbitrary: releaseSetIntent, weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('extend' as const), pick: fc.nat(), ttl: fc.boolean() }), weight: 1 },
  { arbitrary: cancelIntent, weight: 2 },
  { arbitrary: expireSessionIntent, weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('expireHold' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('expireDelay' as const), lock }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('campaign' as const), e: fc.nat(ELECTIONS.length - 1), s: session, wait: fc.boolean(), key }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('proclaim' as const), e: fc.nat(ELECTIONS.length - 1), stale: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('resign' as const), e: fc.nat(ELECTIONS.length - 1), stale: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('invalid' as const), which: fc.nat(9) }), weight: 1 },
);

const setCmd = (names: string[], extra: Partial<Extract<LockCommand, { type: 'lockSet.acquire' }>> = {}): LockCommand => ({
  type: 'lockSet.acquire',
  locks: names.map((name) => ({ name, mode: 'exclusive', limit: 1 })),
  sessionId: null,
  ttlMs: 5_000,
  waitMs: 0,
  waitId: null,
  owner: null,
  value: null,
  ...extra,
});

const INVALID: LockCommand[] = [
  acquireCmd('-bad-name'),
  { ...acquireCmd('a'), sessionId: 's0', ttlMs: 5_000 },
  acquireCmd('a', { mode: 'shared', limit: 2 }),
  acquireCmd('a', { waitMs: 10, waitId: null }),
  { type: 'session.create', sessionId: 's0', ttlMs: 10, name: '', lockDelayMs: 0 },
  { type: 'lock.release', name: 'a', fencingToken: -1 },
  setCmd(['a']),
  setCmd(['a', 'a']),
  setCmd(['a', 'b'], { waitMs: 10 }),
  { type: 'lockSet.release', holds: [] },
];

/** Turns an intent into a concrete proposal, using the model to pick plausible tokens and waits. */
export class Driver {
  private waitSeq = 0;
  readonly waitIds: string[] = [];
  readonly tokens: number[] = [];

  constructor(private readonly model: Model) {}

  proposal(i: Intent): LockProposal {
    const { command, key: k } = this.command(i);
    const idempotency = k === null ? null : { key: KEYS[k], method: 'POST', path: pathOf(command) };
    return { command, nowMs: NOW_MS, idempotency };
  }

  private pickToken(pick: number): number {
    const live = this.model.holds.map((h) => h.token);
    // Mostly a live token, sometimes one that was released or never granted.
    if (live.length > 0 && pick % 4 !== 0) return live[pick % live.length];
    return this.tokens.length > 0 && pick % 8 !== 0 ? this.tokens[pick % this.tokens.length] : 1 + (pick % 50);
  }

  private holdRef(pick: number): { name: string; fencingToken: number } {
    const token = this.pickToken(pick);
    return { name: this.model.holds.find((h) => h.token === token)?.name ?? LOCKS[pick % LOCKS.length], fencingToken: token };
  }

  private newWaitId(wait: boolean): string | null {
    if (!wait) return null;
    const waitId = `w${++this.waitSeq}`;
    this.waitIds.push(waitId);
    return waitId;
  }

  private command(i: Intent): { command: LockCommand; key: number | null } {
    switch (i.t) {
      case 'create':
        return { command: { type: 'session.create', sessionId: SESSIONS[i.s], ttlMs: 10_000, name: `n${i.s}`, lockDelayMs: i.lockDelay ? 1_000 : 0 }, key: null };
      case 'delete':
        return { command: { type: 'session.delete', sessionId: SESSIONS[i.s] }, key: null };
      case 'acquire': {
        const command = acquireCmd(LOCKS[i.lock], {
          sessionId: i.s === null ? null : SESSIONS[i.s],
          ttlMs: i.s === null ? 5_000 : null,
          waitMs: i.wait ? 1_000 : 0,
          waitId: this.newWaitId(i.wait),
          mode: i.shared ? 'shared' : 'exclusive',
          limit: i.shared ? 1 : i.limit,
          owner: i.s === null ? 'ttl' : null,
        });
        return { command, key: i.key };
      }
      case 'acquireSet': {
        const command: LockCommand = {
          type: 'lockSet.acquire',
          locks: i.locks.map((l, n) => ({ name: LOCKS[l], mode: i.shared[n] ? 'shared' : 'exclusive', limit: i.shared[n] ? 1 : i.limit })),
          sessionId: i.s === null ? null : SESSIONS[i.s],
          ttlMs: i.s === null ? 5_000 : null,
          waitMs: i.wait ? 1_000 : 0,
          waitId: this.newWaitId(i.wait),
          owner: i.s === null ? 'ttl' : null,
          value: null,
        };
        return { command, key: i.key };
      }
      case 'release': {
        const { name, fencingToken } = this.holdRef(i.pick);
        return { command: { type: 'lock.release', name, fencingToken }, key: i.key };
      }
      case 'releaseSet': {
        const holds = new Map(i.picks.map((p) => this.holdRef(p)).map((h) => [`${h.name}/${h.fencingToken}`, h]));
        return { command: { type: 'lockSet.release', holds: [...holds.values()] }, key: i.key };
      }
      case 'extend': {
        const token = this.pickToken(i.pick);
        const name = this.model.holds.find((h) => h.token === token)?.name ?? 'a';
        return { command: { type: 'lock.extend', name, fencingToken: token, ttlMs: i.ttl ? 7_000 : null }, key: null };
      }
      case 'cancel': {
        const ids = this.waitIds.length > 0 ? [this.waitIds[i.pick % this.waitIds.length]] : ['none'];
        return { command: { type: 'wait.cancel', waitIds: ids, reason: 'timeout' }, key: null };
      }
      case 'expireSession':
        return { command: { type: 'expire', sessionIds: [SESSIONS[i.s]], holds: [], lockDelays: [] }, key: null };
      case 'expireHold': {
        const token = this.pickToken(i.pick);
        const name = this.model.holds.find((h) => h.token === token)?.name ?? 'a';
        return { command: { type: 'expire', sessionIds: [], holds: [{ name, fencingToken: token }], lockDelays: [] }, key: null };
      }
      case 'expireDelay':
        return { command: { type: 'expire', sessionIds: [], holds: [], lockDelays: [LOCKS[i.lock]] }, key: null };
      case 'campaign': {
        const waitId = this.newWaitId(i.wait);
        const command: LockCommand = { type: 'election.campaign', name: ELECTIONS[i.e], sessionId: SESSIONS[i.s], value: `v${i.s}`, waitMs: i.wait ? 1_000 : 0, waitId };
        return { command, key: i.key };
      }
      case 'proclaim':
      case 'resign': {
        const name = ELECTIONS[i.e];
        const term = (this.model.leaders.get(name)?.term ?? 1) + (i.stale ? 1 : 0);
        const command: LockCommand = i.t === 'proclaim' ? { type: 'election.proclaim', name, term, value: 'p' } : { type: 'election.resign', name, term };
        return { command, key: null };
      }
      case 'invalid':
        return { command: INVALID[i.which % INVALID.length], key: null };
    }
  }
}

function pathOf(c: LockCommand): string {
  return 'name' in c ? `${c.type}/${c.name}` : c.type;
}

/** Error bodies compare by status and code (messages are prose; a deadlock's cycle is checked on its own). */
function normalize(outcome: Outcome): Outcome {
  const error = (outcome.body as { error?: { code: string } } | null)?.error;
  return error ? { status: outcome.status, body: { error: { code: error.code } } } : outcome;
}

function normalizeResult(r: ApplyResult | ModelResult): unknown {
  return r.kind === 'done' ? { kind: 'done', outcome: normalize(r.outcome) } : r;
}

function resolvedOf(events: LockEvent[]): Array<{ waitId: string; outcome: Outcome }> {
  return events.flatMap((e) => (e.type === 'wait.resolved' ? [{ waitId: e.waitId, outcome: normalize(e.outcome) }] : []));
}

function lockProjection(m: LockMachine, name: string) {
  const v = m.getLock(name);
  return {
    mode: v.mode,
    limit: v.limit,
    holders: v.holders.map((h) => [h.fencingToken, h.mode, h.sessionId ?? null]),
    waiters: v.waiters.map((w) => [w.sessionId ?? null, w.mode]),
    delayed: v.lockDelayRemainingMs !== undefined,
  };
}

function modelProjection(model: Model, name: string) {
  return {
    mode: model.modeOf(name),
    limit: model.limitInForce(name) ?? 1,
    holders: model.holdsOf(name).map((h) => [h.token, h.mode, h.sessionId]),
    waiters: model.queueOf(name).map((w) => [w.sessionId, w.mode]),
    delayed: model.delays.has(name),
  };
}

/** The state without the applied index and the proposals' clock (which every command advances). */
function stateOf(m: LockMachine): unknown {
  const data = decodeValue(m.snapshot()) as { appliedIndex?: number; maxNowMs?: number };
  delete data.appliedIndex;
  delete data.maxNowMs;
  return data;
}

/** A refused deadlock's cycle must be a real cycle: from the requester, following each named lock's wait-for edges, back to it. */
function checkCycle(model: Model, requester: string, wants: Array<{ name: string; mode: 'exclusive' | 'shared' }>, cycle: string[]): void {
  const self = `s:${requester}`;
  const first = wants.find((w) => w.name === cycle[0]);
  expect(first, `cycle ${cycle.join(',')} starts with a lock the request does not wait for`).toBeDefined();
  let frontier = new Set(model.blockersAt(cycle[0], model.queueOf(cycle[0]).length, first!.mode, self));
  for (const name of cycle.slice(1)) {
    const next = new Set<string>();
    for (const node of frontier) for (const t of model.waitsFor(node, name)) next.add(t);
    frontier = next;
  }
  expect(frontier.has(self), `cycle ${cycle.join(',')} does not return to ${requester}`).toBe(true);
}

/** A set waiting in line, for the starvation bound. */
interface WaitingSet {
  /** Places ahead of it, over all its locks, when it queued: the most grants that may pass it. */
  bound: number;
  passed: number;
}

export interface RunStats {
  deadlocks: number;
  setsGranted: number;
  setsQueued: number;
  /** The most grants that passed one waiting set (never above its bound). */
  passedMax: number;
}

/** A failure predicted without applying (src/locks/doomed.ts), with what it must stay. */
interface Doomed {
  command: LockCommand;
  outcome: Outcome;
}

/** The session id a command names, if any (a prediction about it holds only while that id is not created again). */
function sessionOf(command: LockCommand): string | null {
  return 'sessionId' in command && typeof command.sessionId === 'string' ? command.sessionId : null;
}

/** The fencing token or term a command names, if any. */
function tokenOf(command: LockCommand): number | null {
  if ('fencingToken' in command) return command.fencingToken;
  if ('term' in command) return command.term;
  return null;
}

/**
 * Issue 11: a command the leader answers without a log entry must get exactly
 * what applying it would answer (checked where it is applied), and keep
 * getting it: unknown sessions stay unknown (production ids are never reused,
 * so a prediction about an id this test re-creates is dropped), tokens at or
 * below the largest granted that do not hold never will. Returns the
 * predictions still standing.
 */
function checkDoomed(machine: LockMachine, command: LockCommand, standing: Doomed[], step: string): Doomed[] {
  if (command.type === 'session.create') standing = standing.filter((d) => sessionOf(d.command) !== command.sessionId);
  for (const d of standing) expect(machine.surelyFails(d.command), `${step}: prediction for ${JSON.stringify(d.command)} no longer holds`).toEqual(d.outcome);
  return standing;
}

/** Every run starts with all sessions alive, so that most commands do something. */
const PRELUDE: Intent[] = SESSIONS.map((_, i) => ({ t: 'create', s: i, lockDelay: i === 0 }));

export function run(generated: Intent[], stats: RunStats = { deadlocks: 0, setsGranted: 0, setsQueued: 0, passedMax: 0 }): RunStats {
  const intents = [...PRELUDE, ...generated];
  const machine = new LockMachine();
  const model = new Model();
  const driver = new Driver(model);
  const waiting = new Map<string, WaitingSet>();
  let lastToken = 0;
  let doomed: Doomed[] = [];
  intents.forEach((i, n) => {
    const index = n + 1;
    const proposal = driver.proposal(i);
    const copy = new LockMachine();
    copy.restore(machine.snapshot(), logIndex(index - 1));
    const before = stateOf(machine);
    const beforeState = decodeLockState(machine.snapshot());

    const miss = proposal.idempotency === null || machine.lookupIdempotency(proposal.idempotency.key, proposal.idempotency.method, proposal.idempotency.path).kind === 'miss';
    const predicted = miss ? machine.surelyFails(proposal.command) : null;
    const tokenBefore = machine.lastFencingToken();
    const out = machine.applyProposal(index, proposal);
    const expected = model.apply(index, proposal.command, proposal.idempotency);
    const step = `step ${index}: ${JSON.stringify(proposal.command)} idem=${proposal.idempotency?.key ?? '-'}`;
    if (predicted !== null) {
      // Exactly the outcome applying it gave, and it changed nothing.
      expect(out.result, `${step}: predicted failure`).toEqual({ kind: 'done', outcome: predicted });
      expect(out.events, `${step}: predicted failure`).toEqual([]);
      const token = tokenOf(proposal.command);
      if (token === null || token <= tokenBefore) doomed.push({ command: proposal.command, outcome: predicted });
    }
    doomed = checkDoomed(machine, proposal.command, doomed, step);
    const afterState = decodeLockState(machine.snapshot());

    expect(normalizeResult(out.result), step).toEqual(normalizeResult(expected));
    expect(resolvedOf(out.events), step).toEqual(model.resolvedNow.map((r) => ({ waitId: r.waitId, outcome: normalize(r.outcome) })));
    for (const name of LOCKS) expect(lockProjection(machine, name), `${step} lock ${name}`).toEqual(modelProjection(model, name));
    for (const name of ELECTIONS) expect(machine.getElection(name).leader, `${step} election ${name}`).toEqual(model.leaders.get(name) ?? null);
    checkLockState(step, afterState);
    // The derived counts the limits are checked against (WAITS_MAX, HOLDS_MAX) follow every path.
    const derived = (machine as unknown as { state: MachineState }).state;
    expect({ queuedPlaces: derived.queuedPlaces, heldCount: derived.heldCount }, `${step}: derived counts`).toEqual({ queuedPlaces: countQueuedPlaces(derived), heldCount: countHolds(derived) });
    checkFifo(step, beforeState, afterState, out.events);
    expect(afterState.lockSets.length, step).toBe(model.sets.length);

    // Fencing tokens strictly increase across all names (docs/safety.md #11).
    for (const e of out.events) {
      const token = e.type === 'acquired' ? e.fencingToken : e.type === 'election.leader' && e.leader && e.leader.term > lastToken ? e.leader.term : null;
      if (token === null) continue;
      expect(token, step).toBeGreaterThan(lastToken);
      lastToken = token;
      driver.tokens.push(token);
    }

    expect(allOrNothingViolation(proposal, out, beforeState, afterState), `${step}: all or nothing`).toBeNull();
    starvation(step, out.events, beforeState, afterState, waiting, stats);
    const c = proposal.command;
    if (out.result.kind === 'queued' && c.type === 'lockSet.acquire' && c.waitId === out.result.waitId) stats.setsQueued++;

    if (out.result.kind === 'done') {
      const body = out.result.outcome.body as { error?: { code: string; cycle?: string[] } };
      // Refused and invalid commands change nothing (but the outcome is recorded under an idempotency key, as the contract says).
      if (out.result.outcome.status >= 400) {
        const after = stateOf(machine) as { idempotency: unknown[] };
        if (proposal.idempotency) after.idempotency = (before as { idempotency: unknown[] }).idempotency;
        expect(after, step).toEqual(before);
      }
      // A replay under an idempotency key answers what the first command with that key was told: its
      // cycle ran through that command's requester, not this one's.
      if (body.error?.code === 'deadlock' && miss) {
        const wants = c.type === 'lock.acquire' ? [{ name: c.name, mode: c.mode }] : c.type === 'lockSet.acquire' ? c.locks : [];
        const requester = (c as { sessionId: string }).sessionId;
        // A refusal changes nothing: the model after this step is the state the request saw.
        checkCycle(model, requester, wants, body.error.cycle!);
        stats.deadlocks++;
      }
    }
    if (c.type === 'expire' && c.sessionIds.length > 0) {
      const gone = c.sessionIds[0];
      for (const name of LOCKS) {
        const v = machine.getLock(name);
        expect([...v.holders, ...v.waiters].some((x) => x.sessionId === gone), `${step}: expired session left on ${name}`).toBe(false);
      }
    }

    // A copy restored from the snapshot before this step answers it identically.
    expect(copy.applyProposal(index, proposal), `${step} (restored copy)`).toEqual(out);
  });
  return stats;
}

/**
 * Starvation bound: a set that queues behind k places (over all its locks)
 * sees at most k grants on the locks it still waits for before it leaves the
 * line — nobody who came after it is granted there first.
 */
function starvation(step: string, events: LockEvent[], before: SnapshotData, after: SnapshotData, waiting: Map<string, WaitingSet>, stats: RunStats): void {
  for (const set of before.lockSets) {
    const w = waiting.get(set.waitId);
    if (!w) continue;
    const placed = new Set(set.locks.filter((e) => !e.carried).map((e) => e.name));
    for (const e of events) {
      // Its own grant (or end) comes with its first dequeue: grants after that are not "passing" it.
      if ((e.type === 'dequeued' || e.type === 'wait.resolved') && e.waitId === set.waitId) break;
      if (e.type === 'acquired' && placed.has(e.name)) w.passed++;
    }
    expect(w.passed, `${step}: ${w.passed} grants passed lock set ${set.waitId}, which had ${w.bound} places ahead of it`).toBeLessThanOrEqual(w.bound);
    stats.passedMax = Math.max(stats.passedMax, w.passed);
  }
  for (const e of events) {
    if (e.type !== 'wait.resolved' || !waiting.has(e.waitId)) continue;
    if ((e.outcome.body as { acquired?: boolean } | null)?.acquired === true) stats.setsGranted++;
    waiting.delete(e.waitId);
  }
  for (const set of after.lockSets) {
    if (waiting.has(set.waitId)) continue;
    let bound = 0;
    for (const l of after.locks) {
      const position = l.waiters.findIndex((x) => x.waitId === set.waitId);
      if (position > 0) bound += position;
    }
    waiting.set(set.waitId, { bound, passed: 0 });
  }
}
