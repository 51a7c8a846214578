// Issue 11, "The API forwards only to the leader": an absolute-form request
// target (RFC 9112 §3.2.2) sent to a follower was forwarded to the host it
// named, with the client's Authorization header — an open relay. Written on a
// raw socket, because fetch and inject() always send the origin form.

import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { leaderAndFollower, open } from './pair.js';

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** Sends one raw HTTP/1.1 request and returns the status line, headers and body. */
function rawRequest(port: number, requestLine: string, headers: Record<string, string>, body = ''): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = [requestLine, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      resolve({ status: Number(head.split(' ')[1]), head, body: text.slice(split + 4) });
    });
  });
}

/** A server that records every request it gets: where a relayed request would land. */
async function trap(): Promise<{ server: Server; port: number; seen: Array<{ url: string; authorization?: string }> }> {
  const seen: Array<{ url: string; authorization?: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"acquired":true,"name":"trap","fencingToken":1,"mode":"exclusive"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, seen };
}

describe('forwarding builds the request from the path and query only', () => {
  it('an absolute-form target on a follower reaches the leader, never the host it names', async () => {
    const { leader, follower } = await leaderAndFollower({}, 's3cret');
    const evil = await trap();
    try {
      const followerPort = (follower.server.app.server.address() as { port: number }).port;
      const res = await rawRequest(
        followerPort,
        `POST http://127.0.0.1:${evil.port}/v1/locks/x/acquire?consistency=linearizable HTTP/1.1`,
        { authorization: 'Bearer s3cret', 'content-type': 'application/json' },
        JSON.stringify({ ttlMs: 5_000 }),
      );
      expect(res.status).toBe(200);
      expect(evil.seen).toEqual([]);
      // It was executed by the leader: the lock is held there.
      expect(leader.node.proposals).toHaveLength(1);
      const lock = await leader.call('GET', '/v1/locks/x', undefined, { authorization: 'Bearer s3cret' });
      expect(lock.body.holders).toHaveLength(1);
      expect(JSON.parse(res.body).fencingToken).toBe(lock.body.holders[0].fencingToken);

      // A protocol-relative path is not an authority either.
      const relative = await rawRequest(followerPort, `POST //127.0.0.1:${evil.port}/v1/locks/y/acquire HTTP/1.1`, { authorization: 'Bearer s3cret', 'content-type': 'application/json' }, '{"ttlMs":5000}');
      expect(relative.status).toBe(404);
      expect(evil.seen).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => evil.server.close(() => resolve()));
    }
  });

  it('the idempotency record keeps the path, not the authority: an absolute-form repeat replays', async () => {
    const { leader, follower } = await leaderAndFollower();
    const followerPort = (follower.server.app.server.address() as { port: number }).port;
    const first = await follower.call('POST', '/v1/locks/z/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'abs-1' });
    expect(first.status).toBe(200);
    const again = await rawRequest(followerPort, 'POST http://elsewhere.invalid/v1/locks/z/acquire HTTP/1.1', { 'content-type': 'application/json', 'idempotency-key': 'abs-1' }, '{"ttlMs":5000}');
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).fencingToken).toBe(first.body.fencingToken);
    expect(leader.node.proposals).toHaveLength(1);
  });

  it('a 401 names neither the node nor the leader', async () => {
    const { follower } = await leaderAndFollower({}, 's3cret');
    const followerPort = (follower.server.app.server.address() as { port: number }).port;
    const res = await rawRequest(followerPort, 'POST /v1/locks/x/acquire HTTP/1.1', { 'content-type': 'application/json' }, '{"ttlMs":5000}');
    expect(res.status).toBe(401);
    expect(res.head.toLowerCase()).not.toContain('x-lockstep-');
    const ok = await follower.call('GET', '/v1/cluster', undefined, { authorization: 'Bearer s3cret' });
    expect(ok.headers['x-lockstep-node']).toBe('n2');
    expect(ok.headers['x-lockstep-leader']).toBe('n1');
  });
});
