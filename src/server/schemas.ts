// JSON schemas shared by the route plugins. They validate input (ajv, no
// type coercion) and serialize output (fast-json-stringify), and become the
// OpenAPI document at /docs/json; limits are stated in the descriptions.

import { errorResponseSchema } from './errors.js';
import {
  HOLD_TTL_MS_MAX,
  HOLD_TTL_MS_MIN,
  ID_CHARS_MAX,
  LOCK_DELAY_MS_MAX,
  NAME_CHARS_MAX,
  NAME_PATTERN,
  OWNER_CHARS_MAX,
  SEMAPHORE_LIMIT_MAX,
  SESSION_NAME_CHARS_MAX,
  SESSION_TTL_MS_DEFAULT,
  SESSION_TTL_MS_MAX,
  SESSION_TTL_MS_MIN,
  VALUE_CHARS_MAX,
  WAIT_MS_MAX,
} from './limits.js';

/**
 * Serializes every error answer of a route. The OpenAPI document lists them under their exact
 * statuses instead, with the codes each route gives (api-reference.ts documentErrors).
 */
export const errorResponses = { '4xx': errorResponseSchema, '5xx': errorResponseSchema } as const;

export const nameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: NAME_CHARS_MAX,
  pattern: NAME_PATTERN,
  description: `Lock or election name: ${NAME_PATTERN} (1-${NAME_CHARS_MAX} characters; use ':' for hierarchy).`,
} as const;

/**
 * Ids are chosen by the server (UUIDs, token ids), so the route accepts only
 * their alphabet. A path parameter can then never be a `.` or `..` segment,
 * which a URL library would fold away when the request is forwarded.
 */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*$';

export const idSchema = {
  type: 'string',
  minLength: 1,
  maxLength: ID_CHARS_MAX,
  pattern: ID_PATTERN,
  description: `An opaque id chosen by the server: letters, digits, '-' and '_' (at most ${ID_CHARS_MAX} characters).`,
} as const;

export const fencingTokenSchema = {
  type: 'integer',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'A positive integer, strictly larger than every token granted before it for any name (the Raft index of the grant).',
} as const;

export const waitMsSchema = {
  type: 'integer',
  minimum: 0,
  maximum: WAIT_MS_MAX,
  default: 0,
  description: `0: try once; >0: wait in FIFO order up to waitMs (max ${WAIT_MS_MAX}). Judged by the leader's monotonic clock; restarts in full after a change of leader.`,
} as const;

export const valueSchema = { type: 'string', maxLength: VALUE_CHARS_MAX, description: `At most ${VALUE_CHARS_MAX} characters.` } as const;
export const ownerSchema = { type: 'string', maxLength: OWNER_CHARS_MAX, description: `Free label, at most ${OWNER_CHARS_MAX} characters.` } as const;
export const modeSchema = { type: 'string', enum: ['exclusive', 'shared'] } as const;

export const nameParams = { type: 'object', properties: { name: nameSchema }, required: ['name'] } as const;
export const idParams = { type: 'object', properties: { id: idSchema }, required: ['id'] } as const;

export const consistencyQuery = {
  consistency: {
    type: 'string',
    enum: ['linearizable', 'stale'],
    default: 'linearizable',
    description: 'linearizable (default): read through the leader after a ReadIndex barrier. stale: this node\'s local state; adds x-lockstep-applied-index.',
  },
} as const;

export const pageQuery = {
  limit: { type: 'string', pattern: '^[0-9]+$', description: 'Most items on this page: a positive integer (default 100). A page holds at most 1000; a larger limit is served as 1000 with `next` set when more remain (as etcd and Kubernetes treat a list limit).' },
  after: { type: 'string', maxLength: 512, description: 'The `next` of the previous page.' },
} as const;

export const sessionCreateBody = {
  type: 'object',
  properties: {
    ttlMs: { type: 'integer', minimum: SESSION_TTL_MS_MIN, maximum: SESSION_TTL_MS_MAX, default: SESSION_TTL_MS_DEFAULT },
    name: { type: 'string', maxLength: SESSION_NAME_CHARS_MAX, default: '', description: `At most ${SESSION_NAME_CHARS_MAX} characters.` },
    lockDelayMs: { type: 'integer', minimum: 0, maximum: LOCK_DELAY_MS_MAX, default: 0, description: 'Chubby lock-delay applied to each held lock when the session EXPIRES (not on delete).' },
  },
} as const;

export const holdRefSchema = {
  type: 'object',
  properties: { kind: { type: 'string', enum: ['lock', 'election'] }, name: { type: 'string' }, fencingToken: { type: 'integer' } },
  required: ['kind', 'name', 'fencingToken'],
} as const;

export const sessionSchema = {
  type: 'object',
  properties: {
    sessionId: { type: 'string' },
    name: { type: 'string' },
    ttlMs: { type: 'integer' },
    lockDelayMs: { type: 'integer' },
    remainingMs: { type: 'integer', description: 'Left on the lease by the leader\'s monotonic clock (full ttlMs when unknown, e.g. a stale read on a follower).' },
    holds: { type: 'array', items: holdRefSchema },
    waits: { type: 'array', items: { type: 'string' } },
  },
  required: ['sessionId', 'name', 'ttlMs', 'lockDelayMs', 'remainingMs', 'holds', 'waits'],
} as const;

export const holderSchema = {
  type: 'object',
  properties: {
    fencingToken: { type: 'integer' },
    mode: modeSchema,
    sessionId: { type: 'string' },
    owner: { type: 'string' },
    value: { type: 'string' },
    expiresInMs: { type: 'integer', description: 'TTL holds only.' },
  },
  required: ['fencingToken', 'mode'],
} as const;

export const waiterSchema = {
  type: 'object',
  properties: { sessionId: { type: 'string' }, owner: { type: 'string' }, mode: modeSchema },
  required: ['mode'],
} as const;

export const lockSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    mode: { type: ['string', 'null'], enum: ['exclusive', 'shared', null] },
    limit: { type: 'integer' },
    holders: { type: 'array', items: holderSchema },
    waiters: { type: 'array', items: waiterSchema },
    lockDelayRemainingMs: { type: 'integer' },
  },
  required: ['name', 'mode', 'limit', 'holders', 'waiters'],
} as const;

export const lockListItemSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    mode: { type: ['string', 'null'], enum: ['exclusive', 'shared', null] },
    limit: { type: 'integer', description: 'The semaphore limit in force: more than 1 for a semaphore (exclusive mode, up to `limit` holders); 1 otherwise.' },
    holders: { type: 'array', items: holderSchema },
    waiters: { type: 'array', items: waiterSchema },
    lockDelayRemainingMs: { type: 'integer', description: 'While the lock is in lock-delay (its holder\'s session expired): ms until it may be granted again.' },
  },
  required: ['name', 'mode', 'limit', 'holders', 'waiters'],
} as const;

export const acquireBody = {
  type: 'object',
  description: 'Exactly one of sessionId and ttlMs (400 invalid_argument otherwise). `limit` > 1 only with mode exclusive.',
  properties: {
    sessionId: idSchema,
    ttlMs: { type: 'integer', minimum: HOLD_TTL_MS_MIN, maximum: HOLD_TTL_MS_MAX },
    waitMs: waitMsSchema,
    mode: { ...modeSchema, default: 'exclusive' },
    limit: { type: 'integer', minimum: 1, maximum: SEMAPHORE_LIMIT_MAX, default: 1 },
    owner: ownerSchema,
    value: valueSchema,
  },
} as const;

export const acquireResponse = {
  type: 'object',
  description: 'acquired: true with the hold, or acquired: false with the holders and queue length when it could not be had within waitMs.',
  properties: {
    acquired: { type: 'boolean' },
    name: { type: 'string' },
    fencingToken: { type: 'integer' },
    mode: modeSchema,
    sessionId: { type: 'string' },
    expiresInMs: { type: 'integer' },
    holders: { type: 'array', items: holderSchema },
    queueLength: { type: 'integer' },
    lockDelayRemainingMs: { type: 'integer', description: 'acquired: false because the lock is in lock-delay: ms until it may be granted again.' },
  },
  required: ['acquired', 'name'],
} as const;

export const electionLeaderSchema = {
  type: ['object', 'null'],
  properties: { sessionId: { type: 'string' }, value: { type: 'string' }, term: { type: 'integer' } },
  required: ['sessionId', 'value', 'term'],
} as const;

export const HOLD_TTL_BOUNDS = { minimum: HOLD_TTL_MS_MIN, maximum: HOLD_TTL_MS_MAX } as const;
