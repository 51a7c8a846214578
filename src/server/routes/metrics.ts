// GET /metrics: the process registry in Prometheus text format.

import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';

export const metricsRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get('/metrics', {
    config: { access: { kind: 'any' } },
    schema: { tags: ['health'], summary: 'Prometheus metrics (text format): HTTP latency by route and status, forwarded requests, sessions/holds/waiters, Raft and process metrics.' },
  }, async (_request, reply) => {
    const text = await ctx.registry.metrics();
    return reply.type(ctx.registry.contentType).send(text);
  });
};
