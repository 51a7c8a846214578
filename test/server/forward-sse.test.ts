import { afterEach, describe, expect, it } from 'vitest';
import { decodeProposal } from '../../src/locks/codec.js';
import { flush, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';
import { freePort, SseReader, until } from './net.js';
import { nodeId } from '../../src/raft/types.js';
import { PROTOCOL_VERSION } from '../../src/transport/limits.js';
import { rawDial } from '../transport/helpers.js';
import { leaderAndFollower, open, peerChannel } from './pair.js';

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe('forwarding (docs/safety.md #16)', () => {
  it('a forwarded request that lands on a non-leader is answered, never forwarded again', async () => {
    const { leader, follower } = await leaderAndFollower();
    const res = await follower.call('POST', '/v1/sessions', {}, { 'x-lockstep-forwarded-by': 'n3' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_leader');
    expect(leader.node.proposals).toHaveLength(0);
  });

  it('no known leader: waits a bounded time, then 503 no_leader with Retry-After', async () => {
    const node = new MemoryNode('n2');
    node.role = 'follower';
    node.leader = null;
    const h = await makeHarness({ node, limits: { leaderWaitMs: 50 } });
    open.push(h);
    const res = await h.callAdvancing('POST', '/v1/sessions', {});
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_leader');
    expect(res.headers['retry-after']).toBe('1');
    expect(node.proposals).toHaveLength(0);
  });

  it('a leader elected during the wait serves the request', async () => {
    const node = new MemoryNode('n2');
    node.role = 'follower';
    node.leader = null;
    const h = await makeHarness({ node, limits: { leaderWaitMs: 5_000 } });
    open.push(h);
    const pending = h.call('POST', '/v1/sessions', {});
    await flush();
    node.setRole('leader', 'n2');
    const res = await pending;
    expect(res.status).toBe(201);
  });

  it('a leader that refuses connections is retried until the bound, then no_leader', async () => {
    const node = new MemoryNode('n2');
    node.role = 'follower';
    node.leader = 'n1' as never;
    node.leaderUrl = `http://127.0.0.1:${await freePort()}`;
    const h = await makeHarness({ node, limits: { leaderWaitMs: 100 } });
    open.push(h);
    const res = await h.callAdvancing('POST', '/v1/sessions', {});
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_leader');
  });

});

// The same behaviour whichever way the request travels: HTTP, or the peer channel (issue 12).
describe.each(['http', 'peer'] as const)('forwarding over %s', (channel) => {
  it('a follower forwards writes and linearizable reads and passes the answer through', async () => {
    const { leader, follower } = await leaderAndFollower({}, undefined, channel);
    const created = await follower.call('POST', '/v1/sessions', { ttlMs: 5_000 }, { 'idempotency-key': 'fw-1' });
    expect(created.status).toBe(201);
    expect(created.headers['x-lockstep-node']).toBe('n2');
    expect(created.headers['x-lockstep-leader']).toBe('n1');
    expect(created.headers['x-lockstep-index']).toBe('1');
    expect(leader.node.proposals).toHaveLength(1);
    expect(follower.node.proposals).toHaveLength(0);
    // The key travelled with the request: a repeat through the leader replays.
    const again = await leader.call('POST', '/v1/sessions', { ttlMs: 5_000 }, { 'idempotency-key': 'fw-1' });
    expect(again.body.sessionId).toBe(created.body.sessionId);

    const read = await follower.call('GET', `/v1/sessions/${created.body.sessionId}`);
    expect(read.status).toBe(200);
    expect(read.body.sessionId).toBe(created.body.sessionId);
    // A stale read answers from the follower's own (here: empty) state.
    const stale = await follower.call('GET', `/v1/sessions/${created.body.sessionId}?consistency=stale`);
    expect(stale.status).toBe(404);
    expect(stale.headers['x-lockstep-applied-index']).toBe('0');
    // Errors pass through too.
    const missing = await follower.call('POST', '/v1/sessions/nope/keepalive');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('session_not_found');
    expect((await follower.call('GET', '/metrics')).body).toMatch(new RegExp(`lockstep_http_forwarded_requests_total\\{outcome="ok",channel="${channel}"\\} [1-9]`));
  });

  it('a client that abandons a forwarded long-poll makes the leader cancel the wait', async () => {
    const { leader, followerUrl } = await leaderAndFollower({}, undefined, channel);
    await leader.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    const controller = new AbortController();
    const request = fetch(`${followerUrl}/v1/locks/q/acquire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ttlMs: 5_000, waitMs: 60_000 }),
      signal: controller.signal,
    }).catch(() => null);
    await until(async () => (await leader.call('GET', '/v1/locks/q')).body.waiters.length === 1, 5_000, 'the wait to queue');
    controller.abort();
    await request;
    await until(() => leader.node.proposals.some((p) => decodeProposal(p).command.type === 'wait.cancel'), 5_000, 'wait.cancel');
    const cancel = leader.node.proposals.map((p) => decodeProposal(p).command).find((c) => c.type === 'wait.cancel');
    expect(cancel).toMatchObject({ reason: 'abandoned' });
    expect((await leader.call('GET', '/v1/locks/q')).body.waiters).toHaveLength(0);
  });
});

describe('SSE', () => {
  async function watch(url: string): Promise<{ reader: SseReader; response: Response }> {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
    return { reader: new SseReader(response.body!.getReader()), response };
  }

  it('lock watch: state first, then acquired / queued / released / acquired in apply order', async () => {
    const { leader, leaderUrl } = await leaderAndFollower();
    const first = await leader.call('POST', '/v1/locks/w/acquire', { ttlMs: 60_000 });
    const { reader, response } = await watch(`${leaderUrl}/v1/locks/w/watch`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(response.headers.get('x-lockstep-node')).toBe('n1');
    expect(response.headers.get('x-lockstep-index')).toBe('1');
    const state = await reader.next();
    expect(state.event).toBe('state');
    expect(state.data.holders.map((h: { fencingToken: number }) => h.fencingToken)).toEqual([first.body.fencingToken]);

    const waiting = leader.call('POST', '/v1/locks/w/acquire', { ttlMs: 60_000, waitMs: 60_000 });
    await flush();
    await leader.call('POST', '/v1/locks/other/acquire', { ttlMs: 60_000 });
    await leader.call('POST', '/v1/locks/w/release', { fencingToken: first.body.fencingToken });
    const granted = await waiting;
    const seen: string[] = [];
    for (;;) {
      const message = await reader.next();
      expect(message.data.name).toBe('w');
      expect(message.data.index).toEqual(expect.any(Number));
      seen.push(message.event);
      if (message.event === 'acquired') {
        expect(message.data.fencingToken).toBe(granted.body.fencingToken);
        break;
      }
    }
    expect(seen[0]).toBe('queued');
    expect(seen).toContain('released');
    expect(seen.indexOf('released')).toBeLessThan(seen.indexOf('acquired'));
    await reader.cancel();
    await until(() => leader.server.services.watches.openCount === 0, 5_000, 'the watch to close');
  });

  it('election observe: current leader first, then one event per change, null on vacancy', async () => {
    const { leader, leaderUrl } = await leaderAndFollower();
    const a = (await leader.call('POST', '/v1/sessions', {})).body.sessionId;
    const { reader } = await watch(`${leaderUrl}/v1/elections/e/observe`);
    expect(await reader.next()).toEqual({ event: 'leader', data: { leader: null, index: 1 } });
    const won = await leader.call('POST', '/v1/elections/e/campaign', { sessionId: a, value: 'A' });
    const elected = await reader.next();
    expect(elected.event).toBe('leader');
    expect(elected.data.leader).toEqual({ sessionId: a, value: 'A', term: won.body.term });
    await leader.call('POST', '/v1/elections/e/resign', { term: won.body.term });
    expect((await reader.next()).data.leader).toBeNull();
    await reader.cancel();
  });

  it('watches over the per-node limit are 429 too_many_requests', async () => {
    const { leaderUrl } = await leaderAndFollower({ watchesMax: 1 });
    const { reader } = await watch(`${leaderUrl}/v1/locks/x/watch`);
    await reader.next();
    const refused = await fetch(`${leaderUrl}/v1/locks/x/watch`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.code).toBe('too_many_requests');
    await reader.cancel();
  });
});

describe('event streams relayed over the peer channel (a member never relays one: its own node serves them)', () => {
  it('a member that relays watches and goes away gives their stream slots back', async () => {
    const peers = await peerChannel();
    const leader = await makeHarness({ limits: { watchesMax: 3 }, peers: peers.leader });
    open.push(leader);
    const closeLeader = leader.close.bind(leader);
    leader.close = async () => {
      await closeLeader();
      await peers.close();
    };
    // A connection claiming member n2 (the real one gone) relays three watch requests.
    await peers.follower.close();
    const member = await rawDial(peers.leader.port);
    member.send({ k: 'hello', hello: { clusterId: 'pair', nodeId: nodeId('n2'), protocolVersion: PROTOCOL_VERSION, apiUrl: 'http://127.0.0.1:1' } });
    await until(() => member.frames.length > 0);
    member.send({ k: 'req', id: 1, req: { method: 'GET', url: '/v1/locks/a/watch', headers: {}, body: null } });
    member.send({ k: 'req', id: 2, req: { method: 'GET', url: '/v1/elections/e/observe', headers: {}, body: null } });
    member.send({ k: 'req', id: 3, req: { method: 'GET', url: '/v1/locks/b/watch', headers: {}, body: null } });
    await until(() => leader.server.services.watches.openCount === 3);
    // One is cancelled, then the connection goes: nobody can read those streams any more.
    member.send({ k: 'cancel', id: 1 });
    await until(() => leader.server.services.watches.openCount === 2);
    member.socket.destroy();
    await until(() => leader.server.services.watches.openCount === 0);
  });
});
