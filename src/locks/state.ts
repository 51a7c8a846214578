// The replicated state of the lock service: plain data, owned by LockMachine
// and changed only by the command handlers (sessions.ts, locks.ts, ...).
// Maps and Sets are iterated in insertion order everywhere, and snapshots
// keep that order, so every replica (and every restored copy) iterates alike.
import type { LockMode } from './commands.js';
import { IdempotencyTable } from './idempotency.js';
import { TokenTable, type TokenState } from './tokens.js';

/** The whole replicated state: what a snapshot holds (snapshot.ts). */
export interface MachineState {
  sessions: Map<string, SessionState>;
  locks: Map<string, LockState>;
  elections: Map<string, ElectionState>;
  /** Every outstanding wait (lock waiter, lock set or election candidate) by its id. */
  waits: Map<string, WaitRef>;
  /** Lock sets waiting in line (lock-sets.ts), by their wait id; each has a place in the queue of every lock it still needs. */
  lockSets: Map<string, LockSetWait>;
  /**
   * Derived, not in the snapshot (recounted on restore): the queue places of
   * every wait — one per single waiter and candidate, one per lock a set
   * waits for. WAITS_MAX bounds it (limits.ts).
   */
  queuedPlaces: number;
  /**
   * Derived, not in the snapshot (recounted on restore): lock holds and
   * election leaderships, over all names. HOLDS_MAX bounds it (limits.ts).
   */
  heldCount: number;
  /** The largest fencing token (or election term) ever granted. */
  lastToken: number;
  /** The largest proposal nowMs seen: the monotonic clock that ages idempotency records. */
  maxNowMs: number;
  idempotency: IdempotencyTable;
  /** The tokens of the replicated state (not the root token: it is each node's configuration). */
  tokens: TokenTable;
  /** The index of the last command applied (or restored). */
  applied: number;
}

export function emptyState(idempotencyRecordsMax?: number): MachineState {
  return {
    sessions: new Map(),
    locks: new Map(),
    elections: new Map(),
    waits: new Map(),
    lockSets: new Map(),
    queuedPlaces: 0,
    heldCount: 0,
    lastToken: 0,
    maxNowMs: 0,
    idempotency: new IdempotencyTable(idempotencyRecordsMax),
    tokens: new TokenTable(),
    applied: 0,
  };
}

export interface SessionState {
  sessionId: string;
  ttlMs: number;
  lockDelayMs: number;
  name: string;
  /** The token that created it (null: auth was off): a token with prefixes lists the sessions it made. */
  createdBy: string | null;
  /** Names of locks this session holds (in grant order). */
  heldLocks: Set<string>;
  /** Names of elections this session leads. */
  ledElections: Set<string>;
  /** Its outstanding waits (lock or election), in arrival order. */
  waitIds: Set<string>;
}

export interface HoldState {
  fencingToken: number;
  mode: LockMode;
  /** Exactly one of sessionId and ttlMs. */
  sessionId: string | null;
  ttlMs: number | null;
  owner: string | null;
  value: string | null;
}

/**
 * A place in one lock's FIFO queue: a single acquire, or one lock of a lock
 * set (then `waitId` is the set's, and state.lockSets has the set).
 */
export interface LockWaiter {
  waitId: string;
  sessionId: string | null;
  ttlMs: number | null;
  mode: LockMode;
  limit: number;
  owner: string | null;
  value: string | null;
  waitMs: number;
}

export interface LockState {
  name: string;
  /** null while there are no holders. */
  mode: LockMode | null;
  /** The semaphore limit; in force only as limitInForce() says. */
  limit: number;
  holders: HoldState[];
  /** FIFO. */
  waiters: LockWaiter[];
  /** Chubby's lock-delay: non-null while the lock refuses new holders after a holder's session expired. */
  lockDelayMs: number | null;
}

/** The queue places of a state, counted (queuedPlaces is kept equal to this). */
export function countQueuedPlaces(state: Pick<MachineState, 'locks' | 'elections'>): number {
  let places = 0;
  for (const lock of state.locks.values()) places += lock.waiters.length;
  for (const election of state.elections.values()) places += election.candidates.length;
  return places;
}

/** The holds of a state, counted (heldCount is kept equal to this). */
export function countHolds(state: Pick<MachineState, 'locks' | 'elections'>): number {
  let holds = 0;
  for (const lock of state.locks.values()) holds += lock.holders.length;
  for (const election of state.elections.values()) if (election.leader !== null) holds += 1;
  return holds;
}

/**
 * http-api.md "Locks": `limit` is for exclusive locks only, and is in force
 * while the lock has holders or waiters. Only exclusive holders and waiters
 * carry one: a lock held or awaited in shared mode alone has none in force,
 * and the next exclusive acquire sets it (it is not 409 limit_mismatch
 * against the default 1 of a read lock).
 */
export function limitInForce(lock: LockState | undefined): number | null {
  if (lock === undefined) return null;
  const exclusive = lock.holders.some((h) => h.mode === 'exclusive') || lock.waiters.some((w) => w.mode === 'exclusive');
  return exclusive ? lock.limit : null;
}

export interface ElectionLeader {
  sessionId: string;
  value: string;
  term: number;
}

export interface Candidate {
  waitId: string;
  sessionId: string;
  value: string;
  waitMs: number;
}

export interface ElectionState {
  name: string;
  leader: ElectionLeader | null;
  /** FIFO. */
  candidates: Candidate[];
}

/** One lock of a waiting set, as asked. */
export interface LockSetEntry {
  name: string;
  mode: LockMode;
  limit: number;
  /**
   * The session held this lock already (when it asked, or it got it through
   * another request while the set waited): the set has no place in its
   * queue, and its grant returns that hold as it is. Releasing it while the
   * set waits ends the set's wait (409 not_holder).
   */
  carried: boolean;
}

/**
 * A lock set waiting in line (http-api.md "Lock sets"). It has one place in
 * the queue of each lock it does not carry (a LockWaiter with the set's
 * waitId, so views, limits and deadlock detection see it like any waiter)
 * and is granted in one command, on all of them, or not at all.
 */
export interface LockSetWait {
  waitId: string;
  /** Exactly one of sessionId and ttlMs. */
  sessionId: string | null;
  ttlMs: number | null;
  owner: string | null;
  value: string | null;
  waitMs: number;
  /** In the order asked: the grant's holds come back in this order. */
  locks: LockSetEntry[];
}

export interface WaitRef {
  /** 'set': a lock set; `name` is its first lock (its places are in state.lockSets). */
  kind: 'lock' | 'set' | 'election';
  name: string;
  /** The Idempotency-Key of the command that queued it: its record is filled in when the wait resolves. */
  idempotencyKey: string | null;
  /** The token of the request waiting (null: auth off): revoking it ends the wait with 401. */
  tokenId: string | null;
}

export interface IdempotencyRecord {
  key: string;
  method: string;
  path: string;
  /** The machine's monotonic nowMs when recorded (ages the record). */
  recordedAtMs: number;
  /** null while the first command's wait is still queued. */
  outcome: { status: number; body: unknown } | null;
  waitId: string | null;
}

/** Snapshot form: arrays instead of Maps and Sets, order preserved. */
export interface SnapshotData {
  /** 3: tokens, sessions' createdBy, waits' tokenId. 2: lock sets. Older ones read as having none. */
  version: 1 | 2 | 3;
  appliedIndex: number;
  lastToken: number;
  maxNowMs: number;
  sessions: Array<Omit<SessionState, 'heldLocks' | 'ledElections' | 'waitIds'> & {
    heldLocks: string[];
    ledElections: string[];
    waitIds: string[];
  }>;
  locks: LockState[];
  elections: ElectionState[];
  waits: Array<[string, WaitRef]>;
  lockSets: LockSetWait[];
  idempotency: IdempotencyRecord[];
  tokens?: TokenState[];
}
