// http-api.md "Conventions": a body field the route does not know is
// 400 invalid_argument naming it, on every route, and changes nothing.

import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** A valid body for each write route, so that only the unknown field can be what fails. */
const VALID: Record<string, unknown> = {
  'POST /v1/sessions': {},
  'POST /v1/sessions/:id/keepalive': {},
  'DELETE /v1/sessions/:id': {},
  'POST /v1/locks/:name/acquire': { ttlMs: 5_000 },
  'POST /v1/locks/:name/release': { fencingToken: 1 },
  'POST /v1/locks/:name/extend': { fencingToken: 1 },
  'POST /v1/elections/:name/campaign': { sessionId: 's', value: 'v' },
  'POST /v1/elections/:name/proclaim': { term: 1, value: 'v' },
  'POST /v1/elections/:name/resign': { term: 1 },
  'POST /v1/fencing/check': { name: 'a', fencingToken: 1 },
  'POST /v1/cluster/members': { id: 'n9', apiUrl: 'http://127.0.0.1:1', peerUrl: '127.0.0.1:2' },
  'DELETE /v1/cluster/members/:id': {},
  'POST /v1/cluster/leadership': {},
  'POST /v1/auth/tokens': { name: 't', role: 'reader' },
  'POST /v1/lock-sets/acquire': { locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000 },
  'POST /v1/lock-sets/release': { holds: [{ name: 'a', fencingToken: 1 }] },
  'DELETE /v1/auth/tokens/:id': {},
};

function concrete(url: string): string {
  return url.replace(':name', 'a').replace(':id', 'x1');
}

describe('unknown body fields', () => {
  it('{"ttl": 1000} on session create is 400 naming ttl, not a default session', async () => {
    h = await makeHarness();
    const res = await h.call('POST', '/v1/sessions', { ttl: 1000 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
    expect(res.body.error.field).toBe('ttl');
    expect(res.body.error.message).toContain('body.ttl');
    expect(h.node.proposals).toHaveLength(0);
  });

  it('{"ttl": 1000} on acquire is 400 naming ttl', async () => {
    h = await makeHarness();
    const res = await h.call('POST', '/v1/locks/a/acquire', { ttl: 1000 });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('ttl');
    expect(h.node.proposals).toHaveLength(0);
  });

  it('every route that takes a body refuses a field it does not know, before anything is proposed', async () => {
    h = await makeHarness();
    // Every route of the OpenAPI document, so a route added later is covered (or VALID must name it).
    const doc = h.server.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const routes: Array<{ method: string; url: string }> = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (method !== 'get' && method !== 'head') routes.push({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, ':$1') });
      }
    }
    expect(routes.length).toBeGreaterThan(10);
    for (const { method, url } of routes) {
      const key = `${method} ${url}`;
      expect(VALID, `no valid body listed for ${key}`).toHaveProperty([key]);
      const body = { ...(VALID[key] as object), sneaky: 1 };
      const res = await h.call(method, concrete(url), body);
      expect({ key, status: res.status, field: res.body?.error?.field }).toEqual({ key, status: 400, field: 'sneaky' });
    }
    expect(h.node.proposals).toHaveLength(0);
  });

  it('nested objects are closed too (lock-set items, member bodies)', async () => {
    h = await makeHarness();
    const item = await h.call('POST', '/v1/lock-sets/acquire', { locks: [{ name: 'a' }, { name: 'b', Mode: 'shared' }], ttlMs: 5_000 });
    expect(item.status).toBe(400);
    expect(item.body.error.field).toBe('locks.1.Mode');
    const res = await h.call('POST', '/v1/cluster/members', { id: 'n9', apiUrl: 'http://127.0.0.1:1', peerUrl: '127.0.0.1:2', voter: true, Voter: false });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('Voter');
  });

  it('a misspelled required field is named as unknown, not reported as the missing field it stands for', async () => {
    h = await makeHarness();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/locks/a/release', { fencingtoken: 5 }, 'fencingtoken'],
      ['POST', '/v1/fencing/check', { name: 'a', token: 5 }, 'token'],
      ['POST', '/v1/auth/tokens', { nam: 'x', role: 'reader' }, 'nam'],
      ['POST', '/v1/elections/e/campaign', { session: 'x', value: 'v' }, 'session'],
      ['POST', '/v1/lock-sets/acquire', { lock: [{ name: 'a' }, { name: 'b' }], ttlMs: 5_000 }, 'lock'],
      ['POST', '/v1/lock-sets/acquire', { locks: [{ nmae: 'a' }, { name: 'b' }], ttlMs: 5_000 }, 'locks.0.nmae'],
      ['POST', '/v1/lock-sets/release', { locks: [{ name: 'a', fencingToken: 1 }] }, 'locks'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await h.call(method, url, body);
      expect({ url, status: res.status, code: res.body.error.code, field: res.body.error.field }).toEqual({ url, status: 400, code: 'invalid_argument', field });
      expect(res.body.error.message).toContain('is not a field of this request');
    }
    // With no unknown field, the missing one is still what is named.
    const missing = await h.call('POST', '/v1/locks/a/release', {});
    expect(missing.body.error).toMatchObject({ code: 'invalid_argument', field: 'fencingToken' });
    expect(h.node.proposals).toHaveLength(0);
  });
});
