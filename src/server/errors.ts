// The ONE table of API error codes (http-api.md "Errors"; style.md item 6).
// Every non-2xx answer of this server, including fastify's own validation,
// parse, size and not-found errors, goes through apiErrorBody().

export const errorTable = {
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
  /** Not in the contract's table: our choice for the per-node wait/watch limits (documented in the OpenAPI). */
  too_many_requests: { status: 429, message: 'too many open waits or watches on this node' },
  /** Not in the contract's table: a named limit of the state machine is full (src/locks/limits.ts). */
  limit_exceeded: { status: 429, message: 'a limit of the lock state is full' },
  no_leader: { status: 503, message: 'no leader could be reached in time' },
  unavailable: { status: 503, message: 'the command was not known to commit in time; the outcome is unknown, retry with the same Idempotency-Key' },
  internal: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorTable;

export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; [detail: string]: unknown };
}

/** Thrown by handlers and services; the error handler turns it into the answer. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: Record<string, unknown> = {},
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? errorTable[code].message);
    this.status = errorTable[code].status;
  }

  body(): ApiErrorBody {
    return apiErrorBody(this.code, this.message, this.details);
  }
}

export function apiErrorBody(code: ErrorCode, message?: string, details: Record<string, unknown> = {}): ApiErrorBody {
  // Details first so that they can never override code or message.
  return { error: { ...details, code, message: message ?? errorTable[code].message } };
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorTable, code);
}

/** Shared JSON schema of every error answer (documented in OpenAPI). */
export const errorResponseSchema = {
  type: 'object',
  description: 'Every non-2xx answer. `code` is stable and what clients match on; `message` is for humans; other keys are details (e.g. `cycle` on deadlock, `field` on invalid_argument).',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: Object.keys(errorTable) },
        message: { type: 'string' },
      },
      required: ['code', 'message'],
      additionalProperties: true,
    },
  },
  required: ['error'],
} as const;
