// Typed errors of the SDK. Callers match on `code`, never on the message
// (stable codes). Server codes are the keys of the one error table (error-codes.ts);
// the client adds a few of its own for failures that never reached a server
// or that the SDK decides itself.

import type { ServerErrorCode } from './error-codes.js';

export type { ServerErrorCode };

/** Codes the SDK raises itself. */
export type ClientErrorCode =
  /** No endpoint answered (connection refused, reset, DNS) within the attempt or time budget. */
  | 'unreachable'
  /** The call's total time budget ran out; for a state-changing call the outcome is unknown. */
  | 'timeout'
  /** The server answered something that is not the contract (not JSON, no error body). */
  | 'protocol'
  /** withLock: the lock could not be had within waitMs. */
  | 'not_acquired'
  /** The session behind a hold or an election ended, or its lease may have run out. */
  | 'session_lost'
  /** The caller aborted the call through its AbortSignal. */
  | 'aborted';

export type ErrorCode = ServerErrorCode | ClientErrorCode;

export class LockstepError extends Error {
  override readonly name = 'LockstepError';
  constructor(
    readonly code: ErrorCode | (string & {}),
    message: string,
    /** The HTTP status; 0 when no server answered. */
    readonly status: number,
    /** The rest of the error body (e.g. `cycle` for deadlock), and client-side context. */
    readonly details: Record<string, unknown> = {},
    /** Parsed Retry-After, when the server sent one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }

}

/** The caller's abort through `signal`, with the reason it gave. */
export function abortedError(signal: AbortSignal | undefined, details: Record<string, unknown> = {}): LockstepError {
  return new LockstepError('aborted', `aborted: ${String(signal?.reason?.message ?? signal?.reason ?? 'by caller')}`, 0, details);
}

export function isLockstepError(err: unknown, code?: ErrorCode): err is LockstepError {
  return err instanceof LockstepError && (code === undefined || err.code === code);
}

/**
 * 401 unauthorized or 403 forbidden: the server refused the client's token.
 * Final for that token (a revoked token stays revoked; a token's role and
 * prefixes never change): retrying with it cannot succeed.
 */
export function isTokenRefused(err: unknown): err is LockstepError {
  return isLockstepError(err, 'unauthorized') || isLockstepError(err, 'forbidden');
}
