// A node that hangs (SIGSTOP, a paused VM, a partition that drops packets)
// closes no connection: its watch or observe stream just goes quiet, and a
// reader that waits on it misses every change made meanwhile. The server writes
// a heartbeat comment every 15 s, so a quiet stream is given up and reopened.
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { STREAM_IDLE_TIMEOUT_MS } from '../../packages/client/src/stream.js';
import { fakeFetch, hang, ManualClock, type FakeRequest } from './fakes.js';

const enc = new TextEncoder();

/** An event stream that writes `chunks` and then stays open until its request is aborted (as fetch's body does). */
function openStream(req: FakeRequest, chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      req.signal?.addEventListener('abort', () => c.error(req.signal?.reason), { once: true });
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const state = (holders: number) => `event: state\ndata: ${JSON.stringify({ name: 'job', holders: Array(holders).fill({}), index: holders })}\n\n`;

describe('event streams on a node that hangs', () => {
  it('reopens a stream that has read nothing for idleTimeoutMs, on another node', async () => {
    const clock = new ManualClock();
    let n1Opens = 0;
    // n1 answers the first open, then hangs: its stream goes quiet and a new open gets no answer.
    const { fetch, calls } = fakeFetch(clock, (req) => {
      if (req.endpoint === 'http://n2:7002') return openStream(req, [state(1)]);
      return n1Opens++ === 0 ? openStream(req, [state(0)]) : hang(req);
    });
    const client = new Client({ endpoints: ['http://n1:7001', 'http://n2:7002'], fetch, clock });
    const controller = new AbortController();
    const seen: number[] = [];
    const pump = (async () => {
      for await (const ev of client.watchLock('job', { signal: controller.signal, idleTimeoutMs: 1_000 })) seen.push((ev.data.holders as unknown[]).length);
    })();
    await clock.advance(900);
    expect(seen).toEqual([0]);
    // After 1 s of quiet the stream is dropped and reopened: n1 does not answer within the attempt's timeout, n2 does.
    for (let i = 0; i < 100 && seen.length < 2; i++) await clock.advance(100);
    expect(seen.slice(0, 2)).toEqual([0, 1]);
    expect(calls.some((c) => c.endpoint === 'http://n2:7002')).toBe(true);
    controller.abort();
    await clock.advance(100);
    await pump;
  });

  it('keeps a stream that only hears heartbeat comments', async () => {
    const clock = new ManualClock();
    let beat: (() => void) | null = null;
    const { fetch, calls } = fakeFetch(clock, (req) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(state(0)));
          beat = () => c.enqueue(enc.encode(': heartbeat\n\n'));
          req.signal?.addEventListener('abort', () => c.error(req.signal?.reason), { once: true });
        },
      });
      return new Response(body, { status: 200 });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const controller = new AbortController();
    const pump = (async () => {
      for await (const ev of client.observe('job', { signal: controller.signal })) void ev;
    })();
    for (let i = 0; i < 10; i++) {
      await clock.advance(15_000);
      beat!();
    }
    expect(calls.length).toBe(1);
    expect(15_000 * 10).toBeGreaterThan(STREAM_IDLE_TIMEOUT_MS);
    controller.abort();
    await clock.advance(100);
    await pump;
  });
});
