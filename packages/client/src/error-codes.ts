// The ONE table of the API's error codes (the HTTP contract's "Errors"): the
// status each is answered with and a default message. The server answers with
// these (src/server/errors.ts), the lock machine's refusals use them
// (src/locks/outcomes.ts), and the SDK's ServerErrorCode is its keys. It lives
// here, in the client package, because the client must not depend on the
// server; the server depends on the client package anyway (the CLI uses it).

export const SERVER_ERRORS = {
  invalid_argument: { status: 400, message: 'the request is invalid' },
  unauthorized: { status: 401, message: 'the bearer token is missing, unknown or revoked' },
  forbidden: { status: 403, message: 'the token may not make this request' },
  session_not_found: { status: 404, message: 'the session is unknown or has expired' },
  not_found: { status: 404, message: 'no such resource' },
  not_holder: { status: 409, message: 'the token does not hold' },
  deadlock: { status: 409, message: 'this wait would close a cycle in the wait-for graph' },
  limit_mismatch: { status: 409, message: 'the semaphore limit differs from the one in force' },
  idempotency_conflict: { status: 409, message: 'the Idempotency-Key was first used for another method or path' },
  payload_too_large: { status: 413, message: 'the request body is over the limit' },
  /** A named cap of the replicated state is full (sessions, waiters per lock, waits in all, holds in all, idempotency records). */
  limit_exceeded: { status: 429, message: 'a limit of the lock state is full' },
  /** A per-node cap (open waits, SSE streams) is full; has Retry-After. */
  too_many_requests: { status: 429, message: 'too many open waits or watches on this node' },
  no_leader: { status: 503, message: 'no leader could be reached in time' },
  unavailable: { status: 503, message: 'the command was not known to commit in time; the outcome is unknown, retry with the same Idempotency-Key' },
  internal: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** Error codes the server answers with. */
export type ServerErrorCode = keyof typeof SERVER_ERRORS;
