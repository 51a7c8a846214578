// GET /healthz (the process serves) and GET /readyz (this node has heard from
// its leader within an election timeout, or leads with a quorum heard within
// one, and has applied everything it knows to be committed).

import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ApiError, errorResponseSchema } from '../errors.js';
import { noLeaderError, REMOVED_MESSAGE } from '../forward.js';

export const healthRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get('/healthz', {
    config: { access: { kind: 'open' } },
    schema: {
      tags: ['health'],
      summary: 'Liveness: 200 while the process serves.',
      response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
    },
  }, async () => ({ ok: true }));

  app.get('/readyz', {
    config: { access: { kind: 'open' } },
    schema: {
      tags: ['health'],
      summary: 'Readiness: 200 when this node has heard from its leader within an election timeout (or leads with a quorum heard within one) and has applied what it knows committed, else 503 (no_leader, or unavailable while applying).',
      response: {
        200: {
          type: 'object',
          properties: { ready: { type: 'boolean' }, leader: { type: 'string' }, commitIndex: { type: 'integer' }, appliedIndex: { type: 'integer' } },
          required: ['ready', 'leader', 'commitIndex', 'appliedIndex'],
        },
        503: errorResponseSchema,
      },
    },
  }, async (_request, reply) => {
    const status = ctx.node.status();
    reply.header('x-lockstep-index', String(status.appliedIndex));
    if (status.removed) throw noLeaderError(ctx, REMOVED_MESSAGE);
    if (status.leader === null) throw new ApiError('no_leader', 'this node knows no leader', {}, { 'retry-after': String(ctx.limits.retryAfterSeconds) });
    if (!ctx.node.leaderHeardRecently()) {
      const what = status.role === 'leader' ? 'this leader has not heard from a quorum' : `this node has not heard from its leader ${status.leader}`;
      throw new ApiError('no_leader', `${what} within an election timeout`, {}, { 'retry-after': String(ctx.limits.retryAfterSeconds) });
    }
    if (status.appliedIndex < status.commitIndex) {
      throw new ApiError('unavailable', `applied ${status.appliedIndex} of ${status.commitIndex} known committed`, {
        commitIndex: status.commitIndex,
        appliedIndex: status.appliedIndex,
      }, { 'retry-after': String(ctx.limits.retryAfterSeconds) });
    }
    return { ready: true, leader: status.leader, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex };
  });
};
