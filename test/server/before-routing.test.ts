// Requests that fail before any route sees them (Conventions: "Every response
// carries x-lockstep-node"; Errors: every non-2xx is {"error": {code, message}}):
// a path the router cannot decode or an over-long parameter, and a request
// Node's HTTP parser refuses, skip fastify's hooks; the server answers them
// under the same rules as every other answer.

import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Sends `raw` on a fresh socket and returns what came back before the server closed it. */
async function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('close', () => resolve(answer));
    socket.on('error', (error) => (answer.length > 0 ? resolve(answer) : reject(error)));
    socket.write(raw);
  });
}

function parseAnswer(raw: string): { status: number; headers: Record<string, string>; body: any } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n')) };
}

describe('router-level errors carry x-lockstep-node', () => {
  it('a path that is not valid URL encoding, and an over-long name: 400 invalid_argument with the node header', async () => {
    h = await makeHarness();
    for (const url of ['/v1/locks/a%ZZ/acquire', `/v1/locks/${'a'.repeat(2_000)}/acquire`]) {
      const res = await h.call('POST', url, { ttlMs: 5_000 });
      expect(res.status, url.slice(0, 40)).toBe(400);
      expect(res.body.error.code).toBe('invalid_argument');
      expect(res.headers['x-lockstep-node'], url.slice(0, 40)).toBe(h.node.id);
    }
  });

  it('with auth on, a request without a valid token still learns nothing of the cluster from one', async () => {
    h = await makeHarness({ authToken: 'root-secret' });
    const anonymous = await h.call('POST', '/v1/locks/a%ZZ/acquire', { ttlMs: 5_000 });
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers['x-lockstep-node']).toBeUndefined();
    const root = await h.call('POST', '/v1/locks/a%ZZ/acquire', { ttlMs: 5_000 }, { authorization: 'Bearer root-secret' });
    expect(root.status).toBe(400);
    expect(root.headers['x-lockstep-node']).toBe(h.node.id);
  });
});

describe('a request the HTTP parser refuses', () => {
  it('a control character in a header value: 400 in the error envelope, with the node header', async () => {
    h = await makeHarness();
    await h.server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.server.app.server.address() as AddressInfo;
    const answer = parseAnswer(await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\x01b\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: 'invalid_argument', message: expect.any(String), field: 'request' } });
    expect(answer.headers['content-type']).toContain('application/json');
    expect(answer.headers['x-lockstep-node']).toBe(h.node.id);
  });

  it('with auth on, the same answer names no node (its token could not be read)', async () => {
    h = await makeHarness({ authToken: 'root-secret' });
    await h.server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.server.app.server.address() as AddressInfo;
    const answer = parseAnswer(await rawExchange(port, 'GET /v1/cluster HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer root-secret\r\nX-Note: a\x01b\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_argument');
    expect(answer.headers['x-lockstep-node']).toBeUndefined();
  });
});
