// The HTTP-shaped outcomes the machine answers, from one table (style.md
// item 6): clients match on `code`, never on the message.
import type { Outcome } from './commands.js';

export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  session_not_found: 404,
  not_found: 404,
  not_holder: 409,
  deadlock: 409,
  limit_mismatch: 409,
  idempotency_conflict: 409,
  /** Not in the contract's table: a named limit of the state machine is full (limits.ts). */
  limit_exceeded: 429,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function errorOutcome(code: ErrorCode, message: string, details: Record<string, unknown> = {}): Outcome {
  return { status: ERROR_STATUS[code], body: { error: { code, message, ...details } } };
}

export function ok(body: unknown): Outcome {
  return { status: 200, body };
}

export function created(body: unknown): Outcome {
  return { status: 201, body };
}

export function sessionNotFound(sessionId: string): Outcome {
  return errorOutcome('session_not_found', `session ${sessionId} is unknown or has expired`);
}

/** http-api.md: a 400's message says which field; `field` names it for programs, as the server's validation does. */
export function invalidArgument(message: string, field?: string): Outcome {
  return errorOutcome('invalid_argument', message, field === undefined ? {} : { field });
}
