// http-api.md "Security" / "Tokens and roles" through the HTTP API of one
// node (app.inject), and through a follower that forwards to the leader.

import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness, flush } from './harness.js';
import { leaderAndFollower, open } from './pair.js';
import { SseReader } from './net.js';

const ROOT = 'root-secret';
const rootAuth = { authorization: `Bearer ${ROOT}` };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
  for (const x of open.splice(0)) await x.close();
});

/** A logger whose lines the test can read (the audit log). */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function createToken(x: Harness, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await x.call('POST', '/v1/auth/tokens', body, rootAuth);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('tokens', () => {
  it('create shows the secret once; list and whoami never show it; the token works at once', async () => {
    h = await makeHarness({ authToken: ROOT });
    const created = await h.call('POST', '/v1/auth/tokens', { name: 'team-a', role: 'writer', prefixes: ['a:'] }, rootAuth);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), name: 'team-a', role: 'writer', prefixes: ['a:'], secret: expect.stringMatching(/^lst_[A-Za-z0-9_-]{43}$/) });
    const { id, secret } = created.body;
    const list = await h.call('GET', '/v1/auth/tokens', undefined, rootAuth);
    expect(list.body).toEqual({ tokens: [{ id, name: 'team-a', role: 'writer', prefixes: ['a:'] }] });
    expect(JSON.stringify(list.body)).not.toContain(secret);
    const who = await h.call('GET', '/v1/auth/whoami', undefined, bearer(secret));
    expect(who.body).toEqual({ id, name: 'team-a', role: 'writer', prefixes: ['a:'] });
    // It reflects the replicated token table: the index it was read at.
    expect(Number(who.headers['x-lockstep-index'])).toBeGreaterThan(0);
    expect((await h.call('GET', '/v1/auth/whoami', undefined, rootAuth)).body).toEqual({ id: 'root', name: 'root', role: 'admin', prefixes: [] });
    // Nothing in the log holds the secret.
    for (const entry of h.node.proposals) expect(Buffer.from(entry).includes(Buffer.from(secret))).toBe(false);
  });

  it('a prefix given twice is kept once', async () => {
    h = await makeHarness({ authToken: ROOT });
    const created = await h.call('POST', '/v1/auth/tokens', { name: 'twice', role: 'reader', prefixes: ['b:', 'a:', 'b:'] }, rootAuth);
    expect(created.status).toBe(201);
    expect(created.body.prefixes).toEqual(['b:', 'a:']);
    expect((await h.call('GET', '/v1/auth/tokens', undefined, rootAuth)).body.tokens[0].prefixes).toEqual(['b:', 'a:']);
  });

  it('401 for a missing, unknown, malformed or revoked token; the health probes stay open', async () => {
    h = await makeHarness({ authToken: ROOT });
    const { id, secret } = await createToken(h, { name: 'r', role: 'reader' });
    for (const headers of [{}, bearer('lst_nope'), { authorization: `Basic ${secret}` }, { authorization: secret }]) {
      const res = await h.call('GET', '/v1/cluster', undefined, headers);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    expect((await h.call('GET', '/v1/cluster', undefined, bearer(secret))).status).toBe(200);
    expect((await h.call('DELETE', `/v1/auth/tokens/${id}`, undefined, rootAuth)).body).toEqual({ revoked: true });
    expect((await h.call('GET', '/v1/cluster', undefined, bearer(secret))).status).toBe(401);
    expect((await h.call('DELETE', `/v1/auth/tokens/${id}`, undefined, rootAuth)).status).toBe(404);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    expect((await h.call('GET', '/nowhere')).status).toBe(401);
    expect((await h.call('GET', '/nowhere', undefined, rootAuth)).status).toBe(404);
  });

  it('roles: a reader reads, a writer writes on its prefixes, only an admin manages members, leadership and tokens', async () => {
    h = await makeHarness({ authToken: ROOT });
    const reader = await createToken(h, { name: 'r', role: 'reader', prefixes: ['a:'] });
    const writer = await createToken(h, { name: 'w', role: 'writer', prefixes: ['a:', 'b:'] });
    const written = h.node.proposals.length;

    const readerAcquire = await h.call('POST', '/v1/locks/a:1/acquire', { ttlMs: 5_000 }, bearer(reader.secret));
    expect(readerAcquire.status).toBe(403);
    expect(readerAcquire.body.error.code).toBe('forbidden');
    expect((await h.call('GET', '/v1/locks/a:1', undefined, bearer(reader.secret))).status).toBe(200);
    expect((await h.call('GET', '/v1/locks/c:1', undefined, bearer(reader.secret))).status).toBe(403);
    expect((await h.call('POST', '/v1/fencing/check', { name: 'a:1', fencingToken: 1 }, bearer(reader.secret))).status).toBe(200);
    expect((await h.call('POST', '/v1/fencing/check', { name: 'z', fencingToken: 1 }, bearer(reader.secret))).status).toBe(403);
    expect((await h.call('POST', '/v1/sessions', {}, bearer(reader.secret))).status).toBe(403);

    const outside = await h.call('POST', '/v1/locks/c:1/acquire', { ttlMs: 5_000 }, bearer(writer.secret));
    expect(outside.status).toBe(403);
    expect(outside.body.error.names).toEqual(['c:1']);
    expect(h.node.proposals).toHaveLength(written);
    const inside = await h.call('POST', '/v1/locks/b:1/acquire', { ttlMs: 5_000 }, bearer(writer.secret));
    expect(inside.status).toBe(200);
    // A lock set needs the right on every name in it.
    const set = await h.call('POST', '/v1/lock-sets/acquire', { locks: [{ name: 'a:9' }, { name: 'c:9' }, { name: 'd:9' }], ttlMs: 5_000 }, bearer(writer.secret));
    expect(set.status).toBe(403);
    expect(set.body.error.names).toEqual(['c:9', 'd:9']);
    expect((await h.call('POST', '/v1/lock-sets/acquire', { locks: [{ name: 'a:9' }, { name: 'b:9' }], ttlMs: 5_000 }, bearer(writer.secret))).status).toBe(200);
    expect((await h.call('POST', '/v1/lock-sets/release', { holds: [{ name: 'c:1', fencingToken: 1 }] }, bearer(writer.secret))).status).toBe(403);
    for (const [method, url, body] of [
      ['POST', '/v1/cluster/leadership', {}],
      ['POST', '/v1/cluster/members', { id: 'n9', apiUrl: 'http://127.0.0.1:1', peerUrl: '127.0.0.1:2' }],
      ['DELETE', '/v1/cluster/members/n1', undefined],
      ['POST', '/v1/auth/tokens', { name: 'x', role: 'admin' }],
      ['GET', '/v1/auth/tokens', undefined],
      ['DELETE', `/v1/auth/tokens/${reader.id}`, undefined],
    ] as const) {
      const res = await h.call(method, url, body, bearer(writer.secret));
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
    }
    for (const url of ['/v1/cluster', '/metrics', '/v1/auth/whoami']) {
      expect((await h.call('GET', url, undefined, bearer(writer.secret))).status).toBe(200);
      expect((await h.call('GET', url, undefined, bearer(reader.secret))).status).toBe(200);
    }
    const admin = await createToken(h, { name: 'ops', role: 'admin' });
    expect((await h.call('GET', '/v1/auth/tokens', undefined, bearer(admin.secret))).status).toBe(200);
  });

  it('a request the token may not make is 403 whatever its body: the role and the names in the path are judged before the body', async () => {
    h = await makeHarness({ authToken: ROOT });
    const reader = await createToken(h, { name: 'r', role: 'reader', prefixes: ['a:'] });
    const writer = await createToken(h, { name: 'w', role: 'writer', prefixes: ['a:'] });
    const written = h.node.proposals.length;
    // Bodies that fail validation (a missing or unknown field): fixing them would not help.
    for (const [secret, method, url, body] of [
      [reader.secret, 'POST', '/v1/locks/a:1/acquire', {}],
      [reader.secret, 'POST', '/v1/locks/a:1/release', { fencingTokn: 1 }],
      [reader.secret, 'POST', '/v1/sessions', { ttl: 5_000 }],
      [reader.secret, 'POST', '/v1/lock-sets/acquire', {}],
      [writer.secret, 'POST', '/v1/auth/tokens', {}],
      [writer.secret, 'POST', '/v1/cluster/members', {}],
      [writer.secret, 'POST', '/v1/cluster/leadership', { to: 5 }],
      [writer.secret, 'POST', '/v1/locks/c:1/acquire', {}],
      [writer.secret, 'POST', '/v1/elections/c:1/campaign', { value: 'v' }],
    ] as const) {
      const res = await h.call(method, url, body, bearer(secret));
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status: 403, code: 'forbidden' });
    }
    // Within its rights the same bodies are what is wrong.
    expect((await h.call('POST', '/v1/locks/a:1/acquire', {}, bearer(writer.secret))).status).toBe(400);
    expect((await h.call('POST', '/v1/auth/tokens', {}, rootAuth)).status).toBe(400);
    // Names in the body are judged once the body is valid.
    expect((await h.call('POST', '/v1/lock-sets/acquire', {}, bearer(writer.secret))).status).toBe(400);
    expect(h.node.proposals).toHaveLength(written);
  });

  it('lists show only what the token may see', async () => {
    h = await makeHarness({ authToken: ROOT });
    const a = await createToken(h, { name: 'a', role: 'writer', prefixes: ['a:'] });
    const b = await createToken(h, { name: 'b', role: 'reader', prefixes: ['b:'] });
    for (const name of ['a:1', 'a:2', 'b:1', 'c:1']) await h.call('POST', `/v1/locks/${name}/acquire`, { ttlMs: 5_000 }, rootAuth);
    const names = async (secret: string, query = '') => ((await h!.call('GET', `/v1/locks${query}`, undefined, bearer(secret))).body.locks as Array<{ name: string }>).map((l) => l.name);
    expect(await names(a.secret)).toEqual(['a:1', 'a:2']);
    expect(await names(a.secret, '?limit=1')).toEqual(['a:1']);
    expect(await names(b.secret)).toEqual(['b:1']);
    expect(await names(ROOT)).toEqual(['a:1', 'a:2', 'b:1', 'c:1']);
    const own = await h.call('POST', '/v1/sessions', { name: 'mine' }, bearer(a.secret));
    await h.call('POST', '/v1/sessions', { name: 'roots' }, rootAuth);
    const sessions = await h.call('GET', '/v1/sessions', undefined, bearer(a.secret));
    expect(sessions.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([own.body.sessionId]);
    expect((await h.call('GET', '/v1/sessions', undefined, rootAuth)).body.sessions).toHaveLength(2);
  });

  it('admin tokens take no prefixes; the root token cannot be revoked through the API; Idempotency-Key does not replay a create', async () => {
    h = await makeHarness({ authToken: ROOT });
    const bad = await h.call('POST', '/v1/auth/tokens', { name: 'x', role: 'admin', prefixes: ['a:'] }, rootAuth);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('prefixes');
    expect((await h.call('POST', '/v1/auth/tokens', { name: 'x', role: 'writer', prefixes: [] }, rootAuth)).status).toBe(400);
    expect((await h.call('POST', '/v1/auth/tokens', { name: 'x', role: 'owner' }, rootAuth)).status).toBe(400);
    expect((await h.call('DELETE', '/v1/auth/tokens/root', undefined, rootAuth)).status).toBe(400);
    const one = await h.call('POST', '/v1/auth/tokens', { name: 'x', role: 'reader' }, { ...rootAuth, 'idempotency-key': 'k' });
    const two = await h.call('POST', '/v1/auth/tokens', { name: 'x', role: 'reader' }, { ...rootAuth, 'idempotency-key': 'k' });
    expect(one.body.id).not.toBe(two.body.id);
  });

  it('revocation ends the token\'s long-poll with 401, and its watch streams with an error event', async () => {
    h = await makeHarness({ authToken: ROOT });
    const w = await createToken(h, { name: 'w', role: 'writer' });
    await h.call('POST', '/v1/locks/x/acquire', { ttlMs: 60_000 }, rootAuth);
    const waiting = h.call('POST', '/v1/locks/x/acquire', { ttlMs: 60_000, waitMs: 60_000 }, bearer(w.secret));
    await flush();
    expect(h.server.services.locks.waits.size).toBe(1);
    await h.server.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
    const stream = await fetch(`${url}/v1/locks/x/watch`, { headers: bearer(w.secret) });
    expect(stream.status).toBe(200);
    const sse = new SseReader(stream.body!.getReader());
    expect((await sse.next()).event).toBe('state');
    const rootStream = new SseReader((await fetch(`${url}/v1/locks/x/watch`, { headers: rootAuth })).body!.getReader());
    expect((await rootStream.next()).event).toBe('state');

    expect((await h.call('DELETE', `/v1/auth/tokens/${w.id}`, undefined, rootAuth)).status).toBe(200);
    const answered = await waiting;
    expect(answered.status).toBe(401);
    expect(answered.body.error.code).toBe('unauthorized');
    expect(answered.headers['x-lockstep-node']).toBeUndefined();
    // Events of the revoking command itself (its wait leaving the queue) may come first.
    let ended = await sse.next();
    while (ended.event !== 'error') {
      expect(ended.event).toBe('dequeued');
      ended = await sse.next();
    }
    expect(ended.data.error.code).toBe('unauthorized');
    await expect(sse.next()).rejects.toThrow(/ended/);
    // The root's stream goes on.
    await h.call('POST', '/v1/locks/y/acquire', { ttlMs: 5_000 }, rootAuth);
    await h.call('POST', '/v1/locks/x/acquire', { ttlMs: 5_000 }, rootAuth);
    expect(h.server.services.watches.openCount).toBe(1);
    await rootStream.cancel();
  });

  it('one writer or reader token holds at most watchesPerTokenMax of the node\'s watch streams; other tokens and admins still get theirs, and a closed stream gives its slot back', async () => {
    h = await makeHarness({ authToken: ROOT, limits: { watchesMax: 5, watchesPerTokenMax: 2 } });
    const r = await createToken(h, { name: 'r', role: 'reader' });
    const w = await createToken(h, { name: 'w', role: 'writer' });
    await h.server.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
    const watch = (secret: string, path = '/v1/locks/x/watch') => fetch(`${url}${path}`, { headers: bearer(secret) });
    const streams: Response[] = [];
    for (const path of ['/v1/locks/x/watch', '/v1/elections/e/observe']) {
      const res = await watch(r.secret, path);
      expect(res.status).toBe(200);
      streams.push(res);
    }
    const third = await watch(r.secret);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toMatchObject({ error: { code: 'too_many_requests', message: "this token already holds 2 of this node's watch streams" } });
    // Another token, and the root (admin), are not held back by it.
    const other = await watch(w.secret);
    expect(other.status).toBe(200);
    const root = await watch(ROOT);
    expect(root.status).toBe(200);
    expect(h.server.services.watches.openCount).toBe(4);
    // A stream that ends gives its slot back to its token.
    await streams[0].body!.cancel();
    await expect.poll(() => h!.server.services.watches.openCount).toBe(3);
    const again = await watch(r.secret);
    expect(again.status).toBe(200);
    for (const res of [streams[1], other, root, again]) await res.body!.cancel();
  });

  it('one writer or reader token holds at most waitsPerTokenMax of the node\'s waits; other tokens and admins still wait, and an answered wait gives its slot back', async () => {
    h = await makeHarness({ authToken: ROOT, limits: { waitsMax: 6, waitsPerTokenMax: 2 } });
    const w = await createToken(h, { name: 'w', role: 'writer' });
    const other = await createToken(h, { name: 'o', role: 'writer' });
    const admin = await createToken(h, { name: 'a', role: 'admin' });
    const held = await h.call('POST', '/v1/locks/x/acquire', { ttlMs: 60_000 }, rootAuth);
    expect(held.status).toBe(200);
    const wait = (secret: string) => h!.call('POST', '/v1/locks/x/acquire', { ttlMs: 60_000, waitMs: 60_000 }, bearer(secret));
    const first = [wait(w.secret), wait(w.secret)];
    await flush();
    expect(h.server.services.locks.waits.openBy(w.id)).toBe(2);
    const third = await wait(w.secret);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body.error).toMatchObject({ code: 'too_many_requests', message: "this token already has 2 of this node's waits open" });
    // Another writer, an admin token and the root are not held back by it.
    const others = [wait(other.secret), wait(admin.secret), wait(ROOT)];
    await flush();
    expect(h.server.services.locks.waits.size).toBe(5);
    expect(h.server.services.locks.waits.openBy(admin.id)).toBe(0);
    // The holder releases: the first waiter is granted, and its token may wait again.
    expect((await h.call('POST', '/v1/locks/x/release', { fencingToken: held.body.fencingToken }, rootAuth)).status).toBe(200);
    const granted = await first[0];
    expect(granted.status).toBe(200);
    expect(h.server.services.locks.waits.openBy(w.id)).toBe(1);
    const again = wait(w.secret);
    await flush();
    expect(h.server.services.locks.waits.openBy(w.id)).toBe(2);
    // Revoking the tokens ends their waits (401), and gives every slot back.
    for (const t of [w, other, admin]) expect((await h.call('DELETE', `/v1/auth/tokens/${t.id}`, undefined, rootAuth)).status).toBe(200);
    for (const p of [first[1], again, others[0], others[1]]) expect((await p).status).toBe(401);
    expect(h.server.services.locks.waits.openBy(w.id)).toBe(0);
    expect(h.server.services.locks.waits.size).toBe(1);
    await h.call('POST', '/v1/locks/x/release', { fencingToken: granted.body.fencingToken }, rootAuth);
    expect((await others[2]).status).toBe(200);
    expect(h.server.services.locks.waits.size).toBe(0);
  });

  it('a revocation committed while a linearizable read or a cluster change waits for its ReadIndex barrier refuses it (401)', async () => {
    h = await makeHarness({ authToken: ROOT });
    const reader = await createToken(h, { name: 'r', role: 'reader' });
    const admin = await createToken(h, { name: 'a', role: 'admin' });
    const node = h.node;
    const barrier = node.readBarrier.bind(node);
    let revokeDuringBarrier: string | null = null;
    node.readBarrier = async (timeoutMs) => {
      // The revocation commits (and is applied) between the request's arrival and its read point.
      if (revokeDuringBarrier !== null) {
        const id = revokeDuringBarrier;
        revokeDuringBarrier = null;
        await h!.call('DELETE', `/v1/auth/tokens/${id}`, undefined, rootAuth);
      }
      return barrier(timeoutMs);
    };
    revokeDuringBarrier = reader.id;
    const read = await h.call('GET', '/v1/locks/x', undefined, bearer(reader.secret));
    expect(read.status).toBe(401);
    revokeDuringBarrier = admin.id;
    const members = node.members.length;
    const change = await h.call('POST', '/v1/cluster/members', { id: 'n9', apiUrl: 'http://127.0.0.1:1', peerUrl: '127.0.0.1:2' }, bearer(admin.secret));
    expect(change.status).toBe(401);
    expect(node.members).toHaveLength(members);
  });

  it('audit: one line per 401, per 403 and per admin change, with token id and name, route and source, never a secret', async () => {
    const { logger, lines } = capturingLogger();
    h = await makeHarness({ authToken: ROOT, logger });
    const created = await createToken(h, { name: 'team-a', role: 'writer', prefixes: ['a:'] });
    await h.call('GET', '/v1/cluster', undefined, bearer('lst_wrong'));
    await h.call('POST', '/v1/locks/b:1/acquire', { ttlMs: 5_000 }, bearer(created.secret));
    await h.call('POST', '/v1/locks/a:1/acquire', { ttlMs: 5_000 }, bearer(created.secret));
    await h.call('DELETE', `/v1/auth/tokens/${created.id}`, undefined, rootAuth);
    const audit = lines.filter((l) => l.audit === true);
    expect(audit.map((l) => [l.event, l.action ?? null, l.status, l.tokenId, l.tokenName, l.route])).toEqual([
      ['admin', 'tokens.create', 201, 'root', 'root', '/v1/auth/tokens'],
      ['unauthorized', null, 401, null, null, '/v1/cluster'],
      ['forbidden', null, 403, created.id, 'team-a', '/v1/locks/:name/acquire'],
      ['admin', 'tokens.revoke', 200, 'root', 'root', '/v1/auth/tokens/:id'],
    ]);
    expect(audit[0].token).toEqual({ id: created.id, name: 'team-a', role: 'writer', prefixes: ['a:'] });
    for (const l of audit) expect(l.source).toBeTypeOf('string');
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(created.secret);
    expect(everything).not.toContain(ROOT);
  });
});

describe('tokens through a follower', () => {
  it('a token the follower has not applied is asked of the leader; revoked there, it is refused on the follower too', async () => {
    const { leader, follower } = await leaderAndFollower({}, ROOT);
    const created = await follower.call('POST', '/v1/auth/tokens', { name: 'w', role: 'writer', prefixes: ['a:'] }, rootAuth);
    expect(created.status).toBe(201);
    expect(leader.node.proposals).toHaveLength(1);
    // The follower's own state never saw it (this twin does not replicate): it asks the leader.
    expect((await follower.call('GET', '/v1/auth/whoami', undefined, bearer(created.body.secret))).body.id).toBe(created.body.id);
    const acquired = await follower.call('POST', '/v1/locks/a:1/acquire', { ttlMs: 5_000 }, bearer(created.body.secret));
    expect(acquired.status).toBe(200);
    const forbidden = await follower.call('POST', '/v1/locks/b:1/acquire', { ttlMs: 5_000 }, bearer(created.body.secret));
    expect(forbidden.status).toBe(403);
    expect(leader.node.proposals).toHaveLength(2);
    await leader.call('DELETE', `/v1/auth/tokens/${created.body.id}`, undefined, rootAuth);
    const after = await follower.call('POST', '/v1/locks/a:2/acquire', { ttlMs: 5_000 }, bearer(created.body.secret));
    expect(after.status).toBe(401);
    expect(after.headers['x-lockstep-leader']).toBeUndefined();
    expect(leader.node.proposals).toHaveLength(3);
  });
});
