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
  /** Every outstanding wait (lock waiter or election candidate) by its id. */
  waits: Map<string, WaitRef>;
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

export interface WaitRef {
  kind: 'lock' | 'election';
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
  /** 2: tokens, sessions' createdBy, waits' tokenId. A version 1 snapshot reads as having none. */
  version: 1 | 2;
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
  idempotency: IdempotencyRecord[];
  tokens?: TokenState[];
}
