import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { connectionError, fakeFetch, ManualClock } from './fakes.js';

function sse(events: string[], keepOpen = false): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const e of events) c.enqueue(enc.encode(e));
      if (!keepOpen) c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const leader = (l: unknown) => `event: leader\ndata: ${JSON.stringify({ leader: l })}\n\n`;

describe('observe', () => {
  it('yields leader changes, reconnects to another node when a stream drops, and drops the repeat', async () => {
    const clock = new ManualClock();
    let n = 0;
    const a = { sessionId: 's1', value: 'a', term: 5 };
    const b = { sessionId: 's2', value: 'b', term: 9 };
    const { fetch, calls } = fakeFetch(clock, () => {
      n++;
      if (n === 1) return sse([leader(null), leader(a)]);
      if (n === 2) throw connectionError('ECONNREFUSED');
      return sse([leader(a), leader(b)], true);
    });
    const client = new Client({ endpoints: ['http://n1:7001', 'http://n2:7002', 'http://n3:7003'], fetch, clock });
    const seen: unknown[] = [];
    const it = client.observe('cron');
    const pump = (async () => {
      for await (const l of it) {
        seen.push(l);
        if (seen.length === 3) break;
      }
    })();
    for (let i = 0; i < 20 && seen.length < 3; i++) await clock.advance(100);
    await pump;
    expect(seen).toEqual([null, a, b]);
    expect(calls.every((c) => c.path === '/v1/elections/cron/observe')).toBe(true);
    expect(calls.length).toBe(3);
  });

  it('leaves no listener on the caller\'s signal per reconnect (a long-lived watch reconnects many times)', async () => {
    const clock = new ManualClock();
    let n = 0;
    const { fetch } = fakeFetch(clock, () => {
      n++;
      // Every stream ends after one event: the watch reconnects each time.
      return sse([`event: state\ndata: ${JSON.stringify({ name: 'job', index: n })}\n\n`]);
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const controller = new AbortController();
    let seen = 0;
    const pump = (async () => {
      for await (const ev of client.watchLock('job', { signal: controller.signal })) {
        expect(ev.type).toBe('state');
        seen++;
      }
    })();
    for (let i = 0; i < 40 && seen < 25; i++) await clock.advance(100);
    expect(seen).toBeGreaterThanOrEqual(25);
    // At most the one of the stream open now (or of the pause before the next).
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    controller.abort();
    await clock.advance(100);
    await pump;
  });
});
