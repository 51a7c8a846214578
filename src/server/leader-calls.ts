// Writes a member hands its leader as named calls on the peer channel
// (issue 12), instead of relaying the client's HTTP request: the member's own
// route has already parsed the body by its schema, authenticated the token,
// checked the permission and built the command, so the leader runs the lock
// service and nothing else — no second routing, body parse, schema pass,
// hooks or response serialization, which is where a relayed request spent the
// leader's CPU. The member serializes the answer by its own route's schema.
//
// Trust: a member is authenticated by the peer channel (mutual TLS, or a
// network that is the cluster's own) and can already append any entry to the
// log, so letting it vouch for a client's permission gives it no power it did
// not have. A token revoked since the member checked it is still refused: the
// proposal carries the token id and the lock machine checks it when the entry
// applies; a keepalive, which writes nothing, is checked against the leader's
// applied state, as for a request made to the leader. A member may be buggy,
// so every argument is checked before use; a command by the lock machine's own
// validation (src/locks/validate.ts).

import type { FastifyBaseLogger } from 'fastify';
import type { Cancel } from '../cancel.js';
import type { LockCommand } from '../locks/commands.js';
import { validateCommand, validateEnvelope } from '../locks/validate.js';
import { NotLeaderError, OutcomeUnknownError } from '../node/api.js';
import type { CallAnswer, ForwardCall } from '../transport/api.js';
import { recheckToken } from './access.js';
import { type Answer, INDEX_HEADER } from './answer.js';
import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';
import { noLeaderError, unavailableError } from './forward.js';
import type { IdempotencyInfo } from './lock-service.js';
import type { Services } from './services.js';
import { withTimeLeft } from './time-left.js';

const LOCK_EXECUTE = 'lock.execute';
const SESSION_KEEPALIVE = 'session.keepalive';

export interface LockExecuteArgs {
  command: LockCommand;
  idempotency: IdempotencyInfo | null;
  /** The token the client's request acts as (null: auth off), checked by the member. */
  tokenId: string | null;
  /** A refused acquire says how long its blockers have left by the leader's deadlines (time-left.ts). */
  timeLeft: boolean;
}

export function lockExecuteCall(args: LockExecuteArgs): ForwardCall {
  return { call: LOCK_EXECUTE, args };
}

export function keepaliveCall(sessionId: string, tokenId: string | null): ForwardCall {
  return { call: SESSION_KEEPALIVE, args: { sessionId, tokenId } };
}

/** The leader's keepalive: restarts the session's lease at a full TTL, no log write. Also the route's own, on the leader. */
export async function keepaliveOnLeader(ctx: ServerContext, services: Services, sessionId: string, tokenId: string | null): Promise<Answer> {
  // No log write, so no apply-time check: the leader's applied state judges the token (a
  // revocation it has not applied yet is at most one apply behind its commit). Only once it
  // has applied what its predecessors committed: a leader that has just taken over may not
  // have applied the token's creation yet, and a 401 is final to the client (the SDK ends
  // the session), where a wait of one commit is not.
  if (!services.leases.isReady()) await services.leases.whenReady();
  recheckToken(ctx, tokenId);
  const body = await services.leases.keepalive(sessionId);
  return { status: 200, body, index: ctx.machine.appliedIndex() };
}

/** Leader side: runs a member's call; resolves with its answer (an error is an answer), never rejects. */
export async function answerCall(ctx: ServerContext, services: Services, call: ForwardCall, cancel: Cancel, log: FastifyBaseLogger): Promise<CallAnswer> {
  try {
    // A call that lands on a non-leader is answered, never passed on (docs/safety.md #16).
    if (ctx.node.leadership().role !== 'leader') throw noLeaderError(ctx, 'the forwarded request reached a node that is not the leader');
    return callAnswer(await run(ctx, services, call, cancel));
  } catch (error) {
    return callAnswer(errorAnswer(ctx, error, log));
  }
}

async function run(ctx: ServerContext, services: Services, call: ForwardCall, cancel: Cancel): Promise<Answer> {
  switch (call.call) {
    case LOCK_EXECUTE: {
      const args = lockExecuteArgs(call.args);
      const answer = await services.locks.execute(args.command, { idempotency: args.idempotency, cancel, tokenId: args.tokenId });
      return args.timeLeft ? withTimeLeft(() => services.leases.deadlines())(answer) : answer;
    }
    case SESSION_KEEPALIVE: {
      const { sessionId, tokenId } = keepaliveArgs(call.args);
      return keepaliveOnLeader(ctx, services, sessionId, tokenId);
    }
    default:
      throw badCall(`unknown call ${call.call}`);
  }
}

/** A member sent what no member of this version sends: a bug there, answered, never applied. */
function badCall(message: string): ApiError {
  return new ApiError('invalid_argument', `a member's forwarded call was refused: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tokenIdOf(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v === 'string' && v.length >= 1 && v.length <= 128) return v;
  throw badCall('tokenId is not null or a token id');
}

function lockExecuteArgs(v: unknown): LockExecuteArgs {
  if (!isObject(v)) throw badCall('args is not a map');
  const tokenId = tokenIdOf(v.tokenId);
  // The envelope's own check, as the machine will apply it: idempotency key, method, path and the token id.
  const envelope = { nowMs: 0, idempotency: v.idempotency ?? null, auth: tokenId === null ? null : { tokenId } };
  const badEnvelope = validateEnvelope(envelope);
  if (badEnvelope !== null) throw badCall(badEnvelope);
  const badCommand = validateCommand(v.command);
  if (badCommand !== null) throw badCall(badCommand);
  // Token changes are relayed as HTTP requests, so that the leader writes their audit line too (audit.ts).
  if ((v.command as LockCommand).type.startsWith('token.')) throw badCall('token changes are not taken as calls');
  if (typeof v.timeLeft !== 'boolean') throw badCall('timeLeft is not a boolean');
  const idem = envelope.idempotency as IdempotencyInfo | null;
  return {
    command: v.command as LockCommand,
    idempotency: idem === null ? null : { key: idem.key, method: idem.method, path: idem.path },
    tokenId,
    timeLeft: v.timeLeft,
  };
}

function keepaliveArgs(v: unknown): { sessionId: string; tokenId: string | null } {
  if (!isObject(v)) throw badCall('args is not a map');
  if (typeof v.sessionId !== 'string' || v.sessionId.length < 1 || v.sessionId.length > 128) throw badCall('sessionId is not a session id');
  return { sessionId: v.sessionId, tokenId: tokenIdOf(v.tokenId) };
}

function errorAnswer(ctx: ServerContext, error: unknown, log: FastifyBaseLogger): Answer {
  let apiError: ApiError;
  if (error instanceof ApiError) apiError = error;
  else if (error instanceof NotLeaderError) apiError = noLeaderError(ctx, 'this node lost leadership; retry');
  else if (error instanceof OutcomeUnknownError) apiError = unavailableError(ctx);
  else {
    log.error({ err: error }, 'internal error in a forwarded call');
    apiError = new ApiError('internal');
  }
  return { status: apiError.status, body: apiError.body(), index: null, headers: apiError.headers };
}

function callAnswer(answer: Answer): CallAnswer {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.index !== null) headers[INDEX_HEADER] = String(answer.index);
  // msgpack has no undefined: an answer without a body travels as null.
  return { status: answer.status, headers, value: answer.body ?? null };
}
