// Locks: acquire (try, or wait FIFO up to waitMs), release, extend, read,
// list, watch (http-api.md "Locks").

import type { FastifyPluginAsync } from 'fastify';
import type { LockMode } from '../../locks/commands.js';
import type { ServerContext } from '../context.js';
import { onPathName } from '../access.js';
import { ApiError } from '../errors.js';
import { newWaitId } from '../lock-service.js';
import { pageSize } from '../page.js';
import { idempotencyHeaderSchema, readRoute, writeRoute } from '../route-helpers.js';
import {
  acquireBody,
  acquireResponse,
  consistencyQuery,
  errorResponses,
  fencingTokenSchema,
  HOLD_TTL_BOUNDS,
  lockListItemSchema,
  lockSchema,
  nameParams,
  pageQuery,
} from '../schemas.js';
import type { Services } from '../services.js';

interface AcquireBody {
  sessionId?: string;
  ttlMs?: number;
  waitMs: number;
  mode: LockMode;
  limit: number;
  owner?: string;
  value?: string;
}

const LOCK_EVENTS = new Set(['acquired', 'released', 'expired', 'queued', 'dequeued']);

export const lockRoutes: FastifyPluginAsync<{ ctx: ServerContext; services: Services }> = async (app, { ctx, services }) => {
  app.post<{ Params: { name: string }; Body: AcquireBody }>('/v1/locks/:name/acquire', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['locks'],
      summary: 'Acquire a lock, a shared (read) lock, or a semaphore slot. Waiters are granted strictly in arrival order; a wait that would close a wait-for cycle is 409 deadlock. A waiter leaves the queue when waitMs passes (200 acquired: false), its HTTP request is abandoned, or its session ends (404 session_not_found).',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: acquireBody,
      response: { 200: acquireResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const { name } = request.params;
    const body = request.body;
    const hasSession = body.sessionId !== undefined;
    const hasTtl = body.ttlMs !== undefined;
    if (hasSession === hasTtl) throw new ApiError('invalid_argument', 'body must have exactly one of sessionId and ttlMs', { field: hasSession ? 'ttlMs' : 'sessionId' });
    if (body.mode === 'shared' && body.limit !== 1) throw new ApiError('invalid_argument', 'body.limit applies to exclusive locks only (shared locks take any number of holders)', { field: 'limit' });
    return writeRoute(ctx, services, request, reply, body.waitMs, () => ({
      type: 'lock.acquire',
      name,
      sessionId: body.sessionId ?? null,
      ttlMs: body.ttlMs ?? null,
      waitMs: body.waitMs,
      waitId: body.waitMs > 0 ? newWaitId() : null,
      mode: body.mode,
      limit: body.limit,
      owner: body.owner ?? null,
      value: body.value ?? null,
    }), { timeLeft: true });
  });

  app.post<{ Params: { name: string }; Body: { fencingToken: number } }>('/v1/locks/:name/release', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['locks'],
      summary: 'Release a hold by its fencing token; 409 not_holder if the token no longer holds.',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: { type: 'object', properties: { fencingToken: fencingTokenSchema }, required: ['fencingToken'] },
      response: { 200: { type: 'object', properties: { released: { type: 'boolean' } }, required: ['released'] }, ...errorResponses },
    },
  }, async (request, reply) =>
    writeRoute(ctx, services, request, reply, 0, () => ({ type: 'lock.release', name: request.params.name, fencingToken: request.body.fencingToken })),
  );

  app.post<{ Params: { name: string }; Body: { fencingToken: number; ttlMs?: number } }>('/v1/locks/:name/extend', {
    config: { access: onPathName('write') },
    schema: {
      tags: ['locks'],
      summary: 'Restart a TTL hold\'s lease (ttlMs defaults to the hold\'s own). A session hold is 400 invalid_argument: keep its session alive instead.',
      headers: idempotencyHeaderSchema,
      params: nameParams,
      body: { type: 'object', properties: { fencingToken: fencingTokenSchema, ttlMs: { type: 'integer', ...HOLD_TTL_BOUNDS } }, required: ['fencingToken'] },
      response: { 200: { type: 'object', properties: { expiresInMs: { type: 'integer' } }, required: ['expiresInMs'] }, ...errorResponses },
    },
  }, async (request, reply) =>
    writeRoute(ctx, services, request, reply, 0, () => ({
      type: 'lock.extend',
      name: request.params.name,
      fencingToken: request.body.fencingToken,
      ttlMs: request.body.ttlMs ?? null,
    })),
  );

  app.get<{ Params: { name: string }; Querystring: { consistency: string } }>('/v1/locks/:name', {
    config: { access: onPathName('read') },
    schema: {
      tags: ['locks'],
      summary: 'A lock\'s holders and waiters (a free lock is 200 with no holders). expiresInMs / lockDelayRemainingMs by the leader\'s lease table.',
      params: nameParams,
      querystring: { type: 'object', properties: { ...consistencyQuery } },
      response: { 200: lockSchema, ...errorResponses },
    },
  }, async (request, reply) =>
    readRoute(ctx, request, reply, () => ({ status: 200, body: ctx.machine.getLock(request.params.name, services.leases.deadlines()), index: ctx.machine.appliedIndex() })),
  );

  app.get<{ Querystring: { prefix?: string; limit?: string; after?: string; consistency: string } }>('/v1/locks', {
    config: { access: { kind: 'read' } },
    schema: {
      tags: ['locks'],
      summary: 'Locks with holders, waiters or a lock-delay, in name order, a page at a time (`next`: pass it as `after`).',
      querystring: { type: 'object', properties: { prefix: { type: 'string', maxLength: 256 }, ...pageQuery, ...consistencyQuery } },
      response: {
        200: { type: 'object', properties: { locks: { type: 'array', items: lockListItemSchema }, next: { type: 'string' } }, required: ['locks'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const limit = pageSize(ctx, request.query.limit);
    return readRoute(ctx, request, reply, () => ({
      status: 200,
      body: ctx.machine.listLocks(request.query.prefix ?? '', limit, request.query.after, services.leases.deadlines(), request.principal),
      index: ctx.machine.appliedIndex(),
    }));
  });

  app.get<{ Params: { name: string } }>('/v1/locks/:name/watch', {
    config: { access: onPathName('read') },
    schema: {
      tags: ['locks'],
      summary: 'text/event-stream from this node\'s applied state: first `state` {name, mode, limit, holders, waiters, index; lockDelayRemainingMs while in lock-delay}, then acquired / released / expired / queued / dequeued with {name, fencingToken?, sessionId?, index}; `: heartbeat` comments every 15 s. At most `watchesMax` (default 1000) open streams per node, `watchesPerTokenMax` (250) under one writer or reader token: more is 429 too_many_requests.',
      params: nameParams,
    },
  }, async (request, reply) => {
    const { name } = request.params;
    return services.watches.serve(
      request,
      reply,
      () => {
        const lock = ctx.machine.getLock(name, services.leases.deadlines());
        const data: Record<string, unknown> = { name, mode: lock.mode, limit: lock.limit, holders: lock.holders, waiters: lock.waiters, index: ctx.machine.appliedIndex() };
        // A free lock in lock-delay is not free to take: say so, as GET /v1/locks/{name} does.
        if (lock.lockDelayRemainingMs !== undefined) data.lockDelayRemainingMs = lock.lockDelayRemainingMs;
        return { event: 'state', data };
      },
      (event) => {
        if (!LOCK_EVENTS.has(event.type) || !('name' in event) || event.name !== name) return null;
        const data: Record<string, unknown> = { name };
        if ('fencingToken' in event) data.fencingToken = event.fencingToken;
        if ('sessionId' in event && event.sessionId !== null) data.sessionId = event.sessionId;
        data.index = event.index;
        return { event: event.type, data };
      },
    );
  });
};
