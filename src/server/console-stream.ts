// The operator console's live feed (GET /ui/events): one SSE stream per open
// console, with `cluster` events — this node's view of the cluster (as GET
// /v1/cluster), every member's own view as its API answers it (term, role,
// leader, commit and applied index: what this node cannot know of the
// others), and the leaders and terms this node has seen. An event is sent
// when something in it changed, checked every CONSOLE_TICK_MS; the console
// also uses the applied index in it to know when to refresh its lists.
// Bounded: at most CONSOLE_STREAMS_MAX open streams per node (429).

import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recheckPrincipal } from './access.js';
import type { ServerContext } from './context.js';
import { ApiError, apiErrorBody } from './errors.js';
import { formatSse } from './sse.js';
import { urlOnNode } from './target.js';
import type { LeaderHistory } from './leader-history.js';
import { clusterView } from './routes/cluster.js';

/** How often a stream looks for a change: bounds how late the console sees one. */
export const CONSOLE_TICK_MS = 250;
/** How often the other members' own views are asked for (one GET /v1/cluster each). */
export const PEER_POLL_MS = 1_000;
/** A member that has not answered within this is shown as not answering. */
const PEER_TIMEOUT_MS = 800;
/** Open console streams per node; each polls the other members, so they are few. */
export const CONSOLE_STREAMS_MAX = 64;

/** What a member's own API said about itself, or why it said nothing. */
export type PeerView =
  | { id: string; ok: true; role: string; term: number; leader: string | null; commitIndex: number; appliedIndex: number }
  | { id: string; ok: false; error: string };

export class ConsoleStreams {
  private open = 0;
  private readonly closers = new Set<() => void>();

  constructor(private readonly ctx: ServerContext, private readonly history: LeaderHistory) {}

  serve(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (this.open >= CONSOLE_STREAMS_MAX) {
      throw new ApiError('too_many_requests', `this node already serves ${CONSOLE_STREAMS_MAX} console streams`, {}, { 'retry-after': String(this.ctx.limits.retryAfterSeconds) });
    }
    this.open += 1;
    const stream = new PassThrough();
    const authorization = request.headers.authorization;
    /** The other members' views, from the last poll; this node's own is fresh at every tick. */
    let others: PeerView[] = [];
    let lastSent = '';
    let closed = false;
    let polling = false;

    const write = (text: string) => {
      // A console that does not read is cut off rather than buffered for: it reconnects.
      if (!closed && !stream.write(text) && stream.writableLength > 1_000_000) close();
    };
    const tick = () => {
      try {
        recheckPrincipal(this.ctx, request);
      } catch (error) {
        write(formatSse({ event: 'error', data: (error as ApiError).body?.() ?? apiErrorBody('unauthorized') }));
        close();
        return;
      }
      const status = this.ctx.node.status();
      this.history.observe(this.ctx.clock.wallMs(), status.term as number, status.leader as string | null);
      const data = { ...clusterView(this.ctx), peers: [this.selfView(), ...others], history: this.history.list() };
      // Whether anything changed is judged without nowMs (new at every tick): the event sent, with it, is a second text.
      const text = JSON.stringify(data);
      if (text === lastSent) return;
      lastSent = text;
      // nowMs: this node's wall clock as it sends, so that the page places its own moments (the feed
      // lost, the timeline's now) on the clock of the history's atMs, not on the browser's (console audit).
      write(formatSse({ event: 'cluster', data: { ...data, nowMs: this.ctx.clock.wallMs() } }));
    };
    const poll = async () => {
      if (polling || closed) return;
      polling = true;
      try {
        others = await this.otherViews(authorization);
      } finally {
        polling = false;
      }
      tick();
    };
    const clock = this.ctx.clock;
    const ticker = clock.setRepeating(tick, CONSOLE_TICK_MS);
    const poller = clock.setRepeating(() => void poll(), PEER_POLL_MS);
    const heartbeat = clock.setRepeating(() => write(': heartbeat\n\n'), this.ctx.limits.sseHeartbeatMs);
    const close = () => {
      if (closed) return;
      closed = true;
      this.open -= 1;
      this.closers.delete(close);
      for (const timer of [ticker, poller, heartbeat]) timer.cancel();
      stream.end();
    };
    this.closers.add(close);
    reply.raw.once('close', close);
    request.raw.once('close', () => {
      if (request.raw.destroyed) close();
    });
    // A request relayed over the peer channel (peer-answers.ts) has no socket to close: the member
    // giving up on it, or its connection closing, is told as 'aborted' only. Without this, every
    // stream a member relayed and dropped stayed open for good, polling every member.
    request.raw.once('aborted', close);
    tick();
    void poll();
    reply
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .type('text/event-stream; charset=utf-8');
    return reply.send(stream);
  }

  private selfView(): PeerView {
    const status = this.ctx.node.status();
    return { id: status.id as string, ok: true, role: status.role, term: status.term as number, leader: status.leader as string | null, commitIndex: status.commitIndex as number, appliedIndex: status.appliedIndex as number };
  }

  /** Every other member's own GET /v1/cluster, asked with the console's own token. */
  private async otherViews(authorization: string | undefined): Promise<PeerView[]> {
    const status = this.ctx.node.status();
    return Promise.all(status.members.filter((member) => member.id !== status.id).map(async (member): Promise<PeerView> => {
      const id = member.id as string;
      if (member.apiUrl === null) return { id, ok: false, error: 'its API address is not known' };
      try {
        const response = await this.ctx.upstream(urlOnNode(member.apiUrl, '/v1/cluster'), {
          headers: authorization === undefined ? {} : { authorization },
          signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
        });
        if (!response.ok) return { id, ok: false, error: `answered ${response.status}` };
        const view = await response.json() as { self: string; leader: string | null; term: number; commitIndex: number; appliedIndex: number; members: Array<{ id: string; role: string }> };
        const role = view.members.find((m) => m.id === view.self)?.role ?? 'unknown';
        return { id, ok: true, role, term: view.term, leader: view.leader, commitIndex: view.commitIndex, appliedIndex: view.appliedIndex };
      } catch (error) {
        return { id, ok: false, error: (error as Error).name === 'TimeoutError' ? `no answer within ${PEER_TIMEOUT_MS} ms` : 'not reachable' };
      }
    }));
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
