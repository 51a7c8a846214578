// A leader that has just taken over has not applied what its predecessor
// committed until its own first commit: a token created a moment ago is not
// in its applied state yet. A 401 is final to a client (the SDK ends its
// session, an election stops), so the leader must not answer one from that
// state: it looks again after a read barrier (src/server/access.ts), and a
// member's keepalive call waits for the takeover (src/server/leader-calls.ts).
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Canceller } from '../../src/cancel.js';
import { answerCall, keepaliveCall } from '../../src/server/leader-calls.js';
import { type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';

const ROOT = 'root-secret-0123456789';
const rootAuth = { authorization: `Bearer ${ROOT}` };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function harness(node?: MemoryNode): Promise<Harness> {
  const h = await makeHarness({ authToken: ROOT, node });
  harnesses.push(h);
  return h;
}

/** On a first cluster: a token, and a session opened with it; the entries that made them, in order. */
async function tokenAndSession(): Promise<{ id: string; secret: string; sessionId: string; entries: Uint8Array[] }> {
  const h = await harness();
  const created = await h.call('POST', '/v1/auth/tokens', { name: 'worker', role: 'writer' }, rootAuth);
  expect(created.status).toBe(201);
  const session = await h.call('POST', '/v1/sessions', { ttlMs: 10_000 }, bearer(created.body.secret));
  expect(session.status).toBe(201);
  return { id: created.body.id, secret: created.body.secret, sessionId: session.body.sessionId, entries: [...h.node.proposals] };
}

describe('a leader that has not applied a token\'s creation yet', () => {
  it('looks again after a read barrier instead of answering 401; a token it never had stays 401', async () => {
    const { id, secret, entries } = await tokenAndSession();
    const taking = await harness();
    taking.node.unapplied.push(...entries);
    const who = await taking.call('GET', '/v1/auth/whoami', undefined, bearer(secret));
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ id, role: 'writer' });
    expect((await taking.call('GET', '/v1/auth/whoami', undefined, bearer('lst_never-created'))).status).toBe(401);
  });

  it('answers 503 no_leader when it cannot confirm its leadership to look again', async () => {
    const { secret } = await tokenAndSession();
    const cut = await harness();
    cut.node.barrierGate = Promise.reject(new Error('no quorum in time'));
    cut.node.barrierGate.catch(() => undefined);
    const res = await cut.call('GET', '/v1/auth/whoami', undefined, bearer(secret));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_leader');
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('a member\'s keepalive call waits for the takeover before judging the token', async () => {
    const { id, sessionId, entries } = await tokenAndSession();
    const node = new MemoryNode();
    node.unapplied.push(...entries);
    let takeOver = (): void => undefined;
    node.barrierGate = new Promise<void>((resolve) => (takeOver = resolve));
    const taking = await harness(node);
    const ctx = (taking.server.services.locks as unknown as { ctx: Parameters<typeof answerCall>[0] }).ctx;
    const answer = answerCall(ctx, taking.server.services, keepaliveCall(sessionId, id), new Canceller(), pino({ level: 'silent' }));
    await new Promise((resolve) => setImmediate(resolve));
    takeOver();
    expect(await answer).toMatchObject({ status: 200, value: { sessionId, ttlMs: 10_000 } });
  });
});
