// The records a chaos run writes (history.jsonl, faults.jsonl) and the
// checkers read. Times are milliseconds on the runner's monotonic clock,
// measured from the start of the run.

export type OpResult = 'ok' | 'fail' | 'unknown';

export type OpKind =
  | 'acquire'
  | 'release'
  | 'read'
  | 'session.create'
  | 'session.keepalive'
  | 'session.get'
  | 'session.delete'
  | 'campaign'
  | 'resign'
  | 'register.write'
  /** A lock set (several locks, all or nothing): see `set`; the checkers see it as one op per lock (checker/lock-sets.ts). */
  | 'set.acquire'
  | 'set.release';

/** What a lock-set op asked and was told. */
export interface SetOpDetail {
  /** set.acquire: the locks asked for, in order. */
  names: string[];
  /** set.acquire granted: every hold, in the order asked; set.release: the holds it releases. */
  holds?: Array<{ name: string; fencingToken: number }>;
  /** set.acquire not granted: the locks that stood in the way and their holders' tokens (the others were free). */
  blocked?: Array<{ name: string; holders: number[] }>;
  /** set.release refused (409 not_holder): the locks whose holds did not hold; the others did, and nothing was released. */
  notHolding?: string[];
}

/**
 * One client operation. `result` is 'ok' when the server answered the
 * operation's success (an acquire that answered `acquired: false` is 'ok'
 * with `acquired: false`: the server committed to "held by someone"), 'fail'
 * when it surely did not apply (4xx, not_holder), 'unknown' when it may or
 * may not have applied (timeout, connection error, 503 unavailable).
 */
export interface OpRecord {
  /** The client (logical process) that ran it. */
  process: string;
  op: OpKind;
  /** Lock, election, or session name the op is about. */
  lock: string;
  invokeMs: number;
  /** Absent or Infinity for unknown results. */
  completeMs: number;
  /** The node id (or API URL) the final attempt went to. */
  node: string;
  result: OpResult;
  /** acquire ok+acquired: the token granted; release: the token released; register.write: the token written. */
  fencingToken?: number;
  /** acquire: true when the hold was granted. */
  acquired?: boolean;
  /** acquire acquired:false and read: the holders' tokens the server reported. */
  holders?: number[];
  /** TTL holds: the hold's TTL. */
  ttlMs?: number;
  sessionId?: string;
  /** x-lockstep-index of the answer. */
  index?: number;
  /** Error code or message, for the report. */
  error?: string;
  /** How many HTTP attempts (retries with the same Idempotency-Key). */
  attempts?: number;
  /** The result was learned after the run by asking again with the same Idempotency-Key. */
  resolvedLate?: boolean;
  /** set.acquire and set.release only. */
  set?: SetOpDetail;
}

export type FaultKind = 'partition' | 'kill' | 'pause' | 'clock' | 'membership' | 'transfer';

/** One fault, from injection to heal. */
export interface FaultRecord {
  kind: FaultKind;
  /** e.g. 'halves', 'one-way', 'isolate-leader', 'kill-all', 'jump', 'skew'. */
  shape: string;
  /** Node ids affected. */
  targets: string[];
  startMs: number;
  /** When it was healed; Infinity if never (a membership change is instant: = startMs). */
  endMs: number;
  /** Free-form detail: cut links, clock offset and rate, etc. */
  detail?: Record<string, unknown>;
}

/** A clock fault as written into a node's LOCKSTEP_FAULT_CLOCK_FILE: in force on [fromMs, toMs). */
export interface ClockSegment {
  node: string;
  fromMs: number;
  toMs: number;
  /** The clock's speed during the segment. */
  rate: number;
  /** The jump applied at fromMs relative to the previous segment (positive: forward). */
  jumpMs: number;
}

/** A status poll of one node: who it thinks leads, in which term. */
export interface LeaderObservation {
  atMs: number;
  node: string;
  role: string | null;
  leader: string | null;
  term: number | null;
  commitIndex: number | null;
}

/** A write accepted or refused by the fenced register. */
export interface RegisterWrite {
  atMs: number;
  lock: string;
  token: number;
  process: string;
  accepted: boolean;
  /** The register's largest token for the lock before this write. */
  maxBeforeToken: number;
}

export const isComplete = (op: OpRecord): boolean => op.result !== 'unknown' && Number.isFinite(op.completeMs);
