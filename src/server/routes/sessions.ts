// Sessions: leases kept alive by heartbeats (http-api.md "Sessions").

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ApiError } from '../errors.js';
import { leaderOnly } from '../forward.js';
import { keepaliveCall, keepaliveOnLeader } from '../leader-calls.js';
import { pageSize } from '../page.js';
import { idempotencyHeaderSchema, readRoute, writeRoute } from '../route-helpers.js';
import { consistencyQuery, errorResponses, idParams, pageQuery, sessionCreateBody, sessionSchema } from '../schemas.js';
import type { Services } from '../services.js';

interface CreateBody {
  ttlMs: number;
  name: string;
  lockDelayMs: number;
}

export const sessionRoutes: FastifyPluginAsync<{ ctx: ServerContext; services: Services }> = async (app, { ctx, services }) => {
  app.post<{ Body: CreateBody }>('/v1/sessions', {
    config: { access: { kind: 'write' } },
    schema: {
      tags: ['sessions'],
      summary: 'Create a session (a lease kept alive by keepalives). The id is random and unguessable.',
      headers: idempotencyHeaderSchema,
      body: sessionCreateBody,
      response: {
        201: {
          type: 'object',
          properties: { sessionId: { type: 'string' }, ttlMs: { type: 'integer' }, lockDelayMs: { type: 'integer' }, name: { type: 'string' } },
          required: ['sessionId', 'ttlMs', 'lockDelayMs', 'name'],
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { ttlMs, name, lockDelayMs } = request.body;
    return writeRoute(ctx, services, request, reply, 0, () => ({ type: 'session.create', sessionId: randomUUID(), ttlMs, name, lockDelayMs }));
  });

  app.post<{ Params: { id: string } }>('/v1/sessions/:id/keepalive', {
    config: { access: { kind: 'write' } },
    schema: {
      tags: ['sessions'],
      summary: 'Heartbeat: the leader restarts the session\'s lease at a full TTL (no log write). Idempotent by nature; Idempotency-Key is ignored. No body fields: an empty body or {} (any field is 400 invalid_argument, as on every route).',
      params: idParams,
      response: {
        200: { type: 'object', properties: { sessionId: { type: 'string' }, ttlMs: { type: 'integer' } }, required: ['sessionId', 'ttlMs'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const sessionId = request.params.id;
    const tokenId = request.principal?.id ?? null;
    return leaderOnly(ctx, request, reply, { waitMs: 0, call: () => keepaliveCall(sessionId, tokenId) }, () => keepaliveOnLeader(ctx, services, sessionId, tokenId));
  });

  app.get<{ Params: { id: string }; Querystring: { consistency: string } }>('/v1/sessions/:id', {
    config: { access: { kind: 'read' } },
    schema: {
      tags: ['sessions'],
      summary: 'A session with its holds and waits; remainingMs by the leader\'s lease table.',
      params: idParams,
      querystring: { type: 'object', properties: { ...consistencyQuery } },
      response: { 200: sessionSchema, ...errorResponses },
    },
  }, async (request, reply) => readRoute(ctx, request, reply, () => {
    const session = ctx.machine.getSession(request.params.id, services.leases.deadlines(), request.principal);
    if (session === null) throw new ApiError('session_not_found', `session ${request.params.id} is unknown or has expired`);
    return { status: 200, body: session, index: ctx.machine.appliedIndex() };
  }));

  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', {
    config: { access: { kind: 'write' } },
    schema: {
      tags: ['sessions'],
      summary: 'End a session: its holds are released and its waits removed (no lock-delay: that is for expiry only). `released` lists the LOCK holds it released ({name, fencingToken}); an election it led is vacated or handed to the next candidate, seen on GET /v1/elections/{name} and as a `leader` event on observe.',
      headers: idempotencyHeaderSchema,
      params: idParams,
      response: {
        200: {
          type: 'object',
          properties: {
            sessionId: { type: 'string' },
            released: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, fencingToken: { type: 'integer' } }, required: ['name', 'fencingToken'] } },
          },
          required: ['sessionId', 'released'],
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => writeRoute(ctx, services, request, reply, 0, () => ({ type: 'session.delete', sessionId: request.params.id })));

  app.get<{ Querystring: { limit?: string; after?: string; consistency: string } }>('/v1/sessions', {
    config: { access: { kind: 'read' } },
    schema: {
      tags: ['sessions'],
      summary: 'Sessions in id order, a page at a time (`next` is set when there are more: pass it as `after`).',
      querystring: { type: 'object', properties: { ...pageQuery, ...consistencyQuery } },
      response: {
        200: { type: 'object', properties: { sessions: { type: 'array', items: sessionSchema }, next: { type: 'string' } }, required: ['sessions'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const limit = pageSize(ctx, request.query.limit);
    return readRoute(ctx, request, reply, () => ({
      status: 200,
      body: ctx.machine.listSessions(limit, request.query.after, services.leases.deadlines(), request.principal),
      index: ctx.machine.appliedIndex(),
    }));
  });
};
