// A follower hands its leader the leader's part of a write as a call on the
// peer channel (src/server/leader-calls.ts, issue 12): what the leader does
// with calls from a correct member, from a buggy one, and when it no longer
// leads; and, over a real peer channel, that the answer a client gets through
// a follower is the leader's (its deadlines, its index).

import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Canceller } from '../../src/cancel.js';
import { decodeProposal } from '../../src/locks/codec.js';
import { nodeId } from '../../src/raft/types.js';
import { answerCall, keepaliveCall, lockExecuteCall } from '../../src/server/leader-calls.js';
import type { CallAnswer, ForwardCall } from '../../src/transport/api.js';
import { encodeFrame } from '../../src/transport/frame.js';
import { PROTOCOL_VERSION } from '../../src/transport/limits.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { packWire } from '../../src/transport/wire.js';
import { type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';
import { leaderAndFollower, open, peerChannel } from './pair.js';

const silent = pino({ level: 'silent' });
let h: Harness | null = null;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await h?.close();
  h = null;
  for (const c of open.splice(0)) await c.close();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const acquire = (name: string) =>
  ({ type: 'lock.acquire', name, sessionId: null, ttlMs: 10_000, waitMs: 0, waitId: null, mode: 'exclusive', limit: 1, owner: null, value: null }) as const;

function call(harness: Harness, c: ForwardCall): Promise<CallAnswer> {
  return answerCall(ctxOf(harness), harness.server.services, c, new Canceller(), silent);
}

/** The server context, as the peer channel's handler gets it (a test reaches it through the lock service). */
function ctxOf(harness: Harness) {
  return (harness.server.services.locks as unknown as { ctx: Parameters<typeof answerCall>[0] }).ctx;
}

describe('the leader answers a member call', () => {
  it('runs the command through the lock service: the answer is the lock machine\'s, with its index', async () => {
    h = await makeHarness();
    const answer = await call(h, lockExecuteCall({ command: acquire('job'), idempotency: null, tokenId: null, timeLeft: false }));
    expect(answer.status).toBe(200);
    expect(answer.value).toMatchObject({ acquired: true, name: 'job' });
    expect(Number(answer.headers['x-lockstep-index'])).toBeGreaterThan(0);
    expect((await h.call('GET', '/v1/locks/job')).body.holders).toHaveLength(1);
  });

  it('an Idempotency-Key replays the first outcome and proposes nothing more', async () => {
    h = await makeHarness();
    const idempotency = { key: 'k1', method: 'POST', path: '/v1/locks/job/acquire' };
    const first = await call(h, lockExecuteCall({ command: acquire('job'), idempotency, tokenId: null, timeLeft: false }));
    const proposed = h.node.proposals.length;
    const again = await call(h, lockExecuteCall({ command: acquire('job'), idempotency, tokenId: null, timeLeft: false }));
    expect(again.value).toEqual(first.value);
    expect(h.node.proposals.length).toBe(proposed);
  });

  it.each<[string, unknown]>([
    ['args not a map', 'nope'],
    ['a command that fails validation', { command: { ...acquire('job'), ttlMs: -1 }, idempotency: null, tokenId: null, timeLeft: false }],
    ['an unknown command type', { command: { type: 'lock.nuke', name: 'job' }, idempotency: null, tokenId: null, timeLeft: false }],
    ['a token change (relayed as a request, for the leader\'s audit line)', { command: { type: 'token.revoke', id: 'x' }, idempotency: null, tokenId: null, timeLeft: false }],
    ['a bad Idempotency-Key', { command: acquire('job'), idempotency: { key: '', method: 'POST', path: '/p' }, tokenId: null, timeLeft: false }],
    ['a tokenId that is not a string', { command: acquire('job'), idempotency: null, tokenId: 7, timeLeft: false }],
    ['no timeLeft', { command: acquire('job'), idempotency: null, tokenId: null }],
  ])('refuses %s with 400 invalid_argument and proposes nothing', async (_what, args) => {
    h = await makeHarness();
    const before = h.node.proposals.length;
    const answer = await call(h, { call: 'lock.execute', args });
    expect(answer.status).toBe(400);
    expect(answer.value).toMatchObject({ error: { code: 'invalid_argument' } });
    expect(h.node.proposals.length).toBe(before);
  });

  it('refuses an unknown call and a malformed keepalive the same way', async () => {
    h = await makeHarness();
    expect((await call(h, { call: 'lock.steal', args: {} })).status).toBe(400);
    expect((await call(h, { call: 'session.keepalive', args: { sessionId: 5, tokenId: null } })).status).toBe(400);
  });

  it('a node that no longer leads answers 503 no_leader and does not pass the call on', async () => {
    h = await makeHarness();
    h.node.role = 'follower';
    const answer = await call(h, lockExecuteCall({ command: acquire('job'), idempotency: null, tokenId: null, timeLeft: false }));
    expect(answer.status).toBe(503);
    expect(answer.value).toMatchObject({ error: { code: 'no_leader' } });
    expect(answer.headers['retry-after']).toBeDefined();
    expect(h.node.proposals).toHaveLength(0);
  });

  it('a keepalive for a token unknown to the leader (revoked) is 401; the proposal of a write carries the token for the apply-time check', async () => {
    h = await makeHarness({ authToken: 'root-secret-0123456789' });
    const session = await h.call('POST', '/v1/sessions', { ttlMs: 10_000 }, { authorization: 'Bearer root-secret-0123456789' });
    expect(session.status).toBe(201);
    const refused = await call(h, keepaliveCall(session.body.sessionId, 'tok-gone'));
    expect(refused.status).toBe(401);
    expect(refused.value).toMatchObject({ error: { code: 'unauthorized' } });

    const write = await call(h, lockExecuteCall({ command: acquire('job'), idempotency: null, tokenId: 'tok-gone', timeLeft: false }));
    expect(write.status).toBe(401);
    const last = decodeProposal(h.node.proposals[h.node.proposals.length - 1]);
    expect(last.auth).toEqual({ tokenId: 'tok-gone' });
  });
});

describe('writes through a follower over a real peer channel', () => {
  it('go as calls; a refused acquire tells the time left by the LEADER\'s lease table', async () => {
    const { leader, follower } = await leaderAndFollower({}, undefined, 'peer');
    const held = await follower.call('POST', '/v1/locks/job/acquire', { ttlMs: 10_000 });
    expect(held.status).toBe(200);
    expect(held.body.acquired).toBe(true);
    await leader.advance(4_000);
    const refused = await follower.call('POST', '/v1/locks/job/acquire', { ttlMs: 10_000 });
    expect(refused.body).toMatchObject({ acquired: false, holders: [{ fencingToken: held.body.fencingToken, expiresInMs: 6_000 }] });
    expect(Number(refused.headers['x-lockstep-index'])).toBeGreaterThan(0);
    const session = await follower.call('POST', '/v1/sessions', { ttlMs: 10_000 });
    expect((await follower.call('POST', `/v1/sessions/${session.body.sessionId}/keepalive`)).body).toEqual({ sessionId: session.body.sessionId, ttlMs: 10_000 });
    const metrics = (await follower.call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/lockstep_http_forwarded_requests_total\{outcome="ok",channel="call"\} 4/);
    expect(metrics).not.toMatch(/channel="peer"/);
  });
});

describe('a leader whose hello offers forwarding but not calls (an older node)', () => {
  it('is sent no call: the member relays the request instead', async () => {
    // A hand-made acceptor that says only `fwd: true`, as nodes before calls did.
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
      socket.write(encodeFrame(packWire({ k: 'hello', hello: { clusterId: 'pair', nodeId: nodeId('n1'), protocolVersion: PROTOCOL_VERSION, apiUrl: 'http://127.0.0.1:1' }, fwd: true })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as { port: number }).port;
    const follower = new TcpTransport({ clusterId: 'pair', apiUrl: 'http://127.0.0.1:1', logger: silent, listen: '127.0.0.1:0', self: nodeId('n2'), peers: new Map() });
    cleanups.push(() => follower.close());
    const connected = new Promise<void>((resolve) => follower.onPeerHello(() => resolve()));
    await follower.start();
    follower.setPeers(new Map([[nodeId('n1'), `127.0.0.1:${port}`]]));
    await connected;
    const cancel = new Canceller();
    expect(follower.forward(nodeId('n1'), lockExecuteCall({ command: acquire('job'), idempotency: null, tokenId: null, timeLeft: false }), cancel)).toBeNull();
    const relayed = follower.forward(nodeId('n1'), { method: 'GET', url: '/v1/cluster', headers: {}, body: null }, cancel);
    expect(relayed).not.toBeNull();
    relayed!.catch(() => undefined);
  });
});

describe('a follower whose leader does not answer a call', () => {
  it('answers 503 unavailable once the forward\'s bound passes, and tells the leader to stop working on it', async () => {
    const peers = await peerChannel();
    cleanups.push(() => peers.close());
    let received = 0;
    let cancelled: unknown = null;
    // The leader's side, replaced: it takes the call and never answers.
    peers.leader.onForward((_from, _request, cancel) => {
      received++;
      cancel.onAbort((reason) => (cancelled = reason));
      return new Promise(() => {});
    });
    const node = new MemoryNode('n2');
    node.role = 'follower';
    node.leader = nodeId('n1');
    node.leaderUrl = 'http://127.0.0.1:1';
    const limits = { proposeTimeoutMs: 200, forwardSlackMs: 100 };
    const follower = await makeHarness({ node, limits, peers: peers.follower });
    cleanups.push(() => follower.close());
    const answered = follower.call('POST', '/v1/locks/job/acquire', { ttlMs: 10_000 });
    await expect.poll(() => received).toBe(1);
    follower.clock.advance(limits.proposeTimeoutMs + limits.forwardSlackMs);
    const res = await answered;
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    await expect.poll(() => String(cancelled)).toContain('the forwarding node gave up');
  });
});
