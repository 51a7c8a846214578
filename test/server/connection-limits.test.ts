// Connections an unauthenticated client can hold (security audit): a socket
// that never sends a request, a request whose body never ends, and the
// number of sockets open at once are each bounded by a named limit.
// Before, a connection that sent no byte stayed open for good (fastify's
// connectionTimeout and requestTimeout are 0, and Node's headersTimeout
// starts at the first byte): 400 idle sockets to a node limited to 200
// file descriptors locked every client out, with no token needed.

import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerLimits } from '../../src/server/index.js';
import { type Harness, makeHarness } from './harness.js';
import { until } from './net.js';

let h: Harness | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await h?.close();
  h = null;
});

async function listening(limits: Partial<ServerLimits>): Promise<number> {
  h = await makeHarness({ limits });
  await h.server.app.listen({ host: '127.0.0.1', port: 0 });
  return (h.server.app.server.address() as AddressInfo).port;
}

/** A socket and whether the server has closed it. */
function open(port: number): { socket: Socket; closed: () => boolean; answer: () => string } {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let closed = false;
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, closed: () => closed, answer: () => answer };
}

describe('connection limits', () => {
  it('a connection that sends no request is closed after firstRequestMs; one that sent its request is not', async () => {
    const port = await listening({ firstRequestMs: 300 });
    const idle = open(port);
    const busy = open(port);
    busy.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => busy.answer().includes('"ok":true'), 2_000, 'the health answer');
    await until(idle.closed, 3_000, 'the idle socket to be closed');
    // The kept-alive socket that was served is in keepAliveTimeout's hands, not this limit's.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(busy.closed()).toBe(false);
  });

  it('closing: a connection that has sent nothing is closed at once, not after firstRequestMs', async () => {
    const port = await listening({ firstRequestMs: 120_000 });
    const silent = open(port);
    const served = open(port);
    served.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => served.answer().includes('"ok":true'), 2_000, 'the health answer');
    const connections = () => new Promise<number>((resolve) => h!.server.app.server.getConnections((_err, n) => resolve(n)));
    await until(async () => (await connections()) === 2, 2_000, 'both connections');
    // Without the close's own sweep, Node's closeIdleConnections closes the kept-alive one only, and
    // close() waits for the silent one's firstRequestMs (120 s: past this test's 10 s).
    await h!.close();
    h = null;
    await until(silent.closed, 2_000, 'the silent socket to be closed');
    await until(served.closed, 2_000, 'the kept-alive socket to be closed');
  }, 10_000);

  it('a request whose body never ends is dropped after requestReceiveMs', async () => {
    const port = await listening({ requestReceiveMs: 500 });
    const slow = open(port);
    slow.socket.write('POST /v1/sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
    // Node checks request deadlines every connectionsCheckingInterval (set with it).
    await until(slow.closed, 5_000, 'the slow request to be dropped');
  });

  it(`at most connectionsMax sockets at once: more are closed at once`, async () => {
    const port = await listening({ connectionsMax: 3 });
    const held = [open(port), open(port), open(port)];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const extra = open(port);
    await until(extra.closed, 2_000, 'the socket over the cap to be closed');
    expect(held.some((s) => s.closed())).toBe(false);
  });
});
