// The replicated lock state machine: a pure function of the committed
// commands (style.md item 1). No clock, no randomness, no I/O: every replica
// that applies the same entries holds the same state, answers the same
// outcomes and emits the same events. Deadlines live in the leader's
// LeaseTable (leases.ts) and arrive here only as committed `expire` and
// `wait.cancel` commands (correctness.md items 13, 14).
import type { AppliedCommand, StateMachine } from '../node/state-machine.js';
import { logIndex, type LogIndex } from '../raft/types.js';
import type { ApplyResult, HoldRef, LockCommand, LockEvent, LockProposal, Outcome } from './commands.js';
import { decodeProposal, decodeValue, encodeValue } from './codec.js';
import { findDeadlockCycle } from './deadlock.js';
import { IdempotencyTable, type IdempotencyLookup } from './idempotency.js';
import { HOLDERS_PER_LOCK_MAX, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, SESSIONS_MAX, WAITERS_PER_LOCK_MAX, WAITS_MAX } from './limits.js';
import { created, errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import { type ElectionState, type HoldState, type LockState, type LockWaiter, type SessionState, type SnapshotData, type WaitRef, limitInForce } from './state.js';
import { validateCommand, validateEnvelope } from './validate.js';
import {
  acquiredBody,
  type Deadlines,
  type ElectionView,
  FULL_TTL,
  lockListItem,
  type LockListItem,
  lockView,
  type LockView,
  notAcquiredBody,
  sessionView,
  type SessionView,
} from './views.js';

type Cmd<T extends LockCommand['type']> = Extract<LockCommand, { type: T }>;

export interface ApplyOutput {
  result: ApplyResult;
  events: LockEvent[];
}

const SNAPSHOT_VERSION = 1;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`LockMachine invariant violated: ${message}`);
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) return LIST_LIMIT_DEFAULT;
  return Math.min(limit, LIST_LIMIT_MAX);
}

export class LockMachine implements StateMachine<ApplyResult> {
  private sessions = new Map<string, SessionState>();
  private locks = new Map<string, LockState>();
  private elections = new Map<string, ElectionState>();
  /** Every outstanding wait (lock waiter or election candidate) by its id. */
  private waits = new Map<string, WaitRef>();
  /** The largest fencing token (or election term) ever granted. */
  private lastToken = 0;
  /** The largest proposal nowMs seen: the monotonic clock that ages idempotency records. */
  private maxNowMs = 0;
  private idempotency = new IdempotencyTable();
  private applied = 0;
  private readonly listeners = new Set<(event: LockEvent) => void>();

  // The command being applied.
  private index = 0;
  private events: LockEvent[] = [];
  private idempotencyKey: string | null = null;

  /** Events are delivered synchronously during apply, in order, after the command's state change is complete. */
  onEvent(listener: (event: LockEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  appliedIndex(): LogIndex {
    return logIndex(this.applied);
  }

  apply(command: AppliedCommand): ApplyResult {
    let proposal: LockProposal | null = null;
    try {
      proposal = decodeProposal(command.data);
    } catch {
      proposal = null;
    }
    const output =
      proposal === null
        ? this.applyUndecodable(command.index)
        : this.applyProposal(command.index, proposal);
    for (const event of output.events) for (const listener of this.listeners) listener(event);
    return output.result;
  }

  /** A log entry that is not msgpack: answered 400 on every replica alike, state untouched. */
  private applyUndecodable(index: number): ApplyOutput {
    this.advance(index);
    return { result: { kind: 'done', outcome: invalidArgument('entry is not a lock proposal') }, events: [] };
  }

  private advance(index: number): void {
    assert(Number.isSafeInteger(index) && index > this.applied, `apply index ${index} after ${this.applied}`);
    this.applied = index;
  }

  /** Applies one proposal at `index` and returns its result and events (listeners are not called: see apply). */
  applyProposal(index: number, proposal: LockProposal): ApplyOutput {
    this.advance(index);
    this.index = index;
    this.events = [];
    this.idempotencyKey = null;
    const result = this.applyEnvelope(proposal);
    const events = this.events;
    this.events = [];
    return { result, events };
  }

  private applyEnvelope(proposal: LockProposal): ApplyResult {
    const badEnvelope = validateEnvelope(proposal);
    if (badEnvelope) return { kind: 'done', outcome: invalidArgument(badEnvelope) };
    this.maxNowMs = Math.max(this.maxNowMs, proposal.nowMs);
    this.idempotency.prune(this.maxNowMs);
    const idem = proposal.idempotency ?? null;
    if (idem !== null) {
      const found = this.idempotency.lookup(idem.key, idem.method, idem.path);
      switch (found.kind) {
        case 'conflict':
          return {
            kind: 'done',
            outcome: errorOutcome(
              'idempotency_conflict',
              `Idempotency-Key was first used for ${found.record.method} ${found.record.path}`,
            ),
          };
        case 'done':
          return { kind: 'done', outcome: found.outcome };
        case 'pending':
          return { kind: 'queued', waitId: found.waitId };
        case 'miss':
          break;
      }
      this.idempotencyKey = idem.key;
    }
    const badCommand = validateCommand(proposal.command);
    const result: ApplyResult = badCommand
      ? { kind: 'done', outcome: invalidArgument(badCommand) }
      : this.execute(proposal.command);
    if (idem !== null) {
      this.idempotency.record(
        idem.key,
        idem.method,
        idem.path,
        this.maxNowMs,
        result.kind === 'done' ? result.outcome : null,
        result.kind === 'queued' ? result.waitId : null,
      );
    }
    return result;
  }

  private execute(command: LockCommand): ApplyResult {
    switch (command.type) {
      case 'session.create':
        return done(this.createSession(command));
      case 'session.delete':
        return done(this.deleteSession(command));
      case 'lock.acquire':
        return this.acquire(command);
      case 'lock.release':
        return done(this.release(command));
      case 'lock.extend':
        return done(this.extend(command));
      case 'election.campaign':
        return this.campaign(command);
      case 'election.proclaim':
        return done(this.proclaim(command));
      case 'election.resign':
        return done(this.resign(command));
      case 'wait.cancel':
        return done(this.cancelWaits(command));
      case 'expire':
        return done(this.expire(command));
    }
  }

  private emit(event: LockEvent): void {
    this.events.push(event);
  }

  /** Fencing tokens and election terms share one counter: strictly increasing across all names (correctness.md item 11). */
  private nextToken(): number {
    const token = Math.max(this.index, this.lastToken + 1);
    assert(token > this.lastToken, 'fencing token must increase');
    this.lastToken = token;
    return token;
  }

  // ---- sessions ----

  private createSession(c: Cmd<'session.create'>): Outcome {
    if (this.sessions.has(c.sessionId)) return invalidArgument(`sessionId ${c.sessionId} already exists`);
    if (this.sessions.size >= SESSIONS_MAX) return errorOutcome('limit_exceeded', `at most ${SESSIONS_MAX} sessions`);
    this.sessions.set(c.sessionId, {
      sessionId: c.sessionId,
      ttlMs: c.ttlMs,
      lockDelayMs: c.lockDelayMs,
      name: c.name,
      heldLocks: new Set(),
      ledElections: new Set(),
      waitIds: new Set(),
    });
    this.emit({ type: 'session.created', index: this.index, sessionId: c.sessionId, ttlMs: c.ttlMs });
    return created({ sessionId: c.sessionId, ttlMs: c.ttlMs, lockDelayMs: c.lockDelayMs, name: c.name });
  }

  private deleteSession(c: Cmd<'session.delete'>): Outcome {
    const session = this.sessions.get(c.sessionId);
    if (!session) return sessionNotFound(c.sessionId);
    const released = this.endSession(session, 'deleted');
    return ok({ sessionId: c.sessionId, released });
  }

  /**
   * Ends a session: it is gone first, so that no grant below can pick it
   * (correctness.md item 12); then its waits resolve 404, its holds are
   * released (on expiry with lock-delay), and the locks pass to their next
   * waiters in this same command (item 17).
   */
  private endSession(session: SessionState, reason: 'deleted' | 'expired'): HoldRef[] {
    this.sessions.delete(session.sessionId);
    this.emit({ type: 'session.ended', index: this.index, sessionId: session.sessionId, reason });
    // Remove every wait of the session first, then hand over: a grant loop run
    // between two removals would meet the session's later wait at the head.
    const touchedLocks = new Set<string>();
    for (const waitId of [...session.waitIds]) {
      const ref = this.waits.get(waitId);
      assert(ref !== undefined, `session wait ${waitId} is unknown`);
      session.waitIds.delete(waitId); // the session is no longer in the map, so the take below cannot reach it
      if (ref.kind === 'lock') {
        const lock = this.lockOf(ref.name);
        this.takeLockWaiter(lock, lock.waiters.findIndex((w) => w.waitId === waitId));
        touchedLocks.add(ref.name);
      } else {
        const election = this.electionOf(ref.name);
        this.takeCandidate(election, election.candidates.findIndex((w) => w.waitId === waitId));
        this.collectElection(election);
      }
      this.resolveWait(waitId, ref, sessionNotFound(session.sessionId));
    }
    for (const name of touchedLocks) this.grantWaiters(this.lockOf(name));
    const released: HoldRef[] = [];
    for (const name of [...session.heldLocks]) {
      const lock = this.lockOf(name);
      const hold = lock.holders.find((h) => h.sessionId === session.sessionId);
      assert(hold !== undefined, `session ${session.sessionId} holds ${name} but no hold found`);
      this.removeHold(lock, hold, session);
      released.push({ name, fencingToken: hold.fencingToken });
      this.emit({
        type: reason === 'expired' ? 'expired' : 'released',
        index: this.index,
        name,
        fencingToken: hold.fencingToken,
        sessionId: session.sessionId,
      });
      // Chubby's lock-delay: only when the holder vanished (expiry), not when it let go (delete).
      if (reason === 'expired' && session.lockDelayMs > 0) {
        lock.lockDelayMs = Math.max(lock.lockDelayMs ?? 0, session.lockDelayMs);
        this.emit({ type: 'lockDelay.started', index: this.index, name, lockDelayMs: session.lockDelayMs });
      }
      this.grantWaiters(lock);
    }
    for (const name of [...session.ledElections]) {
      const election = this.electionOf(name);
      assert(election.leader?.sessionId === session.sessionId, `session ${session.sessionId} does not lead ${name}`);
      session.ledElections.delete(name);
      election.leader = null;
      this.promoteCandidate(election);
    }
    assert(session.heldLocks.size === 0 && session.waitIds.size === 0, 'ended session still holds or waits');
    return released;
  }

  // ---- locks ----

  private lockOf(name: string): LockState {
    const lock = this.locks.get(name);
    assert(lock !== undefined, `lock ${name} is missing`);
    return lock;
  }

  private static isFree(lock: LockState | undefined): boolean {
    return lock === undefined || (lock.holders.length === 0 && lock.waiters.length === 0);
  }

  /** Whether one more holder in `mode` fits beside the current holders (ignoring queue and lock-delay). */
  private static fits(lock: LockState, mode: LockHoldMode): boolean {
    if (lock.holders.length === 0) return true;
    if (mode === 'shared') return lock.mode === 'shared' && lock.holders.length < HOLDERS_PER_LOCK_MAX;
    return lock.mode === 'exclusive' && lock.holders.length < lock.limit;
  }

  private grant(lock: LockState, w: Pick<LockWaiter, 'sessionId' | 'ttlMs' | 'mode' | 'owner' | 'value'>): HoldState {
    assert(LockMachine.fits(lock, w.mode) && lock.lockDelayMs === null, `grant on ${lock.name} breaks exclusion`);
    const hold: HoldState = {
      fencingToken: this.nextToken(),
      mode: w.mode,
      sessionId: w.sessionId,
      ttlMs: w.ttlMs,
      owner: w.owner,
      value: w.value,
    };
    lock.mode = w.mode;
    lock.holders.push(hold);
    if (w.sessionId !== null) this.sessions.get(w.sessionId)!.heldLocks.add(lock.name);
    this.emit({
      type: 'acquired',
      index: this.index,
      name: lock.name,
      fencingToken: hold.fencingToken,
      sessionId: hold.sessionId,
      ttlMs: hold.ttlMs,
    });
    return hold;
  }

  private removeHold(lock: LockState, hold: HoldState, session: SessionState | undefined): void {
    const at = lock.holders.indexOf(hold);
    assert(at >= 0, `hold ${hold.fencingToken} not on ${lock.name}`);
    lock.holders.splice(at, 1);
    if (lock.holders.length === 0) lock.mode = null;
    session?.heldLocks.delete(lock.name);
  }

  /** Removes the waiter at `position` from the queue and the indexes; emits `dequeued`. */
  private takeLockWaiter(lock: LockState, position: number): LockWaiter {
    assert(position >= 0 && position < lock.waiters.length, `no waiter at ${position} on ${lock.name}`);
    const [waiter] = lock.waiters.splice(position, 1);
    this.waits.delete(waiter.waitId);
    if (waiter.sessionId !== null) this.sessions.get(waiter.sessionId)?.waitIds.delete(waiter.waitId);
    this.emit({ type: 'dequeued', index: this.index, name: lock.name, waitId: waiter.waitId, sessionId: waiter.sessionId });
    return waiter;
  }

  private resolveWait(waitId: string, ref: WaitRef, outcome: Outcome): void {
    this.emit({ type: 'wait.resolved', index: this.index, waitId, outcome });
    if (ref.idempotencyKey !== null) this.idempotency.fill(ref.idempotencyKey, waitId, outcome);
  }

  /**
   * Grants waiters strictly in arrival order, as many as fit, in the command
   * that freed the lock: one commit per handover, nobody polls (correctness.md
   * item 17). A shared waiter behind an exclusive one waits for it.
   */
  private grantWaiters(lock: LockState): void {
    while (lock.waiters.length > 0 && lock.lockDelayMs === null) {
      const head = lock.waiters[0];
      const ref = this.waits.get(head.waitId);
      assert(ref !== undefined, `waiter ${head.waitId} has no wait record`);
      if (head.sessionId !== null) {
        const session = this.sessions.get(head.sessionId);
        if (!session) {
          // correctness.md item 12 (etcd #11456): a waiter whose session ended is never granted.
          this.takeLockWaiter(lock, 0);
          this.resolveWait(head.waitId, ref, sessionNotFound(head.sessionId));
          continue;
        }
        const existing = lock.holders.find((h) => h.sessionId === head.sessionId);
        if (existing) {
          // The session got the lock through another request meanwhile: the same hold.
          this.takeLockWaiter(lock, 0);
          this.resolveWait(head.waitId, ref, ok(acquiredBody(lock.name, existing)));
          continue;
        }
      }
      if (!LockMachine.fits(lock, head.mode)) break;
      this.takeLockWaiter(lock, 0);
      const hold = this.grant(lock, head);
      this.resolveWait(head.waitId, ref, ok(acquiredBody(lock.name, hold)));
    }
    this.collectLock(lock);
  }

  /** A lock with no holders, waiters or lock-delay is forgotten (a free lock reads as free). */
  private collectLock(lock: LockState): void {
    if (LockMachine.isFree(lock) && lock.lockDelayMs === null) this.locks.delete(lock.name);
  }

  private acquire(c: Cmd<'lock.acquire'>): ApplyResult {
    const session = c.sessionId === null ? undefined : this.sessions.get(c.sessionId);
    if (c.sessionId !== null && !session) return done(sessionNotFound(c.sessionId));
    let lock = this.locks.get(c.name);
    if (session && lock) {
      const existing = lock.holders.find((h) => h.sessionId === session.sessionId);
      if (existing) return done(ok(acquiredBody(c.name, existing)));
    }
    const free = LockMachine.isFree(lock);
    const inForce = limitInForce(lock);
    if (c.mode === 'exclusive' && inForce !== null && c.limit !== inForce) {
      return done(
        errorOutcome('limit_mismatch', `limit ${c.limit} differs from the limit ${inForce} in force on ${c.name}`, {
          limit: inForce,
        }),
      );
    }
    // A free lock, or one held / awaited in shared mode only, takes this exclusive acquire's limit once it holds or waits.
    const setsLimit = free || (c.mode === 'exclusive' && inForce === null);
    const grantable = !lock || (lock.lockDelayMs === null && lock.waiters.length === 0 && LockMachine.fits(lock, c.mode));
    if (grantable) {
      if (!lock) {
        lock = { name: c.name, mode: null, limit: c.limit, holders: [], waiters: [], lockDelayMs: null };
        this.locks.set(c.name, lock);
      } else if (setsLimit) {
        lock.limit = c.limit;
      }
      return done(ok(acquiredBody(c.name, this.grant(lock, c))));
    }
    assert(lock !== undefined, 'an absent lock is always grantable');
    if (c.waitMs === 0) return done(ok(notAcquiredBody(c.name, lock)));
    const waitId = c.waitId!;
    if (this.waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
    if (lock.waiters.length >= WAITERS_PER_LOCK_MAX) {
      return done(errorOutcome('limit_exceeded', `at most ${WAITERS_PER_LOCK_MAX} waiters per lock`));
    }
    if (this.waits.size >= WAITS_MAX) return done(errorOutcome('limit_exceeded', `at most ${WAITS_MAX} waits in all`));
    if (session) {
      const cycle = findDeadlockCycle(session.sessionId, c.name, this.sessions, this.locks, this.waits);
      if (cycle) {
        return done(errorOutcome('deadlock', `waiting would close a cycle: ${cycle.join(' -> ')}`, { cycle }));
      }
    }
    if (setsLimit) lock.limit = c.limit;
    lock.waiters.push({
      waitId,
      sessionId: c.sessionId,
      ttlMs: c.ttlMs,
      mode: c.mode,
      limit: c.limit,
      owner: c.owner,
      value: c.value,
      waitMs: c.waitMs,
    });
    this.waits.set(waitId, { kind: 'lock', name: c.name, idempotencyKey: this.idempotencyKey });
    session?.waitIds.add(waitId);
    this.emit({ type: 'queued', index: this.index, name: c.name, waitId, sessionId: c.sessionId, waitMs: c.waitMs });
    return { kind: 'queued', waitId };
  }

  private findHold(name: string, fencingToken: number): { lock: LockState; hold: HoldState } | null {
    const lock = this.locks.get(name);
    const hold = lock?.holders.find((h) => h.fencingToken === fencingToken);
    return lock && hold ? { lock, hold } : null;
  }

  private release(c: Cmd<'lock.release'>): Outcome {
    const found = this.findHold(c.name, c.fencingToken);
    if (!found) return notHolder(c.name, c.fencingToken);
    const { lock, hold } = found;
    this.removeHold(lock, hold, hold.sessionId === null ? undefined : this.sessions.get(hold.sessionId));
    this.emit({ type: 'released', index: this.index, name: c.name, fencingToken: hold.fencingToken, sessionId: hold.sessionId });
    this.grantWaiters(lock);
    return ok({ released: true });
  }

  private extend(c: Cmd<'lock.extend'>): Outcome {
    const found = this.findHold(c.name, c.fencingToken);
    if (!found) return notHolder(c.name, c.fencingToken);
    const { hold } = found;
    if (hold.ttlMs === null) return invalidArgument(`fencingToken ${c.fencingToken} is a session hold, which cannot be extended: keep its session alive instead`, 'fencingToken');
    hold.ttlMs = c.ttlMs ?? hold.ttlMs;
    this.emit({ type: 'extended', index: this.index, name: c.name, fencingToken: hold.fencingToken, ttlMs: hold.ttlMs });
    return ok({ expiresInMs: hold.ttlMs });
  }

  // ---- elections ----

  private electionOf(name: string): ElectionState {
    const election = this.elections.get(name);
    assert(election !== undefined, `election ${name} is missing`);
    return election;
  }

  private collectElection(election: ElectionState): void {
    if (election.leader === null && election.candidates.length === 0) this.elections.delete(election.name);
  }

  private elect(election: ElectionState, sessionId: string, value: string): void {
    assert(election.leader === null, `election ${election.name} is not vacant`);
    const session = this.sessions.get(sessionId);
    assert(session !== undefined, `electing dead session ${sessionId}`);
    election.leader = { sessionId, value, term: this.nextToken() };
    session.ledElections.add(election.name);
    this.emitLeader(election);
  }

  private emitLeader(election: ElectionState): void {
    const leader = election.leader === null ? null : { ...election.leader };
    this.emit({ type: 'election.leader', index: this.index, name: election.name, leader });
  }

  private takeCandidate(election: ElectionState, position: number): void {
    assert(position >= 0 && position < election.candidates.length, `no candidate at ${position} on ${election.name}`);
    const [candidate] = election.candidates.splice(position, 1);
    this.waits.delete(candidate.waitId);
    this.sessions.get(candidate.sessionId)?.waitIds.delete(candidate.waitId);
  }

  /** The election is vacant: the next live candidate is elected in this same command, else a vacancy is announced. */
  private promoteCandidate(election: ElectionState): void {
    assert(election.leader === null, 'promote into an occupied election');
    while (election.candidates.length > 0) {
      const head = election.candidates[0];
      const ref = this.waits.get(head.waitId);
      assert(ref !== undefined, `candidate ${head.waitId} has no wait record`);
      this.takeCandidate(election, 0);
      if (!this.sessions.has(head.sessionId)) {
        // correctness.md item 12: never elect a candidate whose session ended.
        this.resolveWait(head.waitId, ref, sessionNotFound(head.sessionId));
        continue;
      }
      this.elect(election, head.sessionId, head.value);
      const leader = election.leader!;
      this.resolveWait(head.waitId, ref, ok({ elected: true, name: election.name, term: leader.term, value: leader.value }));
      return;
    }
    this.emitLeader(election);
    this.collectElection(election);
  }

  private campaign(c: Cmd<'election.campaign'>): ApplyResult {
    const session = this.sessions.get(c.sessionId);
    if (!session) return done(sessionNotFound(c.sessionId));
    let election = this.elections.get(c.name);
    if (election?.leader?.sessionId === c.sessionId) {
      const { term, value } = election.leader;
      return done(ok({ elected: true, name: c.name, term, value }));
    }
    if (!election || election.leader === null) {
      assert(!election || election.candidates.length === 0, `vacant election ${c.name} has candidates`);
      if (!election) {
        election = { name: c.name, leader: null, candidates: [] };
        this.elections.set(c.name, election);
      }
      this.elect(election, c.sessionId, c.value);
      return done(ok({ elected: true, name: c.name, term: election.leader!.term, value: c.value }));
    }
    if (c.waitMs === 0) return done(ok({ elected: false, leader: { ...election.leader } }));
    const waitId = c.waitId!;
    if (this.waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
    if (election.candidates.length >= WAITERS_PER_LOCK_MAX) {
      return done(errorOutcome('limit_exceeded', `at most ${WAITERS_PER_LOCK_MAX} candidates per election`));
    }
    if (this.waits.size >= WAITS_MAX) return done(errorOutcome('limit_exceeded', `at most ${WAITS_MAX} waits in all`));
    election.candidates.push({ waitId, sessionId: c.sessionId, value: c.value, waitMs: c.waitMs });
    this.waits.set(waitId, { kind: 'election', name: c.name, idempotencyKey: this.idempotencyKey });
    session.waitIds.add(waitId);
    this.emit({ type: 'election.queued', index: this.index, name: c.name, waitId, sessionId: c.sessionId, waitMs: c.waitMs });
    return { kind: 'queued', waitId };
  }

  private proclaim(c: Cmd<'election.proclaim'>): Outcome {
    const election = this.elections.get(c.name);
    if (!election?.leader || election.leader.term !== c.term) return notLeader(c.name, c.term);
    election.leader.value = c.value;
    this.emitLeader(election);
    return ok({ name: c.name, term: c.term, value: c.value });
  }

  private resign(c: Cmd<'election.resign'>): Outcome {
    const election = this.elections.get(c.name);
    if (!election?.leader || election.leader.term !== c.term) return notLeader(c.name, c.term);
    this.sessions.get(election.leader.sessionId)?.ledElections.delete(c.name);
    election.leader = null;
    this.promoteCandidate(election);
    return ok({ resigned: true });
  }

  // ---- leader-proposed endings ----

  private cancelWaits(c: Cmd<'wait.cancel'>): Outcome {
    let cancelled = 0;
    for (const waitId of c.waitIds) {
      const ref = this.waits.get(waitId);
      if (!ref) continue; // granted, resolved or never known: a no-op
      cancelled++;
      if (ref.kind === 'lock') {
        const lock = this.lockOf(ref.name);
        this.takeLockWaiter(lock, lock.waiters.findIndex((w) => w.waitId === waitId));
        this.resolveWait(waitId, ref, ok(notAcquiredBody(lock.name, lock)));
        // The cancelled waiter may have blocked the ones behind it (e.g. exclusive ahead of shared).
        this.grantWaiters(lock);
      } else {
        const election = this.electionOf(ref.name);
        this.takeCandidate(election, election.candidates.findIndex((w) => w.waitId === waitId));
        assert(election.leader !== null, `election ${ref.name} with candidates has no leader`);
        this.resolveWait(waitId, ref, ok({ elected: false, leader: { ...election.leader } }));
      }
    }
    return ok({ cancelled });
  }

  private expire(c: Cmd<'expire'>): Outcome {
    let sessions = 0;
    let holds = 0;
    let lockDelays = 0;
    for (const sessionId of c.sessionIds) {
      const session = this.sessions.get(sessionId);
      if (!session) continue; // deleted or expired meanwhile
      this.endSession(session, 'expired');
      sessions++;
    }
    for (const ref of c.holds) {
      const found = this.findHold(ref.name, ref.fencingToken);
      if (!found || found.hold.ttlMs === null) continue; // released meanwhile, or a session hold (ends with its session)
      this.removeHold(found.lock, found.hold, undefined);
      this.emit({ type: 'expired', index: this.index, name: ref.name, fencingToken: ref.fencingToken, sessionId: null });
      this.grantWaiters(found.lock);
      holds++;
    }
    for (const name of c.lockDelays) {
      const lock = this.locks.get(name);
      if (!lock || lock.lockDelayMs === null) continue;
      lock.lockDelayMs = null;
      this.emit({ type: 'lockDelay.ended', index: this.index, name });
      this.grantWaiters(lock);
      lockDelays++;
    }
    return ok({ expired: { sessions, holds, lockDelays } });
  }

  // ---- queries (read-only; `deadlines` from the leader's LeaseTable, else full TTLs: see views.ts) ----

  getSession(sessionId: string, deadlines: Deadlines = FULL_TTL): SessionView | null {
    const session = this.sessions.get(sessionId);
    return session ? this.sessionViewOf(session, deadlines) : null;
  }

  private sessionViewOf(session: SessionState, deadlines: Deadlines): SessionView {
    const holds: SessionView['holds'] = [];
    for (const name of session.heldLocks) {
      const hold = this.lockOf(name).holders.find((h) => h.sessionId === session.sessionId)!;
      holds.push({ kind: 'lock', name, fencingToken: hold.fencingToken });
    }
    for (const name of session.ledElections) {
      holds.push({ kind: 'election', name, fencingToken: this.electionOf(name).leader!.term });
    }
    const waits = [...session.waitIds].map((id) => this.waits.get(id)!.name);
    return sessionView(session, holds, waits, deadlines);
  }

  /** Sessions in id order; `after` is the last id of the previous page. */
  listSessions(limit?: number, after?: string, deadlines: Deadlines = FULL_TTL): { sessions: SessionView[]; next?: string } {
    const pageSize = clampLimit(limit);
    const ids = [...this.sessions.keys()].filter((id) => after === undefined || id > after).sort();
    const page = ids.slice(0, pageSize);
    const body: { sessions: SessionView[]; next?: string } = {
      sessions: page.map((id) => this.sessionViewOf(this.sessions.get(id)!, deadlines)),
    };
    if (ids.length > pageSize) body.next = page[page.length - 1];
    return body;
  }

  /** Any name answers: a free lock has no holders. */
  getLock(name: string, deadlines: Deadlines = FULL_TTL): LockView {
    return lockView(name, this.locks.get(name), deadlines);
  }

  /** Locks with holders, waiters or a lock-delay, in name order. */
  listLocks(prefix = '', limit?: number, after?: string, deadlines: Deadlines = FULL_TTL): { locks: LockListItem[]; next?: string } {
    const pageSize = clampLimit(limit);
    const names = [...this.locks.keys()]
      .filter((n) => n.startsWith(prefix) && (after === undefined || n > after))
      .sort();
    const page = names.slice(0, pageSize);
    const body: { locks: LockListItem[]; next?: string } = {
      locks: page.map((n) => lockListItem(this.locks.get(n)!, deadlines)),
    };
    if (names.length > pageSize) body.next = page[page.length - 1];
    return body;
  }

  getElection(name: string): ElectionView {
    const election = this.elections.get(name);
    return {
      name,
      leader: election?.leader ? { ...election.leader } : null,
      candidates: election ? election.candidates.length : 0,
    };
  }

  /** Chubby's sequencer check: does this token hold the lock now? */
  checkFencing(name: string, fencingToken: number): { valid: boolean } {
    return { valid: this.findHold(name, fencingToken) !== null };
  }

  /**
   * The applied idempotency record of a key, read-only: the service may
   * answer a repeat without a log write. Applying the repeat gives the same
   * answer, so this is an optimisation, never a different outcome.
   */
  lookupIdempotency(key: string, method: string, path: string): IdempotencyLookup {
    return this.idempotency.lookup(key, method, path);
  }

  /** The largest fencing token or term granted so far. */
  lastFencingToken(): number {
    return this.lastToken;
  }

  // ---- what a new leader's LeaseTable restarts (correctness.md item 14) ----

  allSessions(): Array<{ sessionId: string; ttlMs: number }> {
    return [...this.sessions.values()].map((s) => ({ sessionId: s.sessionId, ttlMs: s.ttlMs }));
  }

  allTtlHolds(): Array<{ name: string; fencingToken: number; ttlMs: number }> {
    const out: Array<{ name: string; fencingToken: number; ttlMs: number }> = [];
    for (const lock of this.locks.values()) {
      for (const hold of lock.holders) {
        if (hold.ttlMs !== null) out.push({ name: lock.name, fencingToken: hold.fencingToken, ttlMs: hold.ttlMs });
      }
    }
    return out;
  }

  allLockDelays(): Array<{ name: string; lockDelayMs: number }> {
    const out: Array<{ name: string; lockDelayMs: number }> = [];
    for (const lock of this.locks.values()) {
      if (lock.lockDelayMs !== null) out.push({ name: lock.name, lockDelayMs: lock.lockDelayMs });
    }
    return out;
  }

  allWaits(): Array<{ waitId: string; waitMs: number }> {
    const out: Array<{ waitId: string; waitMs: number }> = [];
    for (const [waitId, ref] of this.waits) {
      const queue = ref.kind === 'lock' ? this.lockOf(ref.name).waiters : this.electionOf(ref.name).candidates;
      const waiter = queue.find((w) => w.waitId === waitId);
      assert(waiter !== undefined, `wait ${waitId} is not queued on ${ref.name}`);
      out.push({ waitId, waitMs: waiter.waitMs });
    }
    return out;
  }

  // ---- snapshot ----

  snapshot(): Uint8Array {
    const data: SnapshotData = {
      version: SNAPSHOT_VERSION,
      appliedIndex: this.applied,
      lastToken: this.lastToken,
      maxNowMs: this.maxNowMs,
      sessions: [...this.sessions.values()].map((s) => ({
        sessionId: s.sessionId,
        ttlMs: s.ttlMs,
        lockDelayMs: s.lockDelayMs,
        name: s.name,
        heldLocks: [...s.heldLocks],
        ledElections: [...s.ledElections],
        waitIds: [...s.waitIds],
      })),
      locks: [...this.locks.values()],
      elections: [...this.elections.values()],
      waits: [...this.waits.entries()],
      idempotency: this.idempotency.toArray(),
    };
    return encodeValue(data);
  }

  restore(bytes: Uint8Array, index: LogIndex): void {
    const data = decodeValue(bytes) as SnapshotData;
    assert(data?.version === SNAPSHOT_VERSION, `unknown lock snapshot version ${String(data?.version)}`);
    this.sessions = new Map(
      data.sessions.map((s) => [
        s.sessionId,
        { ...s, heldLocks: new Set(s.heldLocks), ledElections: new Set(s.ledElections), waitIds: new Set(s.waitIds) },
      ]),
    );
    this.locks = new Map(data.locks.map((l) => [l.name, l]));
    this.elections = new Map(data.elections.map((e) => [e.name, e]));
    this.waits = new Map(data.waits);
    this.lastToken = data.lastToken;
    this.maxNowMs = data.maxNowMs;
    this.idempotency = IdempotencyTable.fromArray(data.idempotency);
    // The machine sees only normal entries; a Raft snapshot may be taken at a
    // no-op or config entry after the last of them. Keep the machine's own
    // applied index so that a restored replica is byte-identical to one that
    // applied the same commands (sim finding F5).
    assert(data.appliedIndex <= index, `lock snapshot applied at ${data.appliedIndex} is ahead of its Raft snapshot index ${index}`);
    this.applied = data.appliedIndex;
  }
}

type LockHoldMode = LockWaiter['mode'];

function done(outcome: Outcome): ApplyResult {
  return { kind: 'done', outcome };
}

function notHolder(name: string, fencingToken: number): Outcome {
  return errorOutcome('not_holder', `fencing token ${fencingToken} does not hold ${name}`);
}

function notLeader(name: string, term: number): Outcome {
  return errorOutcome('not_holder', `term ${term} does not lead election ${name}`);
}
