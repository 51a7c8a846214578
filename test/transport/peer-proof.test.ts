// Plain peer channels with auth on: both sides prove the cluster's root token
// (src/transport/peer-proof.ts) before anything they send is taken. The
// attack this stops: a local process that says hello as a member and hands the
// leader a forwarded write "as root", or appends entries, past every token.
// Ports 16901-16949.
import { afterEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/raft/types.js';
import { PeerKey, PEER_PROOF_BYTES } from '../../src/transport/peer-proof.js';
import type { WireFrame } from '../../src/transport/wire.js';
import { beat, CLUSTER, helloFrom, rawAcceptor, rawDial, startNode, type Node, type RawPeer } from './helpers.js';

const WAIT = { timeout: 10_000, interval: 10 };
const started: Node[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const n of started.splice(0)) await n.transport.close();
  for (const c of cleanups.splice(0)) await c();
});

const KEY = PeerKey.fromRootToken('the-root-token-of-this-cluster');

/** `peerKey` null: a node without a key (auth off). */
async function node(id: string, port: number, peers: Record<string, number>, peerKey: PeerKey | null = KEY): Promise<Node> {
  const n = await startNode(id, port, peers, { peerKey: peerKey ?? undefined });
  started.push(n);
  return n;
}

/** Dial `port` as member `id` with a nonce; resolves with the acceptor's hello frame. */
async function dialWithNonce(port: number, id: string): Promise<{ raw: RawPeer; nonce: Uint8Array; reply: Extract<WireFrame, { k: 'hello' }> }> {
  const raw = await rawDial(port);
  const nonce = KEY.nonce();
  const hello = helloFrom(id) as Extract<WireFrame, { k: 'hello' }>;
  raw.send({ ...hello, nonce });
  await expect.poll(() => raw.frames.length, WAIT).toBeGreaterThan(0);
  const reply = raw.frames[0];
  if (reply.k !== 'hello') throw new Error(`expected the acceptor's hello, got ${JSON.stringify(reply)}`);
  return { raw, nonce, reply };
}

function transcript(acceptor: string, dialer: string, dialerNonce: Uint8Array, acceptorNonce: Uint8Array) {
  return { clusterId: CLUSTER, acceptor: nodeId(acceptor), dialer: nodeId(dialer), dialerNonce, acceptorNonce };
}

describe('a plain peer channel with a peer key', () => {
  it('nodes with the same key connect and exchange messages both ways', async () => {
    const a = await node('a', 16901, { b: 16902 });
    const b = await node('b', 16902, { a: 16901 });
    a.transport.send([beat('a', 'b', 1)]);
    b.transport.send([beat('b', 'a', 2)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    await expect.poll(() => a.received.length, WAIT).toBe(1);
    expect(a.hellos.map((h) => h.nodeId)).toContain('b');
  });

  it('nodes started with other root tokens never take each other\'s messages', async () => {
    const a = await node('a', 16903, { b: 16904 }, PeerKey.fromRootToken('one-root-token'));
    const b = await node('b', 16904, { a: 16903 }, PeerKey.fromRootToken('another-root-token'));
    a.transport.send([beat('a', 'b', 1)]);
    b.transport.send([beat('b', 'a', 2)]);
    await expect.poll(() => a.logs.some((l) => /did not prove the cluster root token/.test(String(l.msg))), WAIT).toBe(true);
    await expect.poll(() => b.logs.some((l) => /did not prove the cluster root token/.test(String(l.msg))), WAIT).toBe(true);
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(a.hellos).toEqual([]);
    expect(b.hellos).toEqual([]);
  });

  it('refuses a hello without a nonce (a node without the key, or a stranger), saying why', async () => {
    const b = await node('b', 16905, { a: 16906 });
    const stranger = await rawDial(16905);
    stranger.send(helloFrom('a'));
    stranger.send({ k: 'msg', m: beat('a', 'b', 1) });
    await stranger.closed;
    expect(stranger.frames).toEqual([{ k: 'refuse', reason: expect.stringMatching(/prove the cluster root token/) }]);
    expect(b.received).toEqual([]);
    expect(b.hellos).toEqual([]);
  });

  it('a dialer that cannot prove the key is closed before anything it sent is taken', async () => {
    const b = await node('b', 16907, { a: 16908 });
    const wrongProofs: unknown[] = [
      new Uint8Array(PEER_PROOF_BYTES),
      // The acceptor's proof of this very handshake sent back: the role is part of what is proven.
      'acceptor-proof',
      // A proof made with another key.
      'other-key',
    ];
    for (const wrong of wrongProofs) {
      const { raw, nonce, reply } = await dialWithNonce(16907, 'a');
      const t = transcript('b', 'a', nonce, reply.nonce!);
      const proof = wrong === 'acceptor-proof' ? reply.proof! : wrong === 'other-key' ? PeerKey.fromRootToken('guess').prove('dialer', t) : (wrong as Uint8Array);
      raw.send({ k: 'proof', proof });
      raw.send({ k: 'msg', m: beat('a', 'b', 1) });
      await raw.closed;
    }
    // Messages pipelined behind the hello, in place of the proof, are not taken either.
    const { raw } = await dialWithNonce(16907, 'a');
    raw.send({ k: 'msg', m: beat('a', 'b', 1) });
    await raw.closed;
    expect(b.received).toEqual([]);
    expect(b.hellos).toEqual([]);
  });

  it('a proof is good for its own handshake only: replayed on a new connection it is refused', async () => {
    const b = await node('b', 16909, { a: 16910 });
    const first = await dialWithNonce(16909, 'a');
    const proof = KEY.prove('dialer', transcript('b', 'a', first.nonce, first.reply.nonce!));
    first.raw.send({ k: 'proof', proof });
    first.raw.send({ k: 'msg', m: beat('a', 'b', 1) });
    // Whoever knows the key is taken: this is what a member does.
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    first.raw.socket.destroy();
    // The same nonce and proof on a new connection meet a new acceptor nonce.
    const again = await rawDial(16909);
    again.send({ ...(helloFrom('a') as Extract<WireFrame, { k: 'hello' }>), nonce: first.nonce });
    await expect.poll(() => again.frames.length, WAIT).toBeGreaterThan(0);
    again.send({ k: 'proof', proof });
    again.send({ k: 'msg', m: beat('a', 'b', 2) });
    await again.closed;
    expect(b.received).toHaveLength(1);
  });

  it('a dialer sends nothing past its hello to an acceptor that cannot prove the key', async () => {
    const impostor = await rawAcceptor('b', 16911);
    cleanups.push(impostor.close);
    const a = await node('a', 16912, { b: 16911 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => a.logs.some((l) => /did not prove the cluster root token/.test(String(l.msg))), WAIT).toBe(true);
    expect(impostor.frames.length).toBeGreaterThan(0);
    expect(impostor.frames.every((f) => f.k === 'hello')).toBe(true);
    expect(a.hellos).toEqual([]);
  });

  it('without a key (auth off) the channel is as before: a hello without a nonce is taken', async () => {
    const b = await node('b', 16913, { a: 16914 }, null);
    const plain = await rawDial(16913);
    plain.send(helloFrom('a'));
    plain.send({ k: 'msg', m: beat('a', 'b', 1) });
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    plain.socket.destroy();
  });
});
