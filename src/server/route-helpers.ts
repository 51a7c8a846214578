// The two shapes of a lock-state route: a write (proposed on the leader,
// forwarded from a follower, idempotent with a key) and a read
// (linearizable through the leader after ReadIndex, or stale and local).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LockCommand } from '../locks/commands.js';
import { type Answer, APPLIED_INDEX_HEADER, INDEX_HEADER, sendAnswer } from './answer.js';
import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';
import { leaderOnly, unavailableError } from './forward.js';
import { IDEMPOTENCY_KEY_PATTERN } from './limits.js';
import { lockExecuteCall } from './leader-calls.js';
import type { IdempotencyInfo } from './lock-service.js';
import type { Services } from './services.js';
import { withTimeLeft } from './time-left.js';
import { targetPath } from './target.js';
import { recheckPrincipal } from './access.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

export const idempotencyHeaderSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description: '1-128 printable ASCII characters, sent once (two of them are 400). The first outcome is recorded in the replicated state (kept at least 10 minutes); a repeat replays it on any node; another method or path is 409 idempotency_conflict.',
    },
  },
} as const;

/** The Idempotency-Key of a state-changing request, checked here (400 invalid_argument naming the header). */
export function idempotencyOf(request: FastifyRequest): IdempotencyInfo | null {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return null;
  // Node joins a repeated header into one value ("a, b"), itself a valid key:
  // two keys are a client's mistake, not a third key to record.
  if (headerCount(request.raw.rawHeaders, IDEMPOTENCY_HEADER) > 1) {
    throw new ApiError('invalid_argument', 'header Idempotency-Key must be sent once', { field: 'Idempotency-Key' });
  }
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(raw)) {
    throw new ApiError('invalid_argument', 'header Idempotency-Key must be 1-128 printable ASCII characters', { field: 'Idempotency-Key' });
  }
  return { key: raw, method: request.method, path: targetPath(request.url) };
}

/** How many times the header `lowerName` came in `rawHeaders` (name, value, name, value, ...). */
function headerCount(rawHeaders: readonly string[], lowerName: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === lowerName) count++;
  return count;
}

/**
 * Propose the command built by `build` on the leader. A follower builds it and
 * hands it to the leader as a call (leader-calls.ts), or relays the request if
 * the leader takes no calls. `timeLeft`: a refused acquire's answer says how
 * long its blockers have left, which only the leader's lease table knows
 * (time-left.ts).
 */
export function writeRoute(
  ctx: ServerContext,
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  waitMs: number,
  build: () => LockCommand,
  options: { timeLeft?: boolean } = {},
): Promise<FastifyReply> {
  const idempotency = idempotencyOf(request);
  const tokenId = request.principal?.id ?? null;
  const timeLeft = options.timeLeft === true;
  const call = () => lockExecuteCall({ command: build(), idempotency, tokenId, timeLeft });
  return leaderOnly(ctx, request, reply, { waitMs, call }, async (cancel) => {
    const answer = await services.locks.execute(build(), { idempotency, cancel, tokenId });
    return timeLeft ? withTimeLeft(() => services.leases.deadlines())(answer) : answer;
  });
}

function isStale(request: FastifyRequest): boolean {
  const query = request.query as { consistency?: string } | undefined;
  return query?.consistency === 'stale';
}

/** A read: stale answers from local state; linearizable goes through the leader's ReadIndex (docs/safety.md #3). */
export async function readRoute(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, read: () => Answer): Promise<FastifyReply> {
  if (isStale(request)) {
    // Set before reading: an error answer (404) reflects this state too.
    reply.header(APPLIED_INDEX_HEADER, String(ctx.machine.appliedIndex()));
    reply.header(INDEX_HEADER, String(ctx.machine.appliedIndex()));
    return sendAnswer(reply, read());
  }
  return leaderOnly(ctx, request, reply, { waitMs: 0 }, async () => {
    await linearizablePoint(ctx, request, 'a linearizable read');
    reply.header(INDEX_HEADER, String(ctx.machine.appliedIndex()));
    return read();
  });
}

/**
 * Leader only: ReadIndex barrier, after which this node has applied every
 * command committed before the request arrived (docs/safety.md #3), and
 * the request's token is checked again (every revocation committed before it
 * is applied by now). `what` names the read in the 503 when leadership could
 * not be confirmed in time.
 */
export async function linearizablePoint(ctx: ServerContext, request: FastifyRequest, what: string): Promise<void> {
  try {
    await ctx.node.readBarrier(ctx.limits.proposeTimeoutMs);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if ((error as { code?: string }).code === 'not_leader') throw error;
    throw unavailableError(ctx, `could not confirm leadership for ${what} in time`);
  }
  recheckPrincipal(ctx, request);
}
