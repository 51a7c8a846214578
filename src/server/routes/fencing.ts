// POST /v1/fencing/check: does this token hold the lock now (Chubby's sequencer check).

import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { readRoute } from '../route-helpers.js';
import { consistencyQuery, errorResponses, fencingTokenSchema, nameSchema } from '../schemas.js';

export const fencingRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post<{ Body: { name: string; fencingToken: number }; Querystring: { consistency: string } }>('/v1/fencing/check', {
    config: { access: { kind: 'read', names: (request) => [(request.body as { name: string }).name] } },
    schema: {
      tags: ['locks'],
      summary: 'Whether fencingToken holds the lock `name` now. A read: linearizable by default, or ?consistency=stale.',
      querystring: { type: 'object', properties: { ...consistencyQuery } },
      body: { type: 'object', properties: { name: nameSchema, fencingToken: fencingTokenSchema }, required: ['name', 'fencingToken'] },
      response: { 200: { type: 'object', properties: { valid: { type: 'boolean' } }, required: ['valid'] }, ...errorResponses },
    },
  }, async (request, reply) =>
    readRoute(ctx, request, reply, () => ({
      status: 200,
      body: { valid: ctx.machine.checkFencing(request.body.name, request.body.fencingToken).valid },
      index: ctx.machine.appliedIndex(),
    })),
  );
};
