// The permission table (http-api.md "Tokens and roles") as a small, obviously
// right model, checked against the server: random tokens (role, prefixes)
// make random requests; a request is 403 exactly when the model says the
// token may not make it, and never changes anything then.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

const ROOT = 'root-secret';
const NAMES = ['a:1', 'a:2', 'a', 'ab', 'b', 'b:1', 'c', 'cz'];
const PREFIXES = ['a:', 'a', 'b:', 'c', 'zz'];

type Role = 'admin' | 'writer' | 'reader';
/** What the model knows of a request: whether it changes state, whether it is an admin request, the names it touches. */
interface Req {
  method: string;
  url: string;
  body?: unknown;
  /** The contract's row: 'lock' (names), 'session' (no name), 'admin', 'anyone'. */
  kind: 'lock' | 'session' | 'admin' | 'anyone';
  write: boolean;
  names: string[];
}

/** The table, written out: who may do what. */
function modelAllows(role: Role, prefixes: string[], req: Req): boolean {
  if (role === 'admin') return true;
  if (req.kind === 'anyone') return true;
  if (req.kind === 'admin') return false;
  if (req.write && role === 'reader') return false;
  if (req.kind === 'session') return true;
  const mine = (name: string) => prefixes.length === 0 || prefixes.some((p) => name.startsWith(p));
  return req.names.every(mine);
}

const name = fc.constantFrom(...NAMES);
const request: fc.Arbitrary<Req> = fc.oneof(
  name.map((n): Req => ({ method: 'POST', url: `/v1/locks/${n}/acquire`, body: { ttlMs: 5_000 }, kind: 'lock', write: true, names: [n] })),
  name.map((n): Req => ({ method: 'POST', url: `/v1/locks/${n}/release`, body: { fencingToken: 1 }, kind: 'lock', write: true, names: [n] })),
  name.map((n): Req => ({ method: 'POST', url: `/v1/locks/${n}/extend`, body: { fencingToken: 1 }, kind: 'lock', write: true, names: [n] })),
  name.map((n): Req => ({ method: 'GET', url: `/v1/locks/${n}`, kind: 'lock', write: false, names: [n] })),
  name.map((n): Req => ({ method: 'GET', url: `/v1/locks/${n}?consistency=stale`, kind: 'lock', write: false, names: [n] })),
  name.map((n): Req => ({ method: 'POST', url: '/v1/fencing/check', body: { name: n, fencingToken: 1 }, kind: 'lock', write: false, names: [n] })),
  name.map((n): Req => ({ method: 'POST', url: `/v1/elections/${n}/campaign`, body: { sessionId: 'gone', value: 'v' }, kind: 'lock', write: true, names: [n] })),
  name.map((n): Req => ({ method: 'POST', url: `/v1/elections/${n}/resign`, body: { term: 1 }, kind: 'lock', write: true, names: [n] })),
  name.map((n): Req => ({ method: 'GET', url: `/v1/elections/${n}`, kind: 'lock', write: false, names: [n] })),
  fc.uniqueArray(name, { minLength: 2, maxLength: 3 }).map((ns): Req => ({ method: 'POST', url: '/v1/lock-sets/acquire', body: { locks: ns.map((n) => ({ name: n })), ttlMs: 5_000 }, kind: 'lock', write: true, names: ns })),
  fc.uniqueArray(name, { minLength: 1, maxLength: 3 }).map((ns): Req => ({ method: 'POST', url: '/v1/lock-sets/release', body: { holds: ns.map((n) => ({ name: n, fencingToken: 1 })) }, kind: 'lock', write: true, names: ns })),
  fc.constant<Req>({ method: 'POST', url: '/v1/sessions', body: {}, kind: 'session', write: true, names: [] }),
  fc.constant<Req>({ method: 'DELETE', url: '/v1/sessions/gone', kind: 'session', write: true, names: [] }),
  fc.constant<Req>({ method: 'POST', url: '/v1/sessions/gone/keepalive', kind: 'session', write: true, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/sessions/gone', kind: 'session', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/sessions', kind: 'session', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/locks', kind: 'session', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/cluster', kind: 'anyone', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/metrics', kind: 'anyone', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/auth/whoami', kind: 'anyone', write: false, names: [] }),
  fc.constant<Req>({ method: 'GET', url: '/v1/auth/tokens', kind: 'admin', write: false, names: [] }),
  fc.constant<Req>({ method: 'DELETE', url: '/v1/auth/tokens/0000000000000000', kind: 'admin', write: true, names: [] }),
  fc.constant<Req>({ method: 'DELETE', url: '/v1/cluster/members/n7', kind: 'admin', write: true, names: [] }),
);
const token = fc.record({
  role: fc.constantFrom<Role>('admin', 'writer', 'reader'),
  prefixes: fc.uniqueArray(fc.constantFrom(...PREFIXES), { maxLength: 3 }),
}).map((t) => (t.role === 'admin' ? { ...t, prefixes: [] } : t));

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ authToken: ROOT });
});
afterAll(async () => {
  await h.close();
});

describe('the permission table against a model', () => {
  it('403 exactly where the model forbids, and nothing proposed then', async () => {
    let forbidden = 0;
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(token, fc.array(request, { minLength: 1, maxLength: 8 }), async (t, requests) => {
        const created = await h.call('POST', '/v1/auth/tokens', { name: 'p', role: t.role, ...(t.prefixes.length > 0 ? { prefixes: t.prefixes } : {}) }, { authorization: `Bearer ${ROOT}` });
        expect(created.status).toBe(201);
        for (const req of requests) {
          const before = h.node.proposals.length;
          const res = await h.call(req.method, req.url, req.body, { authorization: `Bearer ${created.body.secret}` });
          const expected = modelAllows(t.role, t.prefixes, req);
          const what = `${t.role} ${JSON.stringify(t.prefixes)} ${req.method} ${req.url}`;
          if (expected) {
            expect(res.status, what).not.toBe(403);
            expect(res.status, what).not.toBe(401);
            allowed++;
          } else {
            expect(res.status, what).toBe(403);
            expect(res.body.error.code, what).toBe('forbidden');
            expect(h.node.proposals.length, what).toBe(before);
            forbidden++;
          }
        }
        await h.call('DELETE', `/v1/auth/tokens/${created.body.id}`, undefined, { authorization: `Bearer ${ROOT}` });
      }),
      { numRuns: 150 },
    );
    // Both sides of the table were exercised.
    expect(forbidden).toBeGreaterThan(20);
    expect(allowed).toBeGreaterThan(20);
  });
});
