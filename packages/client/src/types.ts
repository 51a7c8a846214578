// Request and response bodies of the HTTP API, v1, as the SDK sees them
// (docs/http-api.md in the repository). Durations are milliseconds.

export type LockMode = 'exclusive' | 'shared';

export interface SessionCreateOptions {
  /** 1000..300000, server default 10000. */
  ttlMs?: number;
  /** 0..60000, server default 0 (Chubby's lock-delay, applied on expiry only). */
  lockDelayMs?: number;
  name?: string;
}

export interface SessionCreated {
  sessionId: string;
  ttlMs: number;
  lockDelayMs: number;
  name: string;
}

export interface SessionInfo {
  sessionId: string;
  name: string;
  ttlMs: number;
  lockDelayMs: number;
  remainingMs: number;
  holds: { kind: 'lock' | 'election'; name: string; fencingToken: number }[];
  waits: string[];
}

export interface SessionList {
  sessions: SessionInfo[];
  next?: string;
}

export interface AcquireOptions {
  /** Exactly one of sessionId and ttlMs. */
  sessionId?: string;
  /** 1000..86400000. */
  ttlMs?: number;
  /** 0 (try once) ..300000: wait in the FIFO queue this long. */
  waitMs?: number;
  mode?: LockMode;
  /** Exclusive only: up to `limit` holders (a semaphore). */
  limit?: number;
  owner?: string;
  value?: string;
}

export interface LockHolder {
  fencingToken: number;
  mode: LockMode;
  sessionId?: string;
  owner?: string;
  value?: string;
  expiresInMs?: number;
}

export type AcquireResult =
  | { acquired: true; name: string; fencingToken: number; mode: LockMode; sessionId?: string; expiresInMs?: number }
  | { acquired: false; name: string; holders: LockHolder[]; queueLength: number; lockDelayRemainingMs?: number };

/** One lock of a lock set, as asked. */
export interface SetLock {
  name: string;
  /** Default exclusive. */
  mode?: LockMode;
  /** Exclusive only: up to `limit` holders (a semaphore). Default 1. */
  limit?: number;
}

export interface AcquireSetOptions {
  /** 2..64 distinct names. */
  locks: SetLock[];
  /** Exactly one of sessionId and ttlMs. */
  sessionId?: string;
  ttlMs?: number;
  /** 0 (try once) ..300000: wait in the FIFO line of every lock this long. */
  waitMs?: number;
  owner?: string;
  value?: string;
}

export interface SetHold {
  name: string;
  fencingToken: number;
  mode: LockMode;
}

/** A lock that stood in the way of a lock set. */
export interface LockSetBlocked {
  name: string;
  holders: LockHolder[];
  queueLength: number;
  lockDelayRemainingMs?: number;
}

export type AcquireSetResult =
  | { acquired: true; holds: SetHold[]; sessionId?: string; expiresInMs?: number }
  | { acquired: false; blocked: LockSetBlocked[] };

export interface LockWaiter {
  sessionId?: string;
  owner?: string;
  mode: LockMode;
}

export interface LockInfo {
  name: string;
  mode: LockMode | null;
  limit: number;
  holders: LockHolder[];
  waiters: LockWaiter[];
  lockDelayRemainingMs?: number;
}

export interface LockList {
  /** Each as GET /v1/locks/{name} shows it (`limit` included: a semaphore's holders say `exclusive`). */
  locks: LockInfo[];
  next?: string;
}

export interface LockEventData {
  name: string;
  fencingToken?: number;
  sessionId?: string;
  index: number;
  [key: string]: unknown;
}

/** One event of GET /v1/locks/{name}/watch. The first is `state`. */
export interface LockWatchEvent {
  type: 'state' | 'acquired' | 'released' | 'expired' | 'queued' | 'dequeued' | (string & {});
  data: LockEventData;
}

export interface ElectionLeader {
  sessionId: string;
  value: string;
  term: number;
}

export type CampaignResult =
  | { elected: true; name: string; term: number; value: string }
  | { elected: false; name: string; leader: ElectionLeader | null };

export interface ElectionInfo {
  name: string;
  leader: ElectionLeader | null;
  candidates: number;
}

export interface ClusterMember {
  id: string;
  apiUrl: string | null;
  peerUrl: string;
  role: string;
  voter: boolean;
  matchIndex?: number;
  reachable?: boolean;
}

export interface ClusterInfo {
  clusterId: string;
  self: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: ClusterMember[];
}

export type TokenRole = 'admin' | 'writer' | 'reader';

/** A token as the API shows it: never its secret. */
export interface TokenInfo {
  id: string;
  name: string;
  role: TokenRole;
  /** Names it may touch start with one of these; empty: every name. */
  prefixes: string[];
}

/** The answer to createToken: the only time the secret is shown. */
export interface TokenCreated extends TokenInfo {
  secret: string;
}

/** Per call: `signal` ends the call (LockstepError 'aborted'); every method that does network I/O takes it. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface ReadOptions {
  /** 'stale' answers from the node's local state (not linearizable). */
  consistency?: 'linearizable' | 'stale';
  signal?: AbortSignal;
}
