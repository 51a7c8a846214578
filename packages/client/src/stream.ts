// Server-sent event streams (lock watch, election observe) that survive a
// node going away: on a dropped stream the SDK reconnects to the next
// endpoint. Every stream of the API starts with the current state, so a
// reconnect resynchronises the reader instead of losing changes silently.

import { sleep, type Clock } from './clock.js';
import { LockstepError } from './errors.js';
import type { HttpEngine, OpenStream } from './http.js';
import { readSse, type SseEvent } from './sse.js';

/** Pause before reconnecting a dropped stream. */
export const STREAM_RECONNECT_DELAY_MS = 100;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Reconnect after the stream drops (default true). */
  reconnect?: boolean;
}

export async function* eventStream(http: HttpEngine, clock: Clock, path: string, opts: StreamOptions = {}): AsyncGenerator<SseEvent> {
  const signal = opts.signal;
  for (;;) {
    if (signal?.aborted) return;
    let opened: OpenStream;
    try {
      opened = await http.openStream({ method: 'GET', path, retry: 'idempotent', signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    try {
      const body = opened.response.body;
      if (body === null) throw new LockstepError('protocol', `${opened.endpoint} answered an event stream without a body`, opened.response.status);
      try {
        for await (const ev of readSse(body)) yield ev;
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof Error && err.message.startsWith('event stream:')) throw new LockstepError('protocol', err.message, 0);
        // A dropped connection: reconnect below.
      }
    } finally {
      opened.done();
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
