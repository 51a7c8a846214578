// A node that is shutting down (SIGTERM: LockServer.close) finishes the
// requests in flight and refuses new ones. A request that reaches it on a
// kept-alive connection meanwhile is refused in the contract's error
// envelope (http-api.md: {"error": {"code", "message"}}), 503 with
// Retry-After, so that clients move to another node; fastify's own answer
// was {"error":"Service Unavailable",...}, which the SDK cannot read a code
// from.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';
import { freePort } from './net.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close().catch(() => undefined);
});

describe('a node that is closing', () => {
  it('answers the request in flight, and a request pipelined behind it with 503 in the contract envelope', async () => {
    const h = await makeHarness();
    open.push(h);
    const port = await freePort();
    await h.server.listen('127.0.0.1', port);

    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const body = JSON.stringify({ ttlMs: 60_000 });
    const head = (path: string): string => `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    // The first request's headers and half its body: in flight.
    socket.write(head('/v1/locks/first/acquire') + body.slice(0, 4));
    await new Promise((r) => setTimeout(r, 100));
    const closed = h.server.close(5_000);
    await new Promise((r) => setTimeout(r, 100));
    // The rest of it, and a second request behind it on the same connection.
    socket.write(body.slice(4) + head('/v1/locks/second/acquire') + body);
    await closed;
    await ended;

    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
    expect(answers[0]).toContain('"acquired":true');
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503 /);
    expect(answers[1].toLowerCase()).toContain('retry-after: 1');
    const json = JSON.parse(answers[1].slice(answers[1].indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('unavailable');
    expect(json.error.message).toMatch(/shutting down/);
  });
});
