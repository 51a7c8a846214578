// The lockstep TypeScript SDK (package lockstep-client): fetch and Node built-ins only, no server code.
export { Client, type ClientOptions } from './client.js';
export { isSendableToken } from './token.js';
export { httpsFetch, httpsAgent, httpFetch, httpAgent, type TlsOptions } from './https-fetch.js';
export { LockstepError, isLockstepError, type ErrorCode, type ServerErrorCode, type ClientErrorCode } from './errors.js';
export { SERVER_ERRORS } from './error-codes.js';
export { Session, type SessionOptions, HEARTBEATS_PER_TTL } from './session.js';
export { SESSION_NAME_CHARS_MAX, sessionName } from './session-name.js';
export { LeaseGuard, LeaseEndedError, defaultSafetyMarginMs, type LeaseEndReason } from './lease.js';
export { type LockHold, type WithLockOptions, type HoldTransport, type HoldLease, WAIT_MS_MAX_PER_REQUEST, acquireWaiting, waitInChunks } from './hold.js';
export { type LockSetHold, type WithLocksOptions, type SetHoldTransport, releaseAll } from './hold-set.js';
export { Election, type ElectOptions, type Leadership, type DemotionReason } from './election.js';
export { SseParser, readSse, type SseEvent } from './sse.js';
export { parseRetryAfterMs } from './retry-after.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export type { RequestSpec, HttpResult, RetryClass } from './http.js';
export type * from './types.js';
