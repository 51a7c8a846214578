// The bodies of the read endpoints and of acquire outcomes, built from the
// replicated state. Time-dependent fields (remainingMs, expiresInMs,
// lockDelayRemainingMs) are NOT known to the state machine: it never reads a
// clock. The leader knows them from its lease table (leases.ts,
// LeaseTable.deadlines(nowMs)); a caller without one (a follower answering a
// stale read, a test) passes nothing and gets the full TTL, which is what a
// new leader would grant anyway (docs/safety.md #14).
import { type HoldState, type LockState, type ElectionLeader, type SessionState, limitInForce } from './state.js';
import type { LockMode } from './commands.js';

export interface Deadlines {
  /** ms left on the session's lease, or null if unknown (then the full ttlMs is shown). */
  sessionRemainingMs(sessionId: string): number | null;
  holdRemainingMs(name: string, fencingToken: number): number | null;
  lockDelayRemainingMs(name: string): number | null;
}

/** Everything at its full TTL: what the machine can say without a leader's clock. */
export const FULL_TTL: Deadlines = {
  sessionRemainingMs: () => null,
  holdRemainingMs: () => null,
  lockDelayRemainingMs: () => null,
};

export interface HolderView {
  fencingToken: number;
  mode: LockMode;
  sessionId?: string;
  owner?: string;
  value?: string;
  expiresInMs?: number;
}

export interface WaiterView {
  sessionId?: string;
  owner?: string;
  mode: LockMode;
}

/** A lock as GET /v1/locks/{name} shows it. */
export interface LockView {
  name: string;
  mode: LockMode | null;
  /** The semaphore limit in force (1 when none is: a plain exclusive lock, a shared or a free one). */
  limit: number;
  holders: HolderView[];
  waiters: WaiterView[];
  lockDelayRemainingMs?: number;
}

/** An item of GET /v1/locks: the lock as GET /v1/locks/{name} shows it. */
export type LockListItem = LockView;

export interface SessionView {
  sessionId: string;
  name: string;
  ttlMs: number;
  lockDelayMs: number;
  remainingMs: number;
  holds: Array<{ kind: 'lock' | 'election'; name: string; fencingToken: number }>;
  waits: string[];
}

export interface ElectionView {
  name: string;
  leader: ElectionLeader | null;
  candidates: number;
}

export interface AcquiredBody {
  acquired: true;
  name: string;
  fencingToken: number;
  mode: LockMode;
  sessionId?: string;
  expiresInMs?: number;
}

/** One hold of a granted lock set. */
export interface SetHoldView {
  name: string;
  fencingToken: number;
  mode: LockMode;
}

export interface SetAcquiredBody {
  acquired: true;
  holds: SetHoldView[];
  sessionId?: string;
  expiresInMs?: number;
}

/** A lock that stood in the way of an acquire or a lock set. */
export interface BlockedView {
  name: string;
  holders: HolderView[];
  queueLength: number;
  /** When a lock-delay is what stands in the way (else a free lock answered `acquired: false` with nobody to blame). */
  lockDelayRemainingMs?: number;
}

/** A refused acquire names what stood in the way, as a lock set's `blocked` does for each of its locks. */
export interface NotAcquiredBody extends BlockedView {
  acquired: false;
}

export interface SetNotAcquiredBody {
  acquired: false;
  blocked: BlockedView[];
}

function holdExpiresInMs(name: string, hold: HoldState, deadlines: Deadlines): number | undefined {
  if (hold.ttlMs === null) return undefined;
  return deadlines.holdRemainingMs(name, hold.fencingToken) ?? hold.ttlMs;
}

export function holderView(name: string, hold: HoldState, deadlines: Deadlines = FULL_TTL): HolderView {
  const view: HolderView = { fencingToken: hold.fencingToken, mode: hold.mode };
  if (hold.sessionId !== null) view.sessionId = hold.sessionId;
  if (hold.owner !== null) view.owner = hold.owner;
  if (hold.value !== null) view.value = hold.value;
  const expiresInMs = holdExpiresInMs(name, hold, deadlines);
  if (expiresInMs !== undefined) view.expiresInMs = expiresInMs;
  return view;
}

export function acquiredBody(name: string, hold: HoldState, deadlines: Deadlines = FULL_TTL): AcquiredBody {
  const body: AcquiredBody = { acquired: true, name, fencingToken: hold.fencingToken, mode: hold.mode };
  if (hold.sessionId !== null) body.sessionId = hold.sessionId;
  const expiresInMs = holdExpiresInMs(name, hold, deadlines);
  if (expiresInMs !== undefined) body.expiresInMs = expiresInMs;
  return body;
}

export function notAcquiredBody(name: string, lock: LockState | undefined, deadlines: Deadlines = FULL_TTL): NotAcquiredBody {
  return { acquired: false, ...blockedView(name, lock, deadlines) };
}

/** A lock-delay's time left; the machine has no clock, so without a lease table its full length (never shorter than what is left). */
function lockDelayLeftMs(name: string, lock: LockState | undefined, deadlines: Deadlines): number | undefined {
  if (lock === undefined || lock.lockDelayMs === null) return undefined;
  return deadlines.lockDelayRemainingMs(name) ?? lock.lockDelayMs;
}

/**
 * A granted set: every hold in the order asked (a hold the session had
 * already comes back as it is). `expiresInMs` for TTL sets, whose holds all
 * have the set's TTL.
 */
export function setAcquiredBody(holds: Array<{ name: string; hold: HoldState }>, sessionId: string | null, ttlMs: number | null): SetAcquiredBody {
  const body: SetAcquiredBody = {
    acquired: true,
    holds: holds.map(({ name, hold }) => ({ name, fencingToken: hold.fencingToken, mode: hold.mode })),
  };
  if (sessionId !== null) body.sessionId = sessionId;
  if (ttlMs !== null) body.expiresInMs = ttlMs;
  return body;
}

/** The machine has no clock: a lock-delay shows its full length (never shorter than what is left, views.ts header). */
export function blockedView(name: string, lock: LockState | undefined, deadlines: Deadlines = FULL_TTL): BlockedView {
  const view: BlockedView = {
    name,
    holders: lock ? lock.holders.map((h) => holderView(name, h, deadlines)) : [],
    queueLength: lock ? lock.waiters.length : 0,
  };
  const delayMs = lockDelayLeftMs(name, lock, deadlines);
  if (delayMs !== undefined) view.lockDelayRemainingMs = delayMs;
  return view;
}

export function lockListItem(lock: LockState, deadlines: Deadlines = FULL_TTL): LockListItem {
  const item: LockListItem = {
    name: lock.name,
    mode: lock.mode,
    limit: limitInForce(lock) ?? 1,
    holders: lock.holders.map((h) => holderView(lock.name, h, deadlines)),
    waiters: lock.waiters.map((w) => {
      const view: WaiterView = { mode: w.mode };
      if (w.sessionId !== null) view.sessionId = w.sessionId;
      if (w.owner !== null) view.owner = w.owner;
      return view;
    }),
  };
  const delayMs = lockDelayLeftMs(lock.name, lock, deadlines);
  if (delayMs !== undefined) item.lockDelayRemainingMs = delayMs;
  return item;
}

export function lockView(name: string, lock: LockState | undefined, deadlines: Deadlines = FULL_TTL): LockView {
  if (!lock) return { name, mode: null, limit: 1, holders: [], waiters: [] };
  return lockListItem(lock, deadlines);
}

export function sessionView(
  session: SessionState,
  holds: SessionView['holds'],
  waits: string[],
  deadlines: Deadlines = FULL_TTL,
): SessionView {
  return {
    sessionId: session.sessionId,
    name: session.name,
    ttlMs: session.ttlMs,
    lockDelayMs: session.lockDelayMs,
    remainingMs: deadlines.sessionRemainingMs(session.sessionId) ?? session.ttlMs,
    holds,
    waits,
  };
}
