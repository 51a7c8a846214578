// No route (http-api.md: 404 not_found, "unknown route"; src/server/no-route.ts):
// a path that reaches a route only through an empty name or id (`GET /v1/locks/`)
// is 404 pointing to the path without the slash, not 400 about a `params.name`
// the client never sent; a known path asked with a method it does not answer is
// 404 saying the method is not supported there, with `Allow` listing the ones
// that are. With auth on, a request without a valid token learns neither.
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from './harness.js';

const ROOT = 'root-secret-for-no-route';
const rootAuth = { authorization: `Bearer ${ROOT}` };
let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('a path with an empty name or id', () => {
  it('is no route: 404 not_found naming the path without the trailing slash', async () => {
    h = await makeHarness();
    for (const [method, path, without] of [
      ['GET', '/v1/locks/', '/v1/locks'],
      ['GET', '/v1/sessions/', '/v1/sessions'],
      ['DELETE', '/v1/sessions/', '/v1/sessions'],
      ['GET', '/v1/cluster/', '/v1/cluster'],
    ]) {
      const res = await h.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error, `${method} ${path}`).toEqual({ code: 'not_found', message: `no route ${method} ${path} (without the trailing slash: ${without})` });
      expect(res.headers.allow, `${method} ${path}`).toBeUndefined();
    }
    // No list lives at the bare path: 404 all the same, without a pointer.
    expect((await h.call('GET', '/v1/elections/')).body.error).toEqual({ code: 'not_found', message: 'no route GET /v1/elections/' });
    expect((await h.call('POST', '/v1/locks//acquire', { ttlMs: 5_000 })).body.error.code).toBe('not_found');
  });

  it('with auth on: 401 without a token; 404, not 403, to a token bound to other names', async () => {
    h = await makeHarness({ authToken: ROOT });
    expect((await h.call('GET', '/v1/locks/')).status).toBe(401);
    const writer = (await h.call('POST', '/v1/auth/tokens', { name: 'billing', role: 'writer', prefixes: ['billing:'] }, rootAuth)).body;
    const res = await h.call('GET', '/v1/locks/', undefined, { authorization: `Bearer ${writer.secret}` });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('a known path with a method it does not answer', () => {
  it('is 404 not_found saying the method is not supported there, with Allow', async () => {
    h = await makeHarness();
    for (const [method, path, allow] of [
      ['PUT', '/v1/locks', 'GET, HEAD'],
      ['OPTIONS', '/v1/locks', 'GET, HEAD'],
      ['DELETE', '/v1/locks/orders:1', 'GET, HEAD'],
      ['GET', '/v1/locks/orders:1/acquire', 'POST'],
      ['PATCH', '/v1/sessions', 'GET, HEAD, POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ]) {
      const res = await h.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error, `${method} ${path}`).toEqual({ code: 'not_found', message: `${method} is not supported on ${path}: it answers ${allow}` });
      expect(res.headers.allow, `${method} ${path}`).toBe(allow);
    }
  });

  it('an unknown path, or a file the console does not have, is plain no route without Allow', async () => {
    h = await makeHarness();
    for (const path of ['/v1/nope', '/ui/nope.js']) {
      const res = await h.call('GET', path);
      expect(res.body.error, path).toEqual({ code: 'not_found', message: `no route GET ${path}` });
      expect(res.headers.allow, path).toBeUndefined();
    }
  });

  it('with auth on: 401 without a token, so the methods of a path are told to token holders only', async () => {
    h = await makeHarness({ authToken: ROOT });
    const refused = await h.call('PUT', '/v1/locks');
    expect(refused.status).toBe(401);
    expect(refused.headers.allow).toBeUndefined();
    const told = await h.call('PUT', '/v1/locks', undefined, rootAuth);
    expect(told.status).toBe(404);
    expect(told.headers.allow).toBe('GET, HEAD');
  });
});
