// clientGone: fires when the client leaves before its answer, never after it.
// A forwarded request runs through fastify's inject, whose response never reports
// writableFinished: the cancellation must still stay quiet once the answer is complete.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Canceller } from '../../src/cancel.js';
import { clientGone } from '../../src/server/forward.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('clientGone', () => {
  it('is not aborted after an injected request was answered', async () => {
    const app = Fastify();
    apps.push(app);
    let gone: Canceller | null = null;
    app.post('/x', async (request, reply) => {
      gone = clientGone(request, reply);
      return { ok: true };
    });
    const res = await app.inject({ method: 'POST', url: '/x', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gone!.aborted).toBe(false);
  });

  it('is aborted when an HTTP client disconnects before its answer', async () => {
    const app = Fastify({ serverFactory: (handler) => createServer(handler) });
    apps.push(app);
    const aborted = new Promise<unknown>((resolve) => {
      app.post('/wait', async (request, reply) => {
        const gone = clientGone(request, reply);
        await new Promise<void>((done) => gone.onAbort(() => done()));
        resolve(gone.reason);
        return { ok: false };
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/wait', headers: { 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end('{}');
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    expect(String(await aborted)).toContain('client went away');
  });
});
