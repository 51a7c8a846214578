// GET /v1/cluster, POST /v1/cluster/members, DELETE /v1/cluster/members/{id},
// POST /v1/cluster/leadership.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { recheckPrincipal } from '../access.js';
import { nodeId } from '../../raft/types.js';
import type { ServerContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import { isLoopbackHost, parseAddress } from '../../transport/address.js';
import { CERT_NODE_ID } from '../../tls/identity.js';
import { NotLeaderError } from '../../node/api.js';
import { leaderOnly, unavailableError } from '../forward.js';
import { ID_CHARS_MAX } from '../limits.js';

const memberSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    apiUrl: { type: ['string', 'null'] },
    peerUrl: { type: 'string' },
    role: { type: 'string', description: 'leader, follower (voter) or learner; this node reports its own role (candidate, pre-candidate) exactly.' },
    voter: { type: 'boolean' },
    matchIndex: { type: 'integer', description: 'Present when this node is the leader.' },
    reachable: { type: 'boolean', description: 'Present when this node is the leader: answered within the last election timeout.' },
  },
  required: ['id', 'apiUrl', 'peerUrl', 'role', 'voter'],
} as const;

const clusterSchema = {
  type: 'object',
  description: 'This node\'s view of the cluster, answered locally (never forwarded).',
  properties: {
    clusterId: { type: 'string' },
    self: { type: 'string' },
    leader: { type: ['string', 'null'] },
    term: { type: 'integer' },
    commitIndex: { type: 'integer' },
    appliedIndex: { type: 'integer' },
    members: { type: 'array', items: memberSchema },
  },
  required: ['clusterId', 'self', 'leader', 'term', 'commitIndex', 'appliedIndex', 'members'],
} as const;

/**
 * A member id: the node ids a certificate can carry (contract note 37), so that every node the
 * cluster can run (`serve --id dc1:n2`) can also be added, removed and handed leadership here.
 */
const idSchema = { type: 'string', minLength: 1, maxLength: ID_CHARS_MAX, pattern: CERT_NODE_ID.source } as const;
const urlSchema = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' } as const;
/** Peer addresses are written as `serve --peer` takes them (host:port); a scheme in front is accepted too. */
const peerAddressSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 2048,
  pattern: '^((https?|tcp)://)?[A-Za-z0-9._\\[\\]:-]+:[0-9]{1,5}/?$',
  description: 'host:port of the peer listener, as given to `lockstep serve --peer` (http:// or tcp:// in front is accepted).',
} as const;

export function clusterView(ctx: ServerContext) {
  const status = ctx.node.status();
  return {
    clusterId: status.clusterId,
    self: status.id as string,
    leader: status.leader as string | null,
    term: status.term as number,
    commitIndex: status.commitIndex as number,
    appliedIndex: status.appliedIndex as number,
    members: status.members.map((member) => {
      const role = member.id === status.id ? status.role : member.id === status.leader ? 'leader' : member.voter ? 'follower' : 'learner';
      const progress = status.progress?.[member.id];
      return {
        id: member.id as string,
        apiUrl: member.apiUrl,
        peerUrl: member.peerUrl,
        role,
        voter: member.voter,
        ...(progress ? { matchIndex: progress.matchIndex as number, reachable: progress.reachable } : {}),
      };
    }),
  };
}

/**
 * A membership or transfer call. The admin token is checked again at a
 * linearizable point first (these changes are not lock commands, so the
 * machine cannot refuse them at apply): a token revoked before the request
 * arrived cannot act. One that failed or timed out may or may not have
 * happened (503 unavailable, not 500).
 */
async function clusterOp<T>(ctx: ServerContext, request: FastifyRequest, op: () => Promise<T>): Promise<T> {
  try {
    if (request.principal !== null) {
      await ctx.node.readBarrier(ctx.limits.proposeTimeoutMs);
      recheckPrincipal(ctx, request);
    }
    return await op();
  } catch (error) {
    if (error instanceof ApiError || error instanceof NotLeaderError) throw error;
    throw unavailableError(ctx, `the cluster change did not complete: ${(error as Error).message}`);
  }
}

/** The same peer listener however it is written (a scheme in front or not). */
function samePeerAddress(a: string, b: string): boolean {
  try {
    const x = parseAddress(a);
    const y = parseAddress(b);
    return x.host === y.host && x.port === y.port;
  } catch {
    return false;
  }
}

export const clusterRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {

  app.get('/v1/cluster', {
    config: { access: { kind: 'any' } },
    schema: { tags: ['cluster'], summary: 'Members, roles, leader, term and indexes as this node sees them.', response: { 200: clusterSchema, ...errorResponses } },
  }, async (_request, reply) => {
    const view = clusterView(ctx);
    reply.header('x-lockstep-index', String(view.appliedIndex));
    return view;
  });

  app.post<{ Body: { id: string; apiUrl: string; peerUrl: string; voter: boolean } }>('/v1/cluster/members', {
    config: { access: { kind: 'admin' }, audit: 'members.add' },
    schema: {
      tags: ['cluster'],
      summary: 'Add a member (voter by default, or a learner with voter: false). Answers 200 with the cluster view after the change. The same request again (same id and addresses) finishes the first and answers the same: a retry after a lost answer is safe; a learner asked again to be a voter is promoted once caught up. 400 invalid_argument if the id is a member with other addresses, a voter asked to be a learner, an id removed from the cluster (ids are never reused), or an apiUrl whose scheme is not the cluster\'s (https:// on a TLS cluster, http:// on a plain one).',
      body: {
        type: 'object',
        properties: { id: idSchema, apiUrl: urlSchema, peerUrl: peerAddressSchema, voter: { type: 'boolean', default: true } },
        required: ['id', 'apiUrl', 'peerUrl'],
      },
      response: { 200: clusterSchema, ...errorResponses },
    },
  }, async (request, reply) => leaderOnly(ctx, request, reply, { waitMs: 0 }, async () => {
    const { id, apiUrl, peerUrl, voter } = request.body;
    refuseUnlessLoopback(ctx, apiUrl, peerUrl);
    refuseApiSchemeOfOtherMode(ctx, apiUrl);
    const existing = ctx.node.status().members.find((member) => member.id === id);
    // The same add again (its answer was lost) is finished and answered as the first: a learner is promoted
    // once caught up. Another member under this id (other addresses), or a voter asked to be a learner, is 400.
    if (existing !== undefined && !((existing.apiUrl === null || existing.apiUrl === apiUrl) && samePeerAddress(existing.peerUrl, peerUrl) && (voter || !existing.voter))) {
      throw new ApiError('invalid_argument', `body.id ${id} is already a member${existing.voter && !voter ? ' (a voter)' : ' with other addresses'}`, { field: 'id' });
    }
    if (ctx.node.status().conf.removed?.includes(nodeId(id))) {
      // Node ids are forever (docs/safety.md #10): back under its old id with an empty disk, a node could vote twice in one term.
      throw new ApiError('invalid_argument', `body.id ${id} was removed from this cluster, and a node id is never reused: add the node under a new id`, { field: 'id' });
    }
    await clusterOp(ctx, request, () => ctx.node.addMember({ id: nodeId(id), apiUrl, peerUrl, voter }, ctx.limits.proposeTimeoutMs));
    const view = clusterView(ctx);
    return { status: 200, body: view, index: view.appliedIndex };
  }));

  app.delete<{ Params: { id: string } }>('/v1/cluster/members/:id', {
    config: { access: { kind: 'admin' }, audit: 'members.remove' },
    schema: {
      tags: ['cluster'],
      summary: 'Remove a member. 404 not_found for an unknown member id; 400 invalid_argument for the last voter. Answers 200 with the cluster view after the change.',
      params: { type: 'object', properties: { id: idSchema }, required: ['id'] },
      response: { 200: clusterSchema, ...errorResponses },
    },
  }, async (request, reply) => leaderOnly(ctx, request, reply, { waitMs: 0 }, async () => {
    const { id } = request.params;
    const members = ctx.node.status().members;
    const member = members.find((m) => m.id === id);
    if (member === undefined) throw new ApiError('not_found', `no member ${id}`, { id });
    // Known to fail, and for good: not 503 unavailable (outcome unknown, retry). A cluster without voters never elects again.
    if (member.voter && !members.some((m) => m.voter && m.id !== id)) {
      throw new ApiError('invalid_argument', `params.id ${id} is the last voter, and a cluster without voters can never elect a leader: add another voter first`, { field: 'id' });
    }
    await clusterOp(ctx, request, () => ctx.node.removeMember(nodeId(id), ctx.limits.proposeTimeoutMs));
    const view = clusterView(ctx);
    return { status: 200, body: view, index: view.appliedIndex };
  }));

  app.post<{ Body: { to?: string } }>('/v1/cluster/leadership', {
    config: { access: { kind: 'admin' }, audit: 'leadership.transfer' },
    schema: {
      tags: ['cluster'],
      summary: 'Hand leadership over, to `to` or to the most caught-up voter. Answers 200 {leader} with the new leader; 404 not_found for an unknown member id; 400 invalid_argument for a learner (only voters lead), for a member that has not answered the leader within an election timeout, and without `to` when no other member is a voter (a one-node cluster). Without `to`, a voter that answers is chosen.',
      body: { type: 'object', properties: { to: idSchema } },
      response: {
        200: { type: 'object', properties: { leader: { type: 'string' }, previous: { type: 'string' } }, required: ['leader', 'previous'] },
        ...errorResponses,
      },
    },
  }, async (request, reply) => leaderOnly(ctx, request, reply, { waitMs: 0 }, async () => {
    const to = request.body.to ?? null;
    const status = ctx.node.status();
    // A member the leader has not heard from cannot take over: the leader would hold back every
    // write for the transfer's whole bound (5 s), then answer 503. Refused at once (the console offers
    // no hand-over to it either); on a follower the leader's own view decides, as it forwards.
    const answers = (id: string): boolean => status.progress?.[id]?.reachable !== false;
    // Each refusal below is known to fail, and for good: not 503 unavailable, which tells the client
    // the outcome is unknown and to retry.
    if (to !== null) {
      const target = status.members.find((member) => member.id === to);
      if (target === undefined) throw new ApiError('not_found', `no member ${to}`, { id: to });
      if (!target.voter) throw new ApiError('invalid_argument', `body.to ${to} is not a voter (a learner cannot lead): promote it first`, { field: 'to' });
      if (!answers(to)) {
        throw new ApiError('invalid_argument', `body.to ${to} has not answered the leader within an election timeout, so it cannot take leadership now: start it again, or hand leadership to another member`, { field: 'to' });
      }
    } else {
      const others = status.members.filter((member) => member.voter && member.id !== ctx.node.id);
      if (others.length === 0) throw new ApiError('invalid_argument', 'this cluster has no other voter to hand leadership to: add one first', { field: 'to' });
      if (!others.some((member) => answers(member.id))) {
        throw new ApiError('invalid_argument', 'no other voter has answered the leader within an election timeout, so none can take leadership now: start one again', { field: 'to' });
      }
    }
    const previous = ctx.node.id as string;
    const leader = await clusterOp(ctx, request, () => ctx.node.transferLeadership(to === null ? null : nodeId(to), ctx.limits.proposeTimeoutMs));
    return { status: 200, body: { leader: leader as string, previous }, index: ctx.node.status().appliedIndex };
  }));
};

/**
 * A member's API has the cluster's scheme. A TLS cluster's members serve their API over HTTPS only,
 * and this node calls them over https only (upstream.ts): a member added as http://... could never be
 * forwarded to, and the add would succeed all the same. A plain cluster's members serve plain HTTP
 * (serve takes --tls-* for the API and the peers together), so an https:// member is a mistake too.
 * 400, naming the field, before anything changes.
 */
function refuseApiSchemeOfOtherMode(ctx: ServerContext, apiUrl: string): void {
  const scheme = ctx.apiTls ? 'https://' : 'http://';
  if (apiUrl.startsWith(scheme)) return;
  const mode = ctx.apiTls ? 'over HTTPS only (TLS)' : 'over plain HTTP (no TLS)';
  throw new ApiError('invalid_argument', `body.apiUrl ${apiUrl} is not an ${scheme} URL: this cluster serves its API ${mode}, so the member's is too`, { field: 'apiUrl' });
}

/**
 * Secure by default, at run time as at start (serve refuses a plain --api,
 * --peer or --peers that is not loopback): on a plain cluster without
 * --insecure, every member would dial a member elsewhere in plain TCP and
 * relay clients' tokens to it over plain HTTP. 400, naming the address.
 */
function refuseUnlessLoopback(ctx: ServerContext, apiUrl: string, peerUrl: string): void {
  if (!ctx.loopbackOnly) return;
  const hostOf = (field: string, parse: () => string): string => {
    try {
      return parse();
    } catch {
      throw new ApiError('invalid_argument', `body.${field} is not an address`, { field });
    }
  };
  const hosts: Array<[field: string, host: string]> = [
    ['apiUrl', hostOf('apiUrl', () => new URL(apiUrl).hostname)],
    ['peerUrl', hostOf('peerUrl', () => parseAddress(peerUrl).host)],
  ];
  for (const [field, host] of hosts) {
    if (isLoopbackHost(host)) continue;
    throw new ApiError('invalid_argument', `body.${field} ${host} is not a loopback address: this cluster runs without TLS, so the member would be reached in the clear; start the cluster with TLS (or every node with --insecure) to add members elsewhere`, { field });
  }
}
