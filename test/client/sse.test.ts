import { describe, expect, it } from 'vitest';
import { readSse, SseParser } from '../../packages/client/src/sse.js';

describe('SseParser', () => {
  it('parses events split across chunks at any point, with CRLF, comments and multi-line data', () => {
    const text = ': hello\r\nevent: state\r\ndata: {"a":\r\ndata: 1}\r\nid: 7\r\n\r\nevent: acquired\ndata: {"b":2}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const evs = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(evs).toEqual([
        { event: 'state', data: '{"a":\n1}', id: '7' },
        { event: 'acquired', data: '{"b":2}', id: '7' },
      ]);
    }
  });

  it('defaults the event type to message and ignores events without data', () => {
    const p = new SseParser();
    expect(p.push('event: x\n\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y', id: null }]);
  });

  it('reads a fetch body stream', async () => {
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode('event: leader\ndata: {"leader":null}\n'));
        c.enqueue(enc.encode('\nevent: leader\ndata: {"leader":{"term":3}}\n\n'));
        c.close();
      },
    });
    const out = [];
    for await (const ev of readSse(body)) out.push(ev.data);
    expect(out).toEqual(['{"leader":null}', '{"leader":{"term":3}}']);
  });
});
