// Elections: one leader per name, the others wait in order (http-api.md "Elections").

import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { onPathName } from '../access.js';
import { newWaitId } from '../lock-service.js';
import { idempotencyHeaderSchema, readRoute, writeRoute } from '../route-helpers.js';
import { consistencyQuery, electionLeaderSchema, errorResponses, fencingTokenSchema, idSchema, nameParams, valueSchema, waitMsSchema } from '../schemas.js';
import type { Services } from '../services.js';

const termSchema = { ...fencingTokenSchema, description: 'The election term: a fencing token of the leadership.' } as const;

export const electionRoutes: FastifyPluginAsync<{ ctx: ServerContext; services: Services }> = async (app, { ctx, services }) => {
  app.post<{ Params: { name: string }; Body: { sessionId: string; value: string; waitMs: number } }>('/v1/elections/:name/campaign', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['elections'],
      summary: 'Campaign: elected at once if the seat is free; with waitMs 0 a loser does not stay in line; with waitMs > 0 it waits in FIFO order. A session that already leads gets its leadership back as it is (same term and value; change the value with proclaim), as an acquire by a holder returns its hold.',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: { type: 'object', properties: { sessionId: idSchema, value: valueSchema, waitMs: waitMsSchema }, required: ['sessionId', 'value'] },
      response: {
        200: {
          type: 'object',
          properties: { elected: { type: 'boolean' }, name: { type: 'string' }, term: { type: 'integer' }, value: { type: 'string' }, leader: electionLeaderSchema },
          // Every answer this version records has `name`; one an older version recorded for an
          // Idempotency-Key has none when elected is false, and must still replay, not fail as a 500.
          required: ['elected'],
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { sessionId, value, waitMs } = request.body;
    return writeRoute(ctx, services, request, reply, waitMs, () => ({
      type: 'election.campaign',
      name: request.params.name,
      sessionId,
      value,
      waitMs,
      waitId: waitMs > 0 ? newWaitId() : null,
    }));
  });

  app.post<{ Params: { name: string }; Body: { term: number; value: string } }>('/v1/elections/:name/proclaim', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['elections'],
      summary: 'The leader of `term` publishes a new value; 409 not_holder if that term no longer leads.',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: { type: 'object', properties: { term: termSchema, value: valueSchema }, required: ['term', 'value'] },
      response: {
        200: { type: 'object', properties: { name: { type: 'string' }, term: { type: 'integer' }, value: { type: 'string' } }, required: ['name', 'term', 'value'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) =>
    writeRoute(ctx, services, request, reply, 0, () => ({ type: 'election.proclaim', name: request.params.name, term: request.body.term, value: request.body.value })),
  );

  app.post<{ Params: { name: string }; Body: { term: number } }>('/v1/elections/:name/resign', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['elections'],
      summary: 'The leader of `term` steps down; the next candidate in line (if any) is elected. 409 not_holder if that term no longer leads.',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: { type: 'object', properties: { term: termSchema }, required: ['term'] },
      response: { 200: { type: 'object', properties: { resigned: { type: 'boolean' } }, required: ['resigned'] }, ...errorResponses },
    },
  }, async (request, reply) =>
    writeRoute(ctx, services, request, reply, 0, () => ({ type: 'election.resign', name: request.params.name, term: request.body.term })),
  );

  app.get<{ Params: { name: string }; Querystring: { consistency: string } }>('/v1/elections/:name', {
    config: { access: onPathName('read') },
    schema: {
      tags: ['elections'],
      summary: 'The current leader (or null) and the number of candidates waiting.',
      params: nameParams,
      querystring: { type: 'object', properties: { ...consistencyQuery } },
      response: {
        200: { type: 'object', properties: { name: { type: 'string' }, leader: electionLeaderSchema, candidates: { type: 'integer' } }, required: ['name', 'leader', 'candidates'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) =>
    readRoute(ctx, request, reply, () => ({ status: 200, body: ctx.machine.getElection(request.params.name), index: ctx.machine.appliedIndex() })),
  );

  app.get<{ Params: { name: string } }>('/v1/elections/:name/observe', {
    config: { access: onPathName('read') },
    schema: {
      tags: ['elections'],
      summary: 'text/event-stream from this node\'s applied state: `leader` events with {leader: {sessionId, value, term} | null, index}; the first is the current state, then one per change (null: vacancy). At most `watchesMax` open streams per node, `watchesPerTokenMax` under one writer or reader token: more is 429 too_many_requests.',
      params: nameParams,
    },
  }, async (request, reply) => {
    const { name } = request.params;
    return services.watches.serve(
      request,
      reply,
      () => ({ event: 'leader', data: { leader: ctx.machine.getElection(name).leader, index: ctx.machine.appliedIndex() } }),
      (event) => (event.type === 'election.leader' && event.name === name ? { event: 'leader', data: { leader: event.leader, index: event.index } } : null),
    );
  });
};
