// Server-sent event streams (lock watches, election observers), served from
// this node's applied events (handed on by the dispatcher, dispatcher.ts):
// each stream starts with the current state and then follows every change in
// apply order. Bounded: at most watchesMax open streams per node and
// watchesPerTokenMax under one non-admin token (429 too_many_requests), and a
// reader that falls more than sseBufferedEventsMax events behind is cut off
// rather than buffered forever.

import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LockEvent } from '../locks/commands.js';
import { INDEX_HEADER } from './answer.js';
import type { ServerContext } from './context.js';
import { ApiError, apiErrorBody } from './errors.js';
import { countedToken, TokenShare } from './token-share.js';

export interface SseEvent {
  event: string;
  data: unknown;
}

export function formatSse(event: SseEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

interface Stream {
  /** The token it was opened with (null: auth off). */
  tokenId: string | null;
  /** Writes the SSE event this applied event maps to, if any. */
  deliver(event: LockEvent): void;
  /** Ends the stream with an `error` event carrying `body` (its token was revoked: 401). */
  end(body: unknown): void;
  /** Ends the stream with an `error` event (a bug while serving it). */
  fail(): void;
  close(): void;
}

export class WatchHub {
  private open = 0;
  private readonly streams = new Set<Stream>();
  private readonly share: TokenShare;

  constructor(private readonly ctx: ServerContext) {
    this.share = new TokenShare(ctx.limits.watchesPerTokenMax);
  }

  get openCount(): number {
    return this.open;
  }

  /**
   * An applied event (from the dispatcher) goes to every open stream. A
   * stream that throws is a bug in serving it: that stream ends, the others
   * still get the event, and `fault` reports it (logged and counted).
   */
  publish(event: LockEvent, fault: (error: unknown) => void): void {
    if (event.type === 'token.revoked') {
      // http-api.md: a revoked token takes effect on every node once committed — its streams too.
      for (const stream of [...this.streams]) {
        if (stream.tokenId === event.tokenId) stream.end(apiErrorBody('unauthorized', 'the bearer token was revoked'));
      }
      return;
    }
    for (const stream of [...this.streams]) {
      try {
        stream.deliver(event);
      } catch (error) {
        fault(error);
        stream.fail();
      }
    }
  }

  /**
   * Opens a stream: `initial` is written first, then every applied event that
   * `select` maps to an SSE event. Joining the streams and reading the
   * initial state happen in the same tick, so no event falls between them.
   */
  serve(request: FastifyRequest, reply: FastifyReply, initial: () => SseEvent, select: (event: LockEvent) => SseEvent | null): FastifyReply {
    const retryAfter = { 'retry-after': String(this.ctx.limits.retryAfterSeconds) };
    if (this.open >= this.ctx.limits.watchesMax) {
      throw new ApiError('too_many_requests', `this node already serves ${this.ctx.limits.watchesMax} watch streams`, {}, retryAfter);
    }
    const counted = countedToken(request.principal?.id ?? null, request.principal?.role ?? null);
    if (!this.share.hasRoom(counted)) {
      throw new ApiError('too_many_requests', `this token already holds ${this.ctx.limits.watchesPerTokenMax} of this node's watch streams`, {}, retryAfter);
    }
    this.open += 1;
    this.share.take(counted);
    const stream = new PassThrough();
    let pendingWrites = 0;
    let closed = false;
    const write = (text: string) => {
      if (closed) return;
      if (!stream.write(text)) pendingWrites += 1;
      if (pendingWrites > this.ctx.limits.sseBufferedEventsMax) {
        this.ctx.logger.warn({ url: request.url }, 'SSE reader too slow; closing its stream');
        close();
      }
    };
    stream.on('drain', () => {
      pendingWrites = 0;
    });
    const heartbeat = this.ctx.clock.setRepeating(() => write(': heartbeat\n\n'), this.ctx.limits.sseHeartbeatMs);
    const close = () => {
      if (closed) return;
      closed = true;
      this.open -= 1;
      this.share.give(counted);
      heartbeat.cancel();
      this.streams.delete(subscriber);
      stream.end();
    };
    const subscriber: Stream = {
      tokenId: request.principal?.id ?? null,
      end: (body) => {
        write(formatSse({ event: 'error', data: body }));
        close();
      },
      deliver: (event) => {
        const sse = select(event);
        if (sse !== null) write(formatSse(sse));
      },
      fail: () => subscriber.end(apiErrorBody('internal', 'this stream failed (a bug); reopen it')),
      close,
    };
    this.streams.add(subscriber);
    reply.raw.once('close', close);
    request.raw.once('close', () => {
      if (request.raw.destroyed) close();
    });
    // A request relayed over the peer channel (peer-answers.ts) has no socket to close: the member
    // giving up on it, or its connection closing, is told as 'aborted' only. Without this, every
    // stream a member relayed and dropped stayed open for good (1000 took every slot: 429 for all).
    request.raw.once('aborted', close);
    write(formatSse(initial()));
    reply
      .header(INDEX_HEADER, String(this.ctx.machine.appliedIndex()))
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .type('text/event-stream; charset=utf-8');
    return reply.send(stream);
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
