// Follower → leader forwarding (http-api.md "Conventions"; docs/safety.md
// #16). One client request becomes at most one upstream request per
// leader tried: a request/answer pair on the peer channel when it is up
// (src/transport PeerForwarding: no second HTTP request to build and parse,
// issue 12), else an HTTP request. The wait is bounded; a request that might
// have reached the leader is never retried blindly (503 unavailable: the
// client retries with its Idempotency-Key).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotLeaderError, OutcomeUnknownError } from '../node/api.js';
import { type Cancel, Canceller } from '../cancel.js';
import type { NodeId } from '../raft/types.js';
import { type CallAnswer, type ForwardCall, ForwardNotSentError, type ForwardResponse, type HttpForwardRequest, isCallAnswer } from '../transport/api.js';
import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';
import { type Answer, FORWARDED_HEADER, NODE_HEADER, sendAnswer } from './answer.js';
import { originForm, urlOnNode } from './target.js';

/** Request headers passed to the leader. Everything else (hop-by-hop, host, length) is the fetch's own. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'idempotency-key', 'authorization', 'accept', 'x-request-id'];
/** Response headers never copied back (hop-by-hop or recomputed by this server). */
export const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', NODE_HEADER, 'content-encoding']);
/** Poll interval while waiting for a leader to be known (role changes also wake the wait). */
const LEADER_POLL_MS = 25;

/**
 * How long a request may wait for a leader. Network waits (leader discovery,
 * forwards) are bounded by TIMERS of the server's Clock, never by reading what
 * time it is: a skewed clock (the chaos suite's fault file skews readings, its
 * timers run in real time) does not shorten them, and a test's manual clock
 * moves them when it says. The timer starts with the first wait: a request
 * that finds its leader at once (nearly every one) pays for no timer
 * (issue 12 profile: ~1% of a node's CPU under load).
 */
class LeaderWait {
  private deadline: Canceller | null = null;
  private timer: { cancel(): void } | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly ms: number,
  ) {}

  /** Fires when the wait is over; the timer starts on the first call. */
  over(): Cancel {
    if (this.deadline === null) {
      const deadline = new Canceller();
      this.deadline = deadline;
      this.timer = this.ctx.clock.setTimer(() => deadline.cancel(new Error('deadline passed')), this.ms);
    }
    return this.deadline;
  }

  get passed(): boolean {
    return this.deadline?.aborted ?? false;
  }

  cancel(): void {
    this.timer?.cancel();
  }
}

type LeaderTarget = { kind: 'self' } | { kind: 'remote'; id: NodeId; url: string };

/** The leader's answer to a relayed request, however it came. */
interface UpstreamAnswer {
  status: number;
  headers: Iterable<[string, string]>;
  body: Buffer;
}

/** What came back: bytes to pass on (a relayed request), or a value this node's route serializes (a call). */
type LeaderAnswer = { kind: 'bytes'; answer: UpstreamAnswer } | { kind: 'value'; answer: CallAnswer };

/** What a node removed from the cluster answers (503 no_leader): clients move on to another member. */
export const REMOVED_MESSAGE = 'this node was removed from the cluster: send requests to another member';

export function noLeaderError(ctx: ServerContext, message = 'no leader could be reached in time'): ApiError {
  return new ApiError('no_leader', message, {}, { 'retry-after': String(ctx.limits.retryAfterSeconds) });
}

export function unavailableError(ctx: ServerContext, message?: string): ApiError {
  return new ApiError('unavailable', message, {}, { 'retry-after': String(ctx.limits.retryAfterSeconds) });
}

function currentTarget(ctx: ServerContext, excludeUrl: string | null): LeaderTarget | null {
  const status = ctx.node.leadership();
  if (status.role === 'leader') return { kind: 'self' };
  if (status.leader === null) return null;
  const url = ctx.node.leaderApiUrl();
  if (url === null || url === excludeUrl) return null;
  return { kind: 'remote', id: status.leader, url };
}

/** Waits until a leader with a known API URL exists, or this node leads; null once `until` passes or the client goes. */
async function waitForLeader(ctx: ServerContext, until: LeaderWait, clientGone: Cancel, excludeUrl: string | null = null): Promise<LeaderTarget | null> {
  for (;;) {
    const target = currentTarget(ctx, excludeUrl);
    if (target !== null) return target;
    // A removed node will never know a leader again (ids are never reused): said at once, not after the wait.
    if (ctx.node.status().removed) throw noLeaderError(ctx, REMOVED_MESSAGE);
    if (until.passed || clientGone.aborted) return null;
    await pauseForRoleChange(ctx, LEADER_POLL_MS, [until.over(), clientGone]);
  }
}

/**
 * Sleeps on a TIMER of the Clock (or until a role change, the deadline or the
 * client leaving). Every retry must pass through here: a retry loop of
 * promises alone never yields to the event loop, so no tick, message or
 * socket would run again (chaos F3).
 */
function pauseForRoleChange(ctx: ServerContext, ms: number, cancels: Cancel[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      timer.cancel();
      unsubscribe();
      for (const remove of removals) remove();
      resolve();
    };
    const timer = ctx.clock.setTimer(done, ms);
    const unsubscribe = ctx.node.onRoleChange(() => done());
    const removals = cancels.map((c) => c.onAbort(done));
  });
}

/**
 * Cancelled when the client goes away before the answer was written; the
 * request's forward cancels it too when the leader does not answer in time
 * (the request ends there: 503).
 */
export function clientGone(request: FastifyRequest, reply: FastifyReply): Canceller {
  const gone = new Canceller();
  const onClose = () => {
    // writableEnded, not writableFinished: a forwarded request's answer goes through fastify's
    // inject, whose response never reports finished, so every forwarded request was aborted
    // (an Error and its stack, and the abort run) after its answer was complete (issue 12 profile).
    if (!reply.raw.writableEnded) gone.cancel(new Error('client went away'));
  };
  reply.raw.once('close', onClose);
  request.raw.once('aborted', onClose);
  return gone;
}

function isConnectRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

export interface RouteOptions {
  /** The request's own wait (long-poll), to bound the forward. */
  waitMs: number;
  /** Forward over HTTP even when the peer channel is up: the answer may pass the channel's size limit (the snapshot download). */
  overHttp?: boolean;
  /**
   * The leader's part of this request as a call (leader-calls.ts), made on a follower only: sent
   * instead of the request when the leader's peer channel takes calls, else the request is relayed.
   */
  call?: () => ForwardCall;
}

/**
 * Runs `local` here if this node leads, else forwards the request to the
 * leader. `local` may throw NotLeaderError (leadership lost before the
 * propose: surely not applied) and we forward instead.
 */
export async function leaderOnly(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: RouteOptions,
  local: (cancel: Cancel) => Promise<Answer>,
): Promise<FastifyReply> {
  const cancel = clientGone(request, reply);
  const leaderWait = new LeaderWait(ctx, ctx.limits.leaderWaitMs);
  try {
    return await toLeader(ctx, request, reply, options, local, cancel, leaderWait);
  } finally {
    leaderWait.cancel();
  }
}

async function toLeader(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: RouteOptions,
  local: (cancel: Cancel) => Promise<Answer>,
  cancel: Canceller,
  until: LeaderWait,
): Promise<FastifyReply> {
  const forwardedBy = request.headers[FORWARDED_HEADER];
  let refusedUrl: string | null = null;
  for (;;) {
    const target = await waitForLeader(ctx, until, cancel, refusedUrl);
    if (target === null) {
      ctx.metrics.forwardedTotal.inc({ outcome: 'no_leader' });
      throw noLeaderError(ctx);
    }
    if (target.kind === 'self') {
      try {
        return sendAnswer(reply, await local(cancel));
      } catch (error) {
        if (error instanceof OutcomeUnknownError) throw unavailableError(ctx);
        if (!(error instanceof NotLeaderError)) throw error;
        if (forwardedBy !== undefined) throw noLeaderError(ctx, 'this node lost leadership; retry');
        // Chaos F3: while a leader hands leadership over (or is being removed) it drops proposals
        // yet still leads, so the next round would pick this node again at once. Wait on a timer
        // so the transfer can complete or time out, and stay within the client's bound.
        if (until.passed || cancel.aborted) {
          ctx.metrics.forwardedTotal.inc({ outcome: 'no_leader' });
          throw noLeaderError(ctx, 'leadership is changing hands; retry');
        }
        await pauseForRoleChange(ctx, LEADER_POLL_MS, [until.over(), cancel]);
        continue;
      }
    }
    // A forwarded request that lands on a non-leader is answered, never forwarded again.
    if (forwardedBy !== undefined) throw noLeaderError(ctx, 'the forwarded request reached a node that is not the leader');
    const result = await forwardOnce(ctx, request, reply, target, options, cancel);
    if (result === 'refused') {
      // Connection refused: the request surely never reached that node; try whoever leads next.
      refusedUrl = target.url;
      continue;
    }
    return result;
  }
}

async function forwardOnce(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  leader: { id: NodeId; url: string },
  options: RouteOptions,
  cancel: Canceller,
): Promise<FastifyReply | 'refused'> {
  const leaderUrl = leader.url;
  // A long-poll may outlive its waitMs by a failover (deadlines restart in full, item 14).
  const timeoutMs = 2 * options.waitMs + ctx.limits.proposeTimeoutMs + ctx.limits.forwardSlackMs;
  // A forward that times out ends the request (503 below), so it cancels the request's own
  // Canceller: one per request, not one more per forward (issue 12 profile).
  const timer = ctx.clock.setTimer(() => cancel.cancel(new Error('forward timed out')), timeoutMs);
  try {
    let answer: LeaderAnswer | null = null;
    let channel: 'call' | 'peer' | 'http' = 'call';
    if (!options.overHttp && options.call !== undefined) answer = await overPeer(ctx, leader.id, options.call(), cancel);
    if (answer === null) {
      // The relayed request is built only when no call carried this one.
      const forwarded = relayedRequest(ctx, request);
      if (!options.overHttp) {
        channel = 'peer';
        answer = await overPeer(ctx, leader.id, forwarded, cancel);
      }
      if (answer === null) {
        channel = 'http';
        answer = { kind: 'bytes', answer: await httpForward(ctx, leaderUrl, forwarded, cancel) };
      }
    }
    ctx.metrics.forwardedTotal.inc({ outcome: 'ok', channel });
    if (answer.kind === 'value') {
      // A call's answer is a value: this node's route serializes it by its own response schema.
      for (const [name, value] of Object.entries(answer.answer.headers)) {
        if (!DROPPED_RESPONSE_HEADERS.has(name)) reply.header(name, value);
      }
      return reply.code(answer.answer.status).send(answer.answer.value);
    }
    for (const [name, value] of answer.answer.headers) {
      if (!DROPPED_RESPONSE_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.code(answer.answer.status).send(answer.answer.body);
  } catch (error) {
    if (isConnectRefused(error)) return 'refused';
    ctx.metrics.forwardedTotal.inc({ outcome: 'unavailable' });
    request.log.warn({ err: error, leaderUrl }, 'forward to leader failed');
    // The leader may have received and applied it (item 15): never say "surely not".
    throw unavailableError(ctx, 'the leader did not answer in time; the outcome is unknown, retry with the same Idempotency-Key');
  } finally {
    timer.cancel();
  }
}

/** The client's request as the leader gets it: this request's path and query only, never an authority the client wrote. */
function relayedRequest(ctx: ServerContext, request: FastifyRequest): HttpForwardRequest {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: ctx.node.id };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== undefined;
  if (hasBody) headers['content-type'] = 'application/json';
  return { method: request.method, url: originForm(request.url), headers, body: hasBody ? JSON.stringify(request.body) : null };
}

/**
 * The request or call over the peer channel; null when the channel cannot carry it now, or the
 * connection failed before it was written (the leader never saw it: another way may carry it).
 */
async function overPeer(ctx: ServerContext, leader: NodeId, request: HttpForwardRequest | ForwardCall, cancel: Cancel): Promise<LeaderAnswer | null> {
  const sent = ctx.peers?.forward(leader, request, cancel) ?? null;
  if (sent === null) return null;
  let res: ForwardResponse;
  try {
    res = await sent;
  } catch (error) {
    if (error instanceof ForwardNotSentError) return null;
    throw error;
  }
  if (isCallAnswer(res)) return { kind: 'value', answer: res };
  return { kind: 'bytes', answer: { status: res.status, headers: Object.entries(res.headers), body: Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength) } };
}

async function httpForward(ctx: ServerContext, leaderUrl: string, forwarded: HttpForwardRequest, cancel: Cancel): Promise<UpstreamAnswer> {
  const response = await ctx.upstream(urlOnNode(leaderUrl, forwarded.url), {
    method: forwarded.method,
    headers: forwarded.headers,
    body: forwarded.body ?? undefined,
    signal: cancel.signal(),
    redirect: 'manual',
  });
  // Bytes, not text: a binary answer (GET /v1/cluster/snapshot) must reach the client unchanged.
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers.entries(), body };
}
