// The HTTP-shaped outcomes the machine answers; error statuses from the one
// table of the API's errors (SERVER_ERRORS): clients match
// on `code`, never on the message.
import { SERVER_ERRORS } from 'lockstep-client';
import type { Outcome } from './commands.js';

/**
 * The codes a replicated command is refused with; the table's others are the
 * server's own (body size, per-node caps, no leader, unknown commit, bugs).
 */
export type MachineErrorCode =
  | 'invalid_argument'
  | 'unauthorized'
  | 'forbidden'
  | 'session_not_found'
  | 'not_found'
  | 'not_holder'
  | 'deadlock'
  | 'limit_mismatch'
  | 'idempotency_conflict'
  | 'limit_exceeded'
  /** A committed command the machine could not use (src/locks/machine.ts): applied as a no-op. */
  | 'internal';

export function errorOutcome(code: MachineErrorCode, message: string, details: Record<string, unknown> = {}): Outcome {
  return { status: SERVER_ERRORS[code].status, body: { error: { code, message, ...details } } };
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
