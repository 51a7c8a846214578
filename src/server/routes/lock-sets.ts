// Lock sets: several locks at once, all or nothing, waiting in line
// (http-api.md "Lock sets"). The state machine does the work
// (src/locks/lock-sets.ts); this plugin validates, builds the command on the
// leader (followers forward) and answers.

import type { FastifyPluginAsync } from 'fastify';
import type { LockMode } from '../../locks/commands.js';
import { LOCK_SET_NAMES_MAX, LOCK_SET_NAMES_MIN } from '../../locks/limits.js';
import type { ServerContext } from '../context.js';
import { ApiError } from '../errors.js';
import { newWaitId } from '../lock-service.js';
import { idempotencyHeaderSchema, writeRoute } from '../route-helpers.js';
import {
  errorResponses,
  fencingTokenSchema,
  HOLD_TTL_BOUNDS,
  holderSchema,
  idSchema,
  modeSchema,
  nameSchema,
  ownerSchema,
  valueSchema,
  waitMsSchema,
} from '../schemas.js';
import { SEMAPHORE_LIMIT_MAX } from '../limits.js';
import type { Services } from '../services.js';

interface SetLockBody {
  name: string;
  mode: LockMode;
  limit: number;
}

interface AcquireSetBody {
  locks: SetLockBody[];
  sessionId?: string;
  ttlMs?: number;
  waitMs: number;
  owner?: string;
  value?: string;
}

interface ReleaseSetBody {
  holds: Array<{ name: string; fencingToken: number }>;
}

const setLockSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: nameSchema,
    mode: { ...modeSchema, default: 'exclusive' },
    limit: { type: 'integer', minimum: 1, maximum: SEMAPHORE_LIMIT_MAX, default: 1, description: 'Exclusive only: up to `limit` holders (a semaphore).' },
  },
  required: ['name'],
} as const;

const acquireSetBody = {
  type: 'object',
  additionalProperties: false,
  description: `${LOCK_SET_NAMES_MIN}..${LOCK_SET_NAMES_MAX} distinct names, each with its own mode and limit; exactly one of sessionId and ttlMs (400 invalid_argument otherwise).`,
  properties: {
    locks: { type: 'array', minItems: LOCK_SET_NAMES_MIN, maxItems: LOCK_SET_NAMES_MAX, items: setLockSchema },
    sessionId: idSchema,
    ttlMs: { type: 'integer', ...HOLD_TTL_BOUNDS },
    waitMs: waitMsSchema,
    owner: ownerSchema,
    value: valueSchema,
  },
  required: ['locks'],
} as const;

const setHoldSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, fencingToken: { type: 'integer' }, mode: modeSchema },
  required: ['name', 'fencingToken', 'mode'],
} as const;

const blockedSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    holders: { type: 'array', items: holderSchema },
    queueLength: { type: 'integer' },
    lockDelayRemainingMs: { type: 'integer' },
  },
  required: ['name', 'holders', 'queueLength'],
} as const;

const acquireSetResponse = {
  type: 'object',
  description: 'acquired: true with every hold (in the order asked), or acquired: false with the locks that stood in the way when waitMs ran out.',
  properties: {
    acquired: { type: 'boolean' },
    holds: { type: 'array', items: setHoldSchema },
    sessionId: { type: 'string' },
    expiresInMs: { type: 'integer' },
    blocked: { type: 'array', items: blockedSchema },
  },
  required: ['acquired'],
} as const;

const releaseSetBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    holds: {
      type: 'array',
      minItems: 1,
      maxItems: LOCK_SET_NAMES_MAX,
      items: { type: 'object', additionalProperties: false, properties: { name: nameSchema, fencingToken: fencingTokenSchema }, required: ['name', 'fencingToken'] },
    },
  },
  required: ['holds'],
} as const;

/** What JSON schema cannot say: distinct names, limit on shared locks, exactly one of sessionId and ttlMs. */
function checkAcquireSet(body: AcquireSetBody): void {
  const seen = new Set<string>();
  body.locks.forEach((lock, i) => {
    if (seen.has(lock.name)) throw new ApiError('invalid_argument', `body.locks names ${lock.name} twice: a set takes distinct names`, { field: `locks.${i}.name` });
    seen.add(lock.name);
    if (lock.mode === 'shared' && lock.limit !== 1) {
      throw new ApiError('invalid_argument', `body.locks.${i}.limit applies to exclusive locks only (shared locks take any number of holders)`, { field: `locks.${i}.limit` });
    }
  });
  const hasSession = body.sessionId !== undefined;
  if (hasSession === (body.ttlMs !== undefined)) {
    throw new ApiError('invalid_argument', 'body must have exactly one of sessionId and ttlMs', { field: hasSession ? 'ttlMs' : 'sessionId' });
  }
}

function checkReleaseSet(body: ReleaseSetBody): void {
  const seen = new Set<string>();
  body.holds.forEach((hold, i) => {
    const key = `${hold.fencingToken}/${hold.name}`;
    if (seen.has(key)) throw new ApiError('invalid_argument', `body.holds names the hold ${hold.name} ${hold.fencingToken} twice`, { field: `holds.${i}` });
    seen.add(key);
  });
}

export const lockSetRoutes: FastifyPluginAsync<{ ctx: ServerContext; services: Services }> = async (app, { ctx, services }) => {
  app.post<{ Body: AcquireSetBody }>('/v1/lock-sets/acquire', {
    // http-api.md: a lock set needs the right on every name in it.
    config: { access: { kind: 'write', names: (request) => (request.body as AcquireSetBody).locks.map((l) => l.name) } },
    schema: {
      tags: ['lock-sets'],
      summary:
        'Acquire several locks at once, all or nothing: granted in one committed command, each lock with its own fencing token, or not at all. '
        + 'With waitMs > 0 the set takes one place in the FIFO line of every lock and is granted when it is first in line (and fits) on all of them at once; nobody behind it overtakes it. '
        + 'Waiting holds none of the locks. Locks the session holds already come back as they are. A wait that would close a wait-for cycle is 409 deadlock.',
      headers: idempotencyHeaderSchema,
      body: acquireSetBody,
      response: { 200: acquireSetResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const body = request.body;
    checkAcquireSet(body);
    // Authorization (http-api.md "Security"): a lock set needs the right on every name in body.locks.
    return writeRoute(ctx, services, request, reply, body.waitMs, () => ({
      type: 'lockSet.acquire',
      locks: body.locks.map((l) => ({ name: l.name, mode: l.mode, limit: l.limit })),
      sessionId: body.sessionId ?? null,
      ttlMs: body.ttlMs ?? null,
      waitMs: body.waitMs,
      waitId: body.waitMs > 0 ? newWaitId() : null,
      owner: body.owner ?? null,
      value: body.value ?? null,
    }), { timeLeft: true });
  });

  app.post<{ Body: ReleaseSetBody }>('/v1/lock-sets/release', {
    config: { access: { kind: 'write', names: (request) => (request.body as ReleaseSetBody).holds.map((h) => h.name) } },
    schema: {
      tags: ['lock-sets'],
      summary: 'Release several holds, all or nothing: if any of them does not hold, 409 not_holder with `names` (those holds) and nothing is released.',
      headers: idempotencyHeaderSchema,
      body: releaseSetBody,
      response: {
        200: { type: 'object', properties: { released: { type: 'array', items: { type: 'string' } } }, required: ['released'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    checkReleaseSet(request.body);
    // Authorization: the right on every name in body.holds, as for the acquire.
    return writeRoute(ctx, services, request, reply, 0, () => ({
      type: 'lockSet.release',
      holds: request.body.holds.map((h) => ({ name: h.name, fencingToken: h.fencingToken })),
    }));
  });
};
