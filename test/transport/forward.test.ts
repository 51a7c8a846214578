// Forwarded client requests over the peer channel (PeerForwarding, issue 12):
// request/answer pairs multiplexed on the dialer's connection, cancels, what a
// failed connection means for requests in flight, and what an acceptor does
// with forwarding frames a correct member never sends. Ports 16500-16599.
import { afterEach, describe, expect, it } from 'vitest';
import { Canceller } from '../../src/cancel.js';
import { nodeId } from '../../src/raft/types.js';
import { ForwardNotSentError, type ForwardRequest, type ForwardResponse, type HttpForwardRequest, type HttpForwardResponse } from '../../src/transport/api.js';
import { FORWARDS_IN_FLIGHT_MAX } from '../../src/transport/limits.js';
import type { WireFrame } from '../../src/transport/wire.js';
import { addr, helloFrom, rawDial, startNode, type Node } from './helpers.js';

const WAIT = { timeout: 10_000, interval: 10 };
const started: Node[] = [];
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const n of started.splice(0)) await n.transport.close();
  for (const c of cleanups.splice(0)) c();
});

async function node(...args: Parameters<typeof startNode>): Promise<Node> {
  const n = await startNode(...args);
  started.push(n);
  return n;
}

const request = (n: number): HttpForwardRequest => ({ method: 'POST', url: `/v1/locks/l${n}/acquire?x=${n}`, headers: { 'content-type': 'application/json' }, body: `{"n":${n}}` });
const answer = (text: string, status = 200): HttpForwardResponse => ({ status, headers: { 'x-echo': text }, body: new TextEncoder().encode(text) });
const text = (res: ForwardResponse): string => new TextDecoder().decode((res as HttpForwardResponse).body);

/** n1 takes forwards from n2; resolves once n2's link to n1 is up. */
async function pair(base: number): Promise<{ leader: Node; follower: Node }> {
  const leader = await node('n1', base + 1, { n2: base + 2 }, { forwarding: true });
  const follower = await node('n2', base + 2, { n1: base + 1 });
  // The link dials at start; its hello exchange makes forwarding available.
  await expect.poll(() => follower.hellos.some((h) => h.nodeId === 'n1'), WAIT).toBe(true);
  return { leader, follower };
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('forwarding over the peer channel', () => {
  it('many concurrent requests, answered out of order, each get their own answer; the handler learns who sent them and from where', async () => {
    const { leader, follower } = await pair(16500);
    const held: Array<{ from: string; req: HttpForwardRequest; reply: (r: ForwardResponse) => void }> = [];
    const addresses = new Set<string | undefined>();
    leader.transport.onForward((from, req, _cancel, address) => {
      const d = deferred<ForwardResponse>();
      addresses.add(address);
      held.push({ from, req: req as HttpForwardRequest, reply: d.resolve });
      return d.promise;
    });
    const COUNT = 200;
    const pending = Array.from({ length: COUNT }, (_, i) => follower.transport.forward(nodeId('n1'), request(i), new Canceller()));
    expect(pending.every((p) => p !== null)).toBe(true);
    await expect.poll(() => held.length, WAIT).toBe(COUNT);
    // The handler also learns where the connection comes from (the audit line's source).
    expect([...addresses]).toEqual(['127.0.0.1']);
    for (const h of [...held].reverse()) h.reply(answer(`${h.from} ${h.req.method} ${h.req.url} ${h.req.body}`));
    const answers = await Promise.all(pending.map((p) => p!));
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(text(res)).toBe(`n2 POST /v1/locks/l${i}/acquire?x=${i} {"n":${i}}`);
      expect(res.headers['x-echo']).toBe(text(res));
    });
  });

  it('is not offered by a node without the forwarding option: forward() says null and the caller uses HTTP', async () => {
    const leader = await node('n1', 16511, { n2: 16512 });
    const follower = await node('n2', 16512, { n1: 16511 });
    await expect.poll(() => follower.hellos.some((h) => h.nodeId === 'n1'), WAIT).toBe(true);
    expect(follower.transport.forward(nodeId('n1'), request(1), new Canceller())).toBeNull();
    expect(leader.transport.forward(nodeId('n2'), request(1), new Canceller())).toBeNull();
    // Nor to a node there is no link to, nor one we cannot reach yet.
    expect(follower.transport.forward(nodeId('n9'), request(1), new Canceller())).toBeNull();
  });

  it('a request this channel would refuse is not sent: null, and the connection stays up', async () => {
    const { follower } = await pair(16520);
    const bad = { ...request(1), url: '//elsewhere/v1/locks' };
    expect(follower.transport.forward(nodeId('n1'), bad, new Canceller())).toBeNull();
    expect(follower.transport.forward(nodeId('n1'), { ...request(1), headers: { 'x-a': 'line\r\nbreak' } }, new Canceller())).toBeNull();
    expect(follower.unreachable).toEqual([]);
  });

  it('a cancelled request cancels the handler\'s work and rejects with the reason; its late answer is dropped', async () => {
    const { leader, follower } = await pair(16530);
    const aborted = deferred<void>();
    const late = deferred<ForwardResponse>();
    leader.transport.onForward((_from, _req, cancel) => {
      cancel.onAbort(() => aborted.resolve());
      return late.promise;
    });
    const controller = new Canceller();
    const pending = follower.transport.forward(nodeId('n1'), request(1), controller)!;
    // Let the request reach the handler, then give up on it.
    await new Promise((r) => setTimeout(r, 100));
    controller.cancel(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    await aborted.promise;
    late.resolve(answer('too late'));
    // The link is still good for the next request.
    leader.transport.onForward(async () => answer('next'));
    expect(text(await follower.transport.forward(nodeId('n1'), request(2), new Canceller())!)).toBe('next');
  });

  it('the connection fails with a request written: it rejects as possibly received, not as unsent', async () => {
    const { leader, follower } = await pair(16540);
    const reached = deferred<void>();
    leader.transport.onForward(() => {
      reached.resolve();
      return new Promise(() => {});
    });
    const pending = follower.transport.forward(nodeId('n1'), request(1), new Canceller())!;
    pending.catch(() => {});
    await reached.promise;
    await leader.transport.close();
    const error = await pending.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ForwardNotSentError);
  });

  it('the connection fails before the request was written: ForwardNotSentError, and it is not sent on the next connection', async () => {
    const { leader, follower } = await pair(16550);
    const seen: ForwardRequest[] = [];
    leader.transport.onForward(async (_from, req) => {
      seen.push(req);
      return answer('ok');
    });
    const pending = follower.transport.forward(nodeId('n1'), request(1), new Canceller())!;
    // Synchronously, before the pump writes it: the link drops its connection (an address change).
    follower.transport.setPeers(new Map([[nodeId('n1'), addr(16559)]]));
    await expect(pending).rejects.toBeInstanceOf(ForwardNotSentError);
    follower.transport.setPeers(new Map([[nodeId('n1'), addr(16559)]]));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
  });
});

describe('an acceptor and forwarding frames a correct member never sends', () => {
  async function member(leaderPort: number, id = 'n2'): Promise<Awaited<ReturnType<typeof rawDial>>> {
    const peer = await rawDial(leaderPort);
    cleanups.push(() => peer.socket.destroy());
    peer.send(helloFrom(id));
    await expect.poll(() => peer.frames.length, WAIT).toBe(1);
    return peer;
  }
  const req = (id: number, r: ForwardRequest = request(id)): WireFrame => ({ k: 'req', id, req: r });

  it('a member is offered forwarding and gets answers on its own connection, for the id it chose', async () => {
    const leader = await node('n1', 16561, { n2: 16562 }, { forwarding: true });
    leader.transport.onForward(async (from, r) => answer(`${from} ${(r as HttpForwardRequest).url}`));
    const peer = await member(16561);
    expect(peer.frames[0]).toMatchObject({ k: 'hello', fwd: true });
    peer.send(req(7));
    await expect.poll(() => peer.frames.length, WAIT).toBe(2);
    const res = peer.frames[1] as Extract<WireFrame, { k: 'res' }>;
    expect(res.k).toBe('res');
    expect(res.id).toBe(7);
    expect(text(res.res)).toBe('n2 /v1/locks/l7/acquire?x=7');
  });

  it('a node not in the address book is not offered forwarding, and a request from it closes its connection', async () => {
    const leader = await node('n1', 16571, { n2: 16572 }, { forwarding: true });
    let calls = 0;
    leader.transport.onForward(async () => {
      calls++;
      return answer('no');
    });
    const stranger = await member(16571, 'n9');
    expect(stranger.frames[0]).toMatchObject({ k: 'hello' });
    expect((stranger.frames[0] as { fwd?: boolean }).fwd).toBeUndefined();
    stranger.send(req(1));
    await stranger.closed;
    expect(calls).toBe(0);
  });

  it('a member removed since its hello: its next request closes the connection', async () => {
    const leader = await node('n1', 16575, { n2: 16576 }, { forwarding: true });
    let calls = 0;
    leader.transport.onForward(async () => {
      calls++;
      return answer('ok');
    });
    const peer = await member(16575);
    leader.transport.setPeers(new Map([[nodeId('n3'), addr(16577)]]));
    peer.send(req(1));
    await peer.closed;
    expect(calls).toBe(0);
  });

  const malformed: Array<[string, (peer: Awaited<ReturnType<typeof rawDial>>) => void]> = [
    ['an unknown method', (p) => p.send(req(1, { ...request(1), method: 'TRACE' }))],
    ['a target with an authority', (p) => p.send(req(1, { ...request(1), url: 'http://evil/v1/locks' }))],
    ['a header value with CR LF', (p) => p.send(req(1, { ...request(1), headers: { authorization: 'Bearer x\r\nx-injected: 1' } }))],
    ['a body that is not text', (p) => p.send({ k: 'req', id: 1, req: { ...request(1), body: 42 } } as unknown as WireFrame)],
    ['a negative id', (p) => p.send({ k: 'req', id: -1, req: request(1) } as unknown as WireFrame)],
    ['an answer frame (acceptors answer, dialers do not)', (p) => p.send({ k: 'res', id: 1, res: answer('x') })],
    ['the same id twice while in flight', (p) => {
      p.send(req(3));
      p.send(req(3));
    }],
  ];
  for (const [what, sendIt] of malformed) {
    it(`closes a member's connection on ${what}; the node keeps serving others`, async () => {
      const leader = await node('n1', 16581, { n2: 16582, n3: 16583 }, { forwarding: true });
      leader.transport.onForward(() => new Promise(() => {}));
      const peer = await member(16581);
      sendIt(peer);
      await peer.closed;
      const other = await member(16581, 'n3');
      expect(other.frames[0]).toMatchObject({ k: 'hello', fwd: true });
    });
  }

  it(`more than ${FORWARDS_IN_FLIGHT_MAX} requests in flight close the connection and abort the handlers' work`, async () => {
    const leader = await node('n1', 16591, { n2: 16592 }, { forwarding: true });
    let aborted = 0;
    let calls = 0;
    leader.transport.onForward((_from, _r, cancel) => {
      calls++;
      cancel.onAbort(() => aborted++);
      return new Promise(() => {});
    });
    const peer = await member(16591);
    for (let i = 1; i <= FORWARDS_IN_FLIGHT_MAX + 1; i++) peer.send(req(i));
    await peer.closed;
    await expect.poll(() => aborted, WAIT).toBe(calls);
    expect(calls).toBeLessThanOrEqual(FORWARDS_IN_FLIGHT_MAX);
  });
});
