// Every limit the HTTP layer enforces, named and checked at start-up
// (one owner per limit). The values are repeated in the OpenAPI descriptions so
// that clients can read them from /docs/json.

import { IDEMPOTENCY_KEY_CHARS_MAX, NAME_PATTERN as MACHINE_NAME_PATTERN } from '../locks/limits.js';

export interface ServerLimits {
  /** Largest request body; larger is 413 payload_too_large before any field is read. */
  bodyBytesMax: number;
  /** API connections open at once on this node; a connection past it is closed at once (Node's maxConnections). */
  connectionsMax: number;
  /** How long a new connection may stay silent before its first request: closed after that. */
  firstRequestMs: number;
  /** How long receiving one request (its headers and body, not the answer: a long poll is not cut) may take: closed after that. */
  requestReceiveMs: number;
  /** Long-poll acquires/campaigns waiting at once on this node; more is 429 too_many_requests. */
  waitsMax: number;
  /**
   * Of those, waiting at once for one writer or reader token; more is 429 too_many_requests, so that one
   * token cannot take every wait of the leader from the others. Admin tokens and auth off: not counted.
   */
  waitsPerTokenMax: number;
  /** Open SSE streams (lock watches + election observers) on this node; more is 429 too_many_requests. */
  watchesMax: number;
  /**
   * Of those, open at once under one writer or reader token; more is 429 too_many_requests, so that
   * one token cannot take every stream of the node from the others. Admin tokens and auth off: not counted.
   */
  watchesPerTokenMax: number;
  /** How long a follower waits for a leader to be known before 503 no_leader. */
  leaderWaitMs: number;
  /** Bound on one propose / read barrier on the leader before 503 unavailable. */
  proposeTimeoutMs: number;
  /** Extra time a forwarded request may take beyond its own waitMs. */
  forwardSlackMs: number;
  /** Interval between SSE heartbeat comments (keeps proxies from closing idle streams). */
  sseHeartbeatMs: number;
  /** Events buffered per SSE stream before the slow reader is cut off. */
  sseBufferedEventsMax: number;
  /** How often the leader looks for due leases. */
  leaseTickMs: number;
  /** Items in one proposed `expire` / `wait.cancel` batch. */
  expireBatchMax: number;
  /** Grace added to every deadline when a new leader takes over (docs/safety.md #14). */
  failoverGraceMs: number;
  /** Largest page for list endpoints. */
  pageSizeMax: number;
  /** Default page size for list endpoints. */
  pageSizeDefault: number;
  /** Retry-After (seconds) on 503 no_leader / unavailable. */
  retryAfterSeconds: number;
}

export const defaultServerLimits: ServerLimits = {
  bodyBytesMax: 64 * 1024,
  connectionsMax: 16_384,
  firstRequestMs: 10_000,
  requestReceiveMs: 30_000,
  waitsMax: 10_000,
  waitsPerTokenMax: 2_500,
  watchesMax: 1_000,
  watchesPerTokenMax: 250,
  leaderWaitMs: 2_000,
  proposeTimeoutMs: 5_000,
  forwardSlackMs: 5_000,
  sseHeartbeatMs: 15_000,
  sseBufferedEventsMax: 1_000,
  leaseTickMs: 100,
  expireBatchMax: 256,
  failoverGraceMs: 1_000,
  pageSizeMax: 1_000,
  pageSizeDefault: 100,
  retryAfterSeconds: 1,
};

/**
 * Field limits of the contract (http-api.md), for the route schemas. The lock
 * machine owns them (src/locks/limits.ts refuses what exceeds them when a
 * command applies): the routes take them from there, so that the two can
 * never disagree.
 */
export {
  VALUE_CHARS_MAX,
  OWNER_CHARS_MAX,
  SESSION_NAME_CHARS_MAX,
  SESSION_TTL_MS_MIN,
  SESSION_TTL_MS_MAX,
  SESSION_TTL_MS_DEFAULT,
  LOCK_DELAY_MS_MAX,
  HOLD_TTL_MS_MIN,
  HOLD_TTL_MS_MAX,
  WAIT_MS_MAX,
  ID_CHARS_MAX,
  HOLDERS_PER_LOCK_MAX as SEMAPHORE_LIMIT_MAX,
} from '../locks/limits.js';
/** The name rule as JSON Schema writes it (a string, not a RegExp). */
export const NAME_PATTERN = MACHINE_NAME_PATTERN.source;
/** The longest name NAME_PATTERN allows (its `{0,255}` after the first character). */
export const NAME_CHARS_MAX = 256;
/** Idempotency-Key: 1-IDEMPOTENCY_KEY_CHARS_MAX printable ASCII characters (0x20-0x7e). */
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_CHARS_MAX}}$`);

export function resolveLimits(partial: Partial<ServerLimits> | undefined): ServerLimits {
  const limits = { ...defaultServerLimits, ...(partial ?? {}) };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`server limit ${key} must be a finite non-negative number, got ${value}`);
  }
  if (limits.bodyBytesMax < 1024) throw new Error('server limit bodyBytesMax must be at least 1024');
  if (limits.pageSizeDefault > limits.pageSizeMax) throw new Error('pageSizeDefault must not exceed pageSizeMax');
  return limits;
}
