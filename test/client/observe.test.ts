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
});
