// The peer channel under mutual TLS, over real loopback sockets: members talk;
// an outsider without a certificate, one with another CA's certificate, a
// plaintext dialer, a client certificate, a member claiming another member's
// id and a member putting another's id in `from` are each refused before
// anything reaches Raft; a refusal never tells our cluster id. Ports 16400-16499.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/raft/types.js';
import { loadCa, makeCa, makeClientCert, makeNodeCert, type Pem } from '../../src/tls/certificates.js';
import { FrameDecoder, encodeFrame } from '../../src/transport/frame.js';
import type { PeerTls } from '../../src/transport/peer-tls.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { packWire, unpackWire, type WireFrame } from '../../src/transport/wire.js';
import { CLUSTER, addr, beat, helloFrom, rawDial, type Node } from './helpers.js';
import { createSecureContext } from 'node:tls';

const WAIT = { timeout: 10_000, interval: 10 };
const pems: Record<string, Pem> = {};
let caPem: Pem;
let otherCaPem: Pem;

beforeAll(async () => {
  caPem = await makeCa();
  const ca = await loadCa(caPem);
  for (const id of ['a', 'b', 'c']) pems[id] = await makeNodeCert(ca, id, ['127.0.0.1']);
  pems.alice = await makeClientCert(ca, 'alice');
  otherCaPem = await makeCa('another CA');
  pems.stranger = await makeNodeCert(await loadCa(otherCaPem), 'b', ['127.0.0.1']);
});

function peerTls(name: string): PeerTls {
  const material = { cert: Buffer.from(pems[name].cert), key: Buffer.from(pems[name].key), ca: Buffer.from(caPem.cert) };
  return { material, clientContext: createSecureContext(material), onReload: () => {} };
}

const started: Node[] = [];
const sockets: TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const n of started.splice(0)) await n.transport.close();
});

async function tlsNode(id: string, port: number, peers: Record<string, number>, certName = id): Promise<Node> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const transport = new TcpTransport({
    self: nodeId(id),
    clusterId: CLUSTER,
    listen: addr(port),
    apiUrl: `https://127.0.0.1:${port + 1000}`,
    peers: new Map(Object.entries(peers).map(([k, p]) => [nodeId(k), addr(p)])),
    logger,
    random: () => 0.5,
    tls: peerTls(certName),
  });
  const node: Node = { id: nodeId(id), transport, received: [], unreachable: [], down: [], snapshotStatus: [], hellos: [], logs };
  transport.onMessage((m) => void node.received.push(m));
  transport.onPeerHello((h) => node.hellos.push(h));
  transport.onPeerDown((peer) => node.down.push(peer));
  await transport.start();
  started.push(node);
  return node;
}

interface RawTls {
  frames: WireFrame[];
  /** Bytes received in all, decoded or not. */
  bytes: Buffer[];
  closed: Promise<void>;
  /** The TLS handshake's outcome: null when it completed, else its error. */
  handshake: Promise<Error | null>;
  send(frame: WireFrame): void;
}

/** A hand-driven TLS dialer presenting `certName`'s certificate (or none). */
function rawTlsDial(port: number, certName: string | null, ca = caPem.cert): RawTls {
  const own = certName === null ? {} : { cert: pems[certName].cert, key: pems[certName].key };
  const socket = tlsConnect({ host: '127.0.0.1', port, ca, ...own, checkServerIdentity: () => undefined });
  sockets.push(socket);
  const frames: WireFrame[] = [];
  const bytes: Buffer[] = [];
  const decoder = new FrameDecoder();
  socket.on('data', (c: Buffer) => {
    bytes.push(c);
    frames.push(...decoder.push(c).frames.map(unpackWire));
  });
  const handshake = new Promise<Error | null>((resolve) => {
    socket.once('secureConnect', () => resolve(null));
    socket.once('error', (err) => resolve(err));
    socket.once('close', () => resolve(new Error('closed before the handshake completed')));
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { frames, bytes, closed, handshake, send: (f) => void socket.write(encodeFrame(packWire(f))) };
}

describe('peer channel under mutual TLS', () => {
  it('members exchange messages both ways and learn each other\'s https API URL', async () => {
    const a = await tlsNode('a', 16401, { b: 16402 });
    const b = await tlsNode('b', 16402, { a: 16401 });
    a.transport.send([beat('a', 'b', 1)]);
    b.transport.send([beat('b', 'a', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    await expect.poll(() => a.received.length, WAIT).toBe(1);
    expect(a.hellos.map((h) => h.apiUrl)).toContain('https://127.0.0.1:17402');
  });

  it('a member whose process is gone (its TLS connection closed, a redial refused) is reported down', async () => {
    const a = await tlsNode('a', 16481, { b: 16482 });
    const b = await tlsNode('b', 16482, { a: 16481 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    await b.transport.close();
    await expect.poll(() => a.down, WAIT).toEqual(['b']);
  });

  it('an outsider without a certificate, or with another CA\'s, is refused in the TLS handshake', async () => {
    const b = await tlsNode('b', 16411, {});
    const bare = rawTlsDial(16411, null);
    // TLS 1.3: the client may finish its side before the server's refusal arrives; the connection dies either way.
    await bare.closed;
    const stranger = rawTlsDial(16411, 'stranger', otherCaPem.cert);
    expect(await stranger.handshake).not.toBeNull(); // our server's certificate is not of its CA, nor is its ours
    await stranger.closed;
    const strangerTrustingUs = rawTlsDial(16411, 'stranger');
    strangerTrustingUs.send(helloFrom('a'));
    await strangerTrustingUs.closed;
    for (const dialer of [bare, stranger, strangerTrustingUs]) expect(dialer.frames).toEqual([]);
    expect(b.received).toEqual([]);
    await expect.poll(() => b.logs.filter((l) => l.msg === 'refusing peer connection at TLS').length, WAIT).toBeGreaterThanOrEqual(2);
  });

  it('a plaintext dialer gets nothing back, in particular not the cluster id', async () => {
    const b = await tlsNode('b', 16421, {});
    const plain = await rawDial(16421);
    plain.send(helloFrom('a'));
    await plain.closed;
    expect(plain.frames).toEqual([]);
    expect(b.received).toEqual([]);
  });

  it('a client certificate (signed by the CA, naming no node) cannot speak Raft', async () => {
    const b = await tlsNode('b', 16431, { a: 16432 });
    const client = rawTlsDial(16431, 'alice');
    client.send(helloFrom('a'));
    client.send({ k: 'msg', m: beat('a', 'b', 1) });
    await client.closed;
    expect(client.frames).toEqual([]);
    expect(b.received).toEqual([]);
    expect(b.hellos).toEqual([]);
    await expect.poll(() => b.logs.some((l) => l.msg === 'refusing peer connection: its certificate names no node'), WAIT).toBe(true);
  });

  it("a member's certificate cannot claim another member's id, in the hello or in a message's from", async () => {
    const b = await tlsNode('b', 16441, { a: 16442, c: 16443 });
    const forged = rawTlsDial(16441, 'a');
    expect(await forged.handshake).toBeNull();
    forged.send(helloFrom('c'));
    await forged.closed;
    expect(forged.frames).toEqual([{ k: 'refuse', reason: 'node id c is not the one its certificate names (a)' }]);

    const honestThenForged = rawTlsDial(16441, 'a');
    honestThenForged.send(helloFrom('a'));
    honestThenForged.send({ k: 'msg', m: beat('a', 'b', 1) });
    honestThenForged.send({ k: 'msg', m: beat('c', 'b', 2) });
    await honestThenForged.closed;
    expect(b.received.map((m) => m.from)).toEqual(['a']);
    expect(b.hellos.map((h) => h.nodeId)).toEqual(['a']);
  });

  it('a member of this CA with another cluster id is refused without being told our cluster id', async () => {
    await tlsNode('b', 16451, {});
    const other = rawTlsDial(16451, 'a');
    other.send(helloFrom('a', 'their-cluster'));
    await other.closed;
    expect(other.frames).toEqual([{ k: 'refuse', reason: 'not a member of this cluster' }]);
    expect(Buffer.concat(other.bytes).includes(CLUSTER)).toBe(false);
  });

  it('the dialer talks only to the peer it meant: another member answering at its address gets nothing', async () => {
    // c listens where a thinks b is, with c's own (valid) certificate.
    const impostor = await tlsNode('c', 16462, {});
    const a = await tlsNode('a', 16461, { b: 16462 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => a.logs.some((l) => l.msg === 'peer connection failed' && String(l.reason).includes('names node c, expected b')), WAIT).toBe(true);
    expect(impostor.received).toEqual([]);
    expect(impostor.hellos).toEqual([]);
  });
});
