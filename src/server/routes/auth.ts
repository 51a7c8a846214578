// Tokens (http-api.md "Tokens and roles"): create, list, revoke, and whoami.
//
// Create: the leader makes the id and the secret when it builds the command
// (writeRoute builds on the leader), proposes only the secret's SHA-256, and
// adds the secret to the 201 it answers — the one time it is shown. An
// Idempotency-Key is not honoured here: a replay could not show the secret
// again without storing it. A create whose outcome is unknown (503) is
// retried by listing tokens and revoking the stray one.

import type { FastifyPluginAsync } from 'fastify';
import { ROLES, type Role } from '../../locks/permissions.js';
import { PREFIX_PATTERN, TOKEN_NAME_CHARS_MAX, TOKEN_PREFIXES_MAX } from '../../locks/limits.js';
import { hashSecret, newSecret, newTokenId } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ApiError } from '../errors.js';
import { leaderOnly } from '../forward.js';
import { readRoute } from '../route-helpers.js';
import { errorResponses, idSchema } from '../schemas.js';
import { INDEX_HEADER } from '../answer.js';
import type { Services } from '../services.js';
import { ROOT_TOKEN_ID } from '../../locks/permissions.js';
import { NAME_CHARS_MAX } from '../limits.js';

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    prefixes: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'name', 'role', 'prefixes'],
} as const;

const createBody = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: TOKEN_NAME_CHARS_MAX, description: `A label for people and the audit log, 1-${TOKEN_NAME_CHARS_MAX} characters (need not be unique).` },
    role: { type: 'string', enum: [...ROLES], description: 'admin: everything. writer: sessions, locks, lock sets, fencing checks, elections on its names. reader: the GET routes, watches, observes and fencing checks on its names.' },
    prefixes: {
      type: 'array',
      minItems: 1,
      maxItems: TOKEN_PREFIXES_MAX,
      items: { type: 'string', minLength: 1, maxLength: NAME_CHARS_MAX, pattern: PREFIX_PATTERN.source },
      description: `Names this token may touch start with one of these (1-${TOKEN_PREFIXES_MAX}; each the start of a name). Omitted: every name. Not for admin tokens.`,
    },
  },
  required: ['name', 'role'],
} as const;

interface CreateBody {
  name: string;
  role: Role;
  prefixes?: string[];
}

export const authRoutes: FastifyPluginAsync<{ ctx: ServerContext; services: Services }> = async (app, { ctx, services }) => {
  app.post<{ Body: CreateBody }>('/v1/auth/tokens', {
    config: { access: { kind: 'admin' }, audit: 'tokens.create' },
    schema: {
      tags: ['auth'],
      summary: 'Create a token: 201 with its secret, the only time the secret is shown (only its SHA-256 is stored). Idempotency-Key is not honoured (a replay could not show the secret again).',
      body: createBody,
      response: { 201: { ...tokenSchema, properties: { ...tokenSchema.properties, secret: { type: 'string' } }, required: [...tokenSchema.required, 'secret'] }, ...errorResponses },
    },
  }, async (request, reply) => {
    const { name, role } = request.body;
    // A prefix given twice grants nothing more: kept once, in the order given, so lists show it once.
    const prefixes = [...new Set(request.body.prefixes ?? [])];
    if (role === 'admin' && prefixes.length > 0) {
      throw new ApiError('invalid_argument', 'body.prefixes: an admin token may do everything, so it takes no prefixes', { field: 'prefixes' });
    }
    return leaderOnly(ctx, request, reply, { waitMs: 0 }, async (cancel) => {
      const id = newTokenId();
      const secret = newSecret();
      const answer = await services.locks.execute(
        { type: 'token.create', id, name, role, prefixes, secretHash: hashSecret(secret) },
        { idempotency: null, cancel, tokenId: request.principal?.id ?? null },
      );
      if (answer.status !== 201) return answer;
      request.auditDetails = { token: answer.body };
      return { ...answer, body: { ...(answer.body as object), secret } };
    });
  });

  app.get('/v1/auth/tokens', {
    config: { access: { kind: 'admin' } },
    schema: {
      tags: ['auth'],
      summary: 'Every token of the replicated state, in creation order (never a secret or its hash; the root token is not listed).',
      response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } }, required: ['tokens'] }, ...errorResponses },
    },
  }, async (request, reply) => readRoute(ctx, request, reply, () => ({ status: 200, body: { tokens: ctx.machine.listTokens() }, index: ctx.machine.appliedIndex() })));

  app.delete<{ Params: { id: string } }>('/v1/auth/tokens/:id', {
    config: { access: { kind: 'admin' }, audit: 'tokens.revoke' },
    schema: {
      tags: ['auth'],
      summary: 'Revoke a token: once committed it can no longer act on any node; its long-polls and watch streams end with 401. 404 not_found for an unknown id. The root token is not in the replicated state (400: restart the nodes with a new one).',
      params: { type: 'object', properties: { id: idSchema }, required: ['id'] },
      response: { 200: { type: 'object', properties: { revoked: { type: 'boolean' } }, required: ['revoked'] }, ...errorResponses },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    if (id === ROOT_TOKEN_ID) {
      throw new ApiError('invalid_argument', 'the root token is not in the replicated state: to change it, restart every node with a new --auth-token-file', { field: 'id' });
    }
    return leaderOnly(ctx, request, reply, { waitMs: 0 }, (cancel) =>
      services.locks.execute({ type: 'token.revoke', id }, { idempotency: null, cancel, tokenId: request.principal?.id ?? null }),
    );
  });

  app.get('/v1/auth/whoami', {
    config: { access: { kind: 'any' } },
    schema: {
      tags: ['auth'],
      summary: 'What this token may do: {id, name, role, prefixes} (the root token: id "root"). With auth off: id "anonymous", role admin.',
      response: { 200: tokenSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const principal = request.principal;
    if (principal === null || principal === undefined) return { id: 'anonymous', name: 'auth is off', role: 'admin', prefixes: [] };
    // A token of the replicated state is read from this node's applied state: say at which index
    // (Conventions: a response that reflects replicated state). The root token comes from the node's flags.
    if (principal.id !== ROOT_TOKEN_ID) reply.header(INDEX_HEADER, String(ctx.machine.appliedIndex()));
    return principal;
  });
};
