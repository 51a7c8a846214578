// Authentication and authorization for every route (http-api.md "Tokens and
// roles"), the fastify way: each route declares in its config what it needs
// (`config: { access }`), one onRequest hook finds who the request is, one
// preHandler hook checks the declaration against the permission table
// (src/locks/permissions.ts) before the handler runs — so before anything is
// proposed or forwarded, on whichever node the request reached.
//
// A route that declares nothing is admin-only: forgetting is never an opening.
// A lock-set route declares `{ kind: 'write', names: (r) => r.body.locks.map(...) }`:
// a set needs the right on every name in it.
//
// Checks again later, where the state may have moved on:
// - a forwarded request is authenticated and authorized again by the leader,
//   against the leader's applied state (the Authorization header travels);
// - a write carries its token id in the proposal, and the machine refuses it
//   if the token was revoked at an earlier index (src/locks/machine.ts);
// - a linearizable read checks the token again after its ReadIndex barrier
//   (route-helpers.ts), as do membership and leadership changes;
// - revocation ends the token's long-polls (in the machine) and its watch
//   streams (sse.ts) with 401.
// A `?consistency=stale` read is judged by this node's applied state, as its
// answer is.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Need, type Principal, refusedNames } from '../locks/permissions.js';
import { FORWARDED_HEADER } from './answer.js';
import type { ServerContext } from './context.js';
import { bearerSecret } from './auth.js';
import { ApiError } from './errors.js';
import { noLeaderError } from './forward.js';
import { emptyPathParam } from './no-route.js';
import { urlOnNode } from './target.js';

/**
 * What a route needs: `open` (no token: health probes), or a Need whose names
 * come from the request. `namesInPath`: `names` reads only the path, so the
 * names can be judged before the body is read (onPathName).
 */
export type RouteAccess =
  | { kind: 'open' }
  | { kind: 'any' }
  | { kind: 'admin' }
  | { kind: 'read' | 'write'; names?: (request: FastifyRequest) => readonly string[]; namesInPath?: boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (access.ts); absent: admin only. */
    access?: RouteAccess;
    /** An admin change: one audit line per answer, with this action name (audit.ts). */
    audit?: string;
  }
  interface FastifyRequest {
    /** Whom the request acts as; null when auth is off (everything is allowed) or on an open route. */
    principal: Principal | null;
  }
}

const ADMIN_ONLY: RouteAccess = { kind: 'admin' };

export function unauthorized(message = 'the bearer token is missing, unknown or revoked: send "Authorization: Bearer <secret>"'): ApiError {
  return new ApiError('unauthorized', message);
}

function accessOf(request: FastifyRequest): RouteAccess {
  return request.routeOptions.config?.access ?? ADMIN_ONLY;
}

/** A read or write route's need with every name it reads (path and body), once the body is valid. */
function needOf(request: FastifyRequest, access: Extract<RouteAccess, { kind: 'read' | 'write' }>): Need {
  return { kind: access.kind, names: access.names === undefined ? [] : access.names(request) };
}

/**
 * What can be judged before the body is read: the role, and the names in the
 * path. Names in the body (lock sets, fencing checks) wait for the body's
 * validation (preHandler).
 */
function needBeforeBody(request: FastifyRequest, access: Exclude<RouteAccess, { kind: 'open' }>): Need {
  if (access.kind === 'any' || access.kind === 'admin') return { kind: access.kind };
  return { kind: access.kind, names: access.namesInPath === true && access.names !== undefined ? access.names(request) : [] };
}

/** How long a follower waits for the leader to say who an unknown token is. */
const WHOAMI_TIMEOUT_MS = 2_000;

/**
 * A token this follower does not know may be one the leader created a moment
 * ago and this node has not applied yet ("a new token takes effect on every
 * node once committed"). Ask the leader, with the client's own header: its
 * `whoami` answers from the leader's applied state. Null: the leader does not
 * know it either (401). Throws 503 when there is no leader to ask.
 */
async function whoamiAtLeader(ctx: ServerContext, request: FastifyRequest): Promise<Principal | null> {
  const leaderUrl = ctx.node.leaderApiUrl();
  if (leaderUrl === null) throw noLeaderError(ctx, 'this node does not know the token and no leader is known to ask');
  const response = await ctx.upstream(urlOnNode(leaderUrl, '/v1/auth/whoami'), {
    headers: { authorization: request.headers.authorization ?? '', [FORWARDED_HEADER]: ctx.node.id },
    signal: AbortSignal.timeout(WHOAMI_TIMEOUT_MS),
    redirect: 'manual',
  }).catch(() => null);
  if (response === null || response.status >= 500) {
    throw noLeaderError(ctx, 'this node does not know the token and the leader did not answer in time');
  }
  if (response.status !== 200) return null;
  return (await response.json()) as Principal;
}

async function authenticate(ctx: ServerContext, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  const local = ctx.auth.authenticate(header);
  if (local !== null) return local;
  if (bearerSecret(header) === null) throw unauthorized();
  if (ctx.node.leadership().role === 'leader') {
    // Unknown to the leader's applied state is not yet unknown to the cluster: a leader that
    // has just taken over applies what its predecessor committed (a token created a moment
    // ago) only after its own first commit. After a ReadIndex barrier it has applied every
    // token whose creation was acknowledged; a 401 is final to clients, a wait of one
    // heartbeat round is not. A barrier that fails answers 503 no_leader.
    try {
      await ctx.node.readBarrier(ctx.limits.proposeTimeoutMs);
    } catch {
      throw noLeaderError(ctx, 'this node does not know the token and could not confirm its leadership in time to look again');
    }
    const caughtUp = ctx.auth.authenticate(header);
    if (caughtUp !== null) return caughtUp;
    throw unauthorized();
  }
  const remote = request.headers[FORWARDED_HEADER] === undefined ? await whoamiAtLeader(ctx, request) : null;
  if (remote === null) throw unauthorized();
  return remote;
}

/** Throws 403 forbidden (naming the names refused) unless `principal` may make `need`. */
export function authorize(principal: Principal, need: Need): void {
  const refused = refusedNames(principal, need);
  if (refused === null) {
    throw new ApiError('forbidden', `a ${principal.role} token may not make this request`, { role: principal.role });
  }
  if (refused.length > 0) {
    throw new ApiError('forbidden', `this token may not touch ${refused.join(', ')}: its prefixes are ${principal.prefixes.join(', ')}`, { names: refused });
  }
}

/** The two hooks, registered on the root instance before any route. */
export function installAccess(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    // Auth first: a request without a valid token learns nothing and changes nothing.
    if (!ctx.auth.enabled) return;
    // No route (no-route.ts): a valid token is all it takes to be told so.
    if (request.is404 || emptyPathParam(request.params)) {
      request.principal = await authenticate(ctx, request);
      return;
    }
    const access = accessOf(request);
    if (access.kind === 'open') return;
    const principal = await authenticate(ctx, request);
    request.principal = principal;
    // A request the token may not make is 403 whatever its body says: before the body is read
    // and validated, so that a reader's acquire with a body still to fix is not answered 400
    // (as if fixing it would help), and an oversized one not 413.
    authorize(principal, needBeforeBody(request, access));
  });
  app.addHook('preHandler', async (request: FastifyRequest, _reply: FastifyReply) => {
    const principal = request.principal;
    if (principal === null || request.is404) return;
    const access = accessOf(request);
    // onRequest judged the role and the names in the path; left are names only a valid body carries.
    if ((access.kind === 'read' || access.kind === 'write') && access.names !== undefined && access.namesInPath !== true) {
      authorize(principal, needOf(request, access));
    }
  });
}

/**
 * The linearizable re-check: after a ReadIndex barrier this node has applied
 * every revocation committed before the request arrived. 401 if the request's
 * token is gone by then.
 */
export function recheckPrincipal(ctx: ServerContext, request: FastifyRequest): void {
  recheckToken(ctx, request.principal?.id ?? null);
}

/** The same for a token id a member vouched for (leader-calls.ts). */
export function recheckToken(ctx: ServerContext, tokenId: string | null): void {
  if (!ctx.auth.stillValid(tokenId)) throw unauthorized('the bearer token was revoked');
}

/** Routes that name a lock or election in the path (`:name`): the right is on that name. */
export function onPathName(kind: 'read' | 'write'): RouteAccess {
  return { kind, names: (request) => [(request.params as { name: string }).name], namesInPath: true };
}
