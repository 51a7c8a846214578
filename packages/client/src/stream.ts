// Server-sent event streams (lock watch, election observe) that survive a
// node going away: on a dropped stream the SDK reconnects to the next
// endpoint. Every stream of the API starts with the current state, so a
// reconnect resynchronises the reader instead of losing changes silently.
// A node that hangs (SIGSTOP, a VM paused, a partition that drops packets)
// closes nothing: its stream just goes quiet. The server writes a comment to
// every stream each 15 s (sseHeartbeatMs), so a stream that has read nothing
// for idleTimeoutMs is given up and reconnected like a dropped one.

import { sleep, type Clock, type TimerHandle } from './clock.js';
import { LockstepError } from './errors.js';
import type { HttpEngine, OpenStream } from './http.js';
import { readSse, type SseEvent } from './sse.js';

/** Pause before reconnecting a dropped stream. */
export const STREAM_RECONNECT_DELAY_MS = 100;
/** Nothing read for this long (two of the server's 15 s heartbeats missed, and slack): the node hangs. */
export const STREAM_IDLE_TIMEOUT_MS = 40_000;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Reconnect after the stream drops (default true). */
  reconnect?: boolean;
  /** Treat a stream that has read nothing (not even the server's heartbeat comment) for this long as dropped. Default 40000. */
  idleTimeoutMs?: number;
}

export async function* eventStream(http: HttpEngine, clock: Clock, path: string, opts: StreamOptions = {}): AsyncGenerator<SseEvent> {
  const signal = opts.signal;
  const idleTimeoutMs = opts.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS;
  if (!(idleTimeoutMs > 0)) throw new Error(`lockstep client: idleTimeoutMs must be > 0, got ${idleTimeoutMs}`);
  for (;;) {
    if (signal?.aborted) return;
    // One connection: ended by the caller's signal, or by us when it goes quiet.
    const connection = new AbortController();
    const onAbort = (): void => connection.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let idleTimer: TimerHandle | null = null;
    try {
      let opened: OpenStream;
      try {
        opened = await http.openStream({ method: 'GET', path, retry: 'idempotent', signal: connection.signal });
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      try {
        const body = opened.response.body;
        if (body === null) throw new LockstepError('protocol', `${opened.endpoint} answered an event stream without a body`, opened.response.status);
        const quiet = (): void => connection.abort(new Error(`${opened.endpoint} sent nothing for ${idleTimeoutMs} ms`));
        const heard = (): void => {
          idleTimer?.cancel();
          idleTimer = clock.setTimer(quiet, idleTimeoutMs, true);
        };
        heard();
        try {
          for await (const ev of readSse(body, heard)) yield ev;
        } catch (err) {
          if (signal?.aborted) return;
          if (err instanceof Error && err.message.startsWith('event stream:')) throw new LockstepError('protocol', err.message, 0);
          // A dropped connection, or a quiet one we ended: reconnect below.
        }
      } finally {
        opened.done();
      }
    } finally {
      (idleTimer as TimerHandle | null)?.cancel();
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted || opts.reconnect === false) return;
    try {
      await sleep(clock, STREAM_RECONNECT_DELAY_MS, signal);
    } catch {
      return;
    }
  }
}

export function parseEventData(ev: SseEvent): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(ev.data);
    if (v !== null && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new LockstepError('protocol', `event '${ev.event}' has data that is not a JSON object`, 0);
}
