// TcpTransport over real loopback sockets (the sockets are the point).
// Ports 16100-16299, a distinct block per test.
import { afterEach, describe, expect, it } from 'vitest';
import { logIndex, nodeId, term, type Message } from '../../src/raft/types.js';
import { FRAME_HEADER_BYTES } from '../../src/transport/frame.js';
import { FRAME_BYTES_MAX, SNAPSHOT_CHUNK_BYTES } from '../../src/transport/limits.js';
import { addr, beat, helloFrom, rawAcceptor, rawDial, seqOf, startNode, type Node } from './helpers.js';

const WAIT = { timeout: 10_000, interval: 10 };
const started: Node[] = [];
const cleanups: Array<() => Promise<void>> = [];

async function node(...args: Parameters<typeof startNode>): Promise<Node> {
  const n = await startNode(...args);
  started.push(n);
  return n;
}

afterEach(async () => {
  for (const n of started.splice(0)) await n.transport.close();
  for (const c of cleanups.splice(0)) await c();
});

function snapshotMessage(from: string, to: string, bytes: number): Extract<Message, { type: 'InstallSnapshot' }> {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + 7) & 0xff;
  return {
    type: 'InstallSnapshot',
    from: nodeId(from),
    to: nodeId(to),
    term: term(2),
    snapshot: { meta: { index: logIndex(500), term: term(2), conf: { voters: [nodeId(from), nodeId(to)], learners: [] } }, data },
  };
}

describe('TcpTransport', () => {
  it('two nodes exchange many pipelined messages in order and learn each other\'s API URL', async () => {
    const a = await node('a', 16101, { b: 16102 });
    const b = await node('b', 16102, { a: 16101 });
    const COUNT = 2000;
    for (let i = 1; i <= COUNT; i++) {
      a.transport.send([beat('a', 'b', i)]);
      b.transport.send([beat('b', 'a', i)]);
    }
    await expect.poll(() => b.received.length, WAIT).toBe(COUNT);
    await expect.poll(() => a.received.length, WAIT).toBe(COUNT);
    expect(b.received.map(seqOf)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(a.received.map(seqOf)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(b.received[0]).toStrictEqual(beat('a', 'b', 1));
    // Each side hears the other's hello twice: as acceptor and as dialer.
    expect(a.hellos.map((h) => h.apiUrl)).toContain('http://127.0.0.1:17102');
    expect(b.hellos.map((h) => h.apiUrl)).toContain('http://127.0.0.1:17101');
  });

  it('connects to every peer at start, so even nodes with nothing to say learn each other\'s API URL', async () => {
    const ports = { a: 16221, b: 16222, c: 16223 };
    const nodes = await Promise.all(Object.entries(ports).map(([id, p]) => node(id, p, ports)));
    for (const n of nodes) {
      const others = nodes.filter((o) => o !== n).map((o) => `http://127.0.0.1:${ports[o.id as keyof typeof ports] + 1000}`);
      await expect.poll(() => new Set(n.hellos.map((h) => h.apiUrl)), WAIT).toEqual(new Set(others));
      expect(n.received).toEqual([]);
    }
  });

  it('three nodes: every pair delivers in order', async () => {
    const ports = { a: 16111, b: 16112, c: 16113 };
    const nodes = await Promise.all(Object.entries(ports).map(([id, p]) => node(id, p, ports)));
    for (let i = 1; i <= 300; i++) {
      for (const from of nodes) for (const to of nodes) if (from !== to) from.transport.send([beat(from.id, to.id, i)]);
    }
    for (const to of nodes) {
      await expect.poll(() => to.received.length, WAIT).toBe(600);
      for (const from of nodes) {
        if (from === to) continue;
        expect(to.received.filter((m) => m.from === from.id).map(seqOf)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      }
    }
  });

  it('reports the peer unreachable when it goes down, queues meanwhile, and reconnects when it is back', async () => {
    let b = await node('b', 16122, { a: 16121 });
    const a = await node('a', 16121, { b: 16122 });
    a.transport.send([beat('a', 'b', 0)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    const unreachableBefore = a.unreachable.length;
    await b.transport.close();
    await expect.poll(() => a.unreachable.length, WAIT).toBeGreaterThan(unreachableBefore);
    for (let i = 1; i <= 10; i++) a.transport.send([beat('a', 'b', i)]);
    expect(a.transport.queuedFor(nodeId('b'))).toBe(10);
    b = await node('b', 16122, { a: 16121 });
    a.transport.send([beat('a', 'b', 11)]);
    await expect.poll(() => b.received.length, WAIT).toBe(11);
    expect(b.received.map(seqOf)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('a bounded queue drops and reports unreachable while the peer is down', async () => {
    // Nothing listens on 16132.
    const a = await node('a', 16131, { b: 16132 }, { limits: { peerQueueMessagesMax: 10 } });
    for (let i = 1; i <= 25; i++) a.transport.send([beat('a', 'b', i)]);
    expect(a.transport.queuedFor(nodeId('b'))).toBe(10);
    expect(a.unreachable.filter((id) => id === 'b').length).toBeGreaterThanOrEqual(15);
    expect(a.logs.filter((l) => l.msg === 'peer send queue full; dropping and reporting unreachable')).toHaveLength(1);
    // The byte bound holds too.
    const small = await node('s', 16133, { b: 16132 }, { limits: { peerQueueBytesMax: 200 } });
    for (let i = 1; i <= 20; i++) small.transport.send([beat('s', 'b', i)]);
    expect(small.transport.queuedFor(nodeId('b'))).toBeLessThan(20);
    expect(small.unreachable.length).toBeGreaterThan(0);
  });

  it('refuses a peer from another cluster, on both sides, and delivers nothing', async () => {
    const a = await node('a', 16141, { b: 16142 }, { clusterId: 'other-cluster' });
    const b = await node('b', 16142, { a: 16141 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => a.unreachable.length, WAIT).toBeGreaterThan(0);
    await expect.poll(() => b.logs.some((l) => l.msg === 'refusing peer hello'), WAIT).toBe(true);
    const refusal = b.logs.find((l) => l.msg === 'refusing peer hello');
    expect(String(refusal?.refusal)).toMatch(/cluster id "other-cluster" is not "test-cluster"/);
    await expect.poll(() => a.logs.some((l) => l.msg === 'peer refused our hello'), WAIT).toBe(true);
    expect(b.received).toEqual([]);
    expect(b.hellos).toEqual([]);
  });

  it('closes a connection when a different node answers at the peer\'s address', async () => {
    const a = await node('a', 16151, { b: 16152 });
    const c = await node('c', 16152, {});
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => a.logs.some((l) => l.msg === 'peer hello mismatch; closing'), WAIT).toBe(true);
    expect(String(a.logs.find((l) => l.msg === 'peer hello mismatch; closing')?.mismatch)).toMatch(/node c answered/);
    expect(a.unreachable).toContain('b');
    expect(c.received).toEqual([]);
  });

  it('follows an address change from setPeers', async () => {
    const a = await node('a', 16161, { b: 16162 });
    const b = await node('b', 16163, {});
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => a.unreachable.length, WAIT).toBeGreaterThan(0);
    a.transport.setPeers(new Map([[nodeId('b'), addr(16163)]]));
    a.transport.send([beat('a', 'b', 2)]);
    await expect.poll(() => b.received.map(seqOf), WAIT).toEqual([1, 2]);
    // Removing the peer drops its queue; sends to it are reported unreachable.
    a.transport.setPeers(new Map());
    const before = a.unreachable.length;
    a.transport.send([beat('a', 'b', 3)]);
    expect(a.unreachable.length).toBe(before + 1);
  });

  it('delivers a 5 MiB snapshot whole, in chunks, then reports it ok; later messages follow it in order', async () => {
    const b = await node('b', 16172, {});
    const a = await node('a', 16171, { b: 16172 });
    const snapshot = snapshotMessage('a', 'b', 5 * 1024 * 1024);
    a.transport.send([beat('a', 'b', 1), snapshot, beat('a', 'b', 2)]);
    await expect.poll(() => b.received.length, WAIT).toBe(3);
    expect(b.received[0]).toStrictEqual(beat('a', 'b', 1));
    expect(b.received[2]).toStrictEqual(beat('a', 'b', 2));
    const got = b.received[1];
    if (got.type !== 'InstallSnapshot') throw new Error(`expected InstallSnapshot, got ${got.type}`);
    // Compare the 5 MiB payload bytewise (a deep-equality walk over it is needlessly slow).
    expect(got.snapshot.data.constructor).toBe(Uint8Array);
    expect(Buffer.compare(got.snapshot.data, snapshot.snapshot.data)).toBe(0);
    expect({ ...got, snapshot: { ...got.snapshot, data: null } }).toStrictEqual({ ...snapshot, snapshot: { ...snapshot.snapshot, data: null } });
    await expect.poll(() => a.snapshotStatus, WAIT).toEqual([{ to: 'b', ok: true }]);
  });

  it('sends snapshot data as 1 MiB chunk frames, none larger than a chunk', async () => {
    const acceptor = await rawAcceptor('b', 16182);
    cleanups.push(acceptor.close);
    const a = await node('a', 16181, { b: 16182 });
    const snapshot = snapshotMessage('a', 'b', 3 * SNAPSHOT_CHUNK_BYTES + 5);
    a.transport.send([snapshot]);
    await expect.poll(() => a.snapshotStatus, WAIT).toEqual([{ to: 'b', ok: true }]);
    await expect.poll(() => acceptor.frames.filter((f) => f.k === 'chunk').length, WAIT).toBe(4);
    const chunks = acceptor.frames.flatMap((f) => (f.k === 'chunk' ? [f] : []));
    expect(chunks.map((c) => [c.offset, c.data.length, c.last])).toEqual([
      [0, SNAPSHOT_CHUNK_BYTES, false],
      [SNAPSHOT_CHUNK_BYTES, SNAPSHOT_CHUNK_BYTES, false],
      [2 * SNAPSHOT_CHUNK_BYTES, SNAPSHOT_CHUNK_BYTES, false],
      [3 * SNAPSHOT_CHUNK_BYTES, 5, true],
    ]);
    const header = acceptor.frames.find((f) => f.k === 'snap');
    expect(header?.k === 'snap' && header.totalBytes).toBe(3 * SNAPSHOT_CHUNK_BYTES + 5);
  });

  it('reports a snapshot not ok when the connection fails part way', async () => {
    const acceptor = await rawAcceptor('b', 16192, (frame, socket) => {
      if (frame.k === 'chunk') socket.destroy();
    });
    cleanups.push(acceptor.close);
    const a = await node('a', 16191, { b: 16192 });
    await expect.poll(() => a.hellos.length, WAIT).toBe(1);
    // Far more than loopback socket buffers hold, so most chunks are still unwritten when the connection drops.
    a.transport.send([snapshotMessage('a', 'b', 32 * SNAPSHOT_CHUNK_BYTES)]);
    await expect.poll(() => a.snapshotStatus, WAIT).toEqual([{ to: 'b', ok: false }]);
    expect(a.unreachable).toContain('b');
  });

  it('closes an inbound connection that never says hello, and refuses a hello carrying our own id', async () => {
    const b = await node('b', 16211, {}, { limits: { handshakeTimeoutMs: 50 } });
    const silent = await rawDial(16211);
    await silent.closed;
    expect(b.logs.some((l) => l.reason === 'no hello within the handshake timeout')).toBe(true);
    const twin = await rawDial(16211);
    twin.send(helloFrom('b'));
    await twin.closed;
    expect(twin.frames).toEqual([{ k: 'refuse', reason: "node id b is this node's own id" }]);
  });

  it('a connection that has not said hello cannot make the node buffer a full-size frame: closed on the header', async () => {
    const b = await node('b', 16212, {});
    const early = await rawDial(16212);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(FRAME_BYTES_MAX, 0);
    early.socket.write(header);
    early.socket.write(Buffer.alloc(1024 * 1024));
    await early.closed; // at once, not after the handshake timeout
    expect(b.logs.some((l) => l.msg === 'closing inbound peer connection' && /for a first frame/.test(String(l.reason)))).toBe(true);
    // A hello is far below the first frame's limit, and a full-size frame after it is still allowed.
    const a = await node('a', 16213, { b: 16212 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
  });

  it('a malformed frame closes only its own connection; other peers keep working', async () => {
    const b = await node('b', 16202, {});
    const a = await node('a', 16201, { b: 16202 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);

    // Garbage before any hello.
    const garbage = await rawDial(16202);
    garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await garbage.closed;
    // An oversized length after a good hello.
    const oversized = await rawDial(16202);
    oversized.send(helloFrom('z'));
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(0xffffffff, 0);
    oversized.socket.write(header);
    await oversized.closed;
    // A well-framed but undecodable payload.
    const junk = await rawDial(16202);
    junk.send(helloFrom('y'));
    junk.socket.write(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    await junk.closed;
    // A message spoofing another sender on its connection.
    const spoof = await rawDial(16202);
    spoof.send(helloFrom('x'));
    spoof.send({ k: 'msg', m: beat('a', 'b', 99) });
    await spoof.closed;

    for (let i = 2; i <= 50; i++) a.transport.send([beat('a', 'b', i)]);
    await expect.poll(() => b.received.length, WAIT).toBe(50);
    expect(b.received.map(seqOf)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const closings = b.logs.filter((l) => l.msg === 'closing inbound peer connection' && l.level === 40).map((l) => String(l.reason));
    expect(closings).toEqual([
      expect.stringMatching(/exceeds the limit/), // "GET " read as a length
      expect.stringMatching(/exceeds the limit/),
      expect.stringMatching(/undecodable|malformed|unknown frame|not a map/),
      expect.stringMatching(/message from a on x's connection/),
    ]);
    expect(a.unreachable).toEqual([]);
  });

  it('a malformed message of any of the ten types closes its connection and delivers nothing; what came before it is delivered', async () => {
    const b = await node('b', 16231, {});
    const broken: Record<string, Record<string, unknown>> = {
      PreVote: { lastLogIndex: -1, lastLogTerm: 0 },
      PreVoteResp: { reject: 'no' },
      Vote: { lastLogIndex: 1, lastLogTerm: 0, transfer: 1 },
      VoteResp: {},
      Append: { prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'config', change: { kind: 'nuke', node: 'b' } }] },
      AppendResp: { reject: false, index: 1.5, rejectHint: 0, rejectHintTerm: 0 },
      Heartbeat: { commit: 0, readContext: 7 },
      HeartbeatResp: {},
      InstallSnapshot: { snapshot: { meta: { index: 1, term: 1, conf: { voters: [], learners: [] } }, data: new Uint8Array(0) } },
      TimeoutNow: { term: 2 ** 53 - 1 },
    };
    let seq = 0;
    for (const [type, fields] of Object.entries(broken)) {
      const peer = await rawDial(16231);
      peer.send(helloFrom(`m-${type}`));
      seq++;
      peer.send({ k: 'msg', m: { ...beat(`m-${type}`, 'b', seq) } });
      peer.send({ k: 'msg', m: { type, from: `m-${type}`, to: 'b', term: 1, ...fields } as never });
      peer.send({ k: 'msg', m: beat(`m-${type}`, 'b', 1000 + seq) });
      await peer.closed;
    }
    expect(b.received.map(seqOf)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    const reasons = b.logs.filter((l) => l.msg === 'closing inbound peer connection').map((l) => String(l.reason));
    for (const type of Object.keys(broken)) expect(reasons.some((r) => r.startsWith(`malformed ${type}:`))).toBe(true);
  });

  it('a message its handler refuses closes the connection it came on, logged with the reason; later messages on it are not delivered', async () => {
    const b = await node('b', 16235, {});
    b.transport.onMessage((m) => (m.type === 'Heartbeat' && m.commit === 2 ? 'not from a correct member' : undefined));
    const peer = await rawDial(16235);
    peer.send(helloFrom('m'));
    for (const seq of [1, 2, 3]) peer.send({ k: 'msg', m: beat('m', 'b', seq) });
    await peer.closed;
    expect(b.received.map(seqOf)).toEqual([1, 2]);
    expect(b.logs.some((l) => l.reason === 'Heartbeat from m refused: not from a correct member')).toBe(true);
  });

  it('a snapshot is refused on its announcement, before any byte is kept: by its receiver\'s say, above the connection limit, or past the node\'s reassembly limit', async () => {
    const b = await node('b', 16237, {}, { limits: { snapshotBytesMax: 1000, reassemblyBytesMax: 1500 } });
    const offers: string[] = [];
    b.transport.onSnapshotOffer((h) => {
      offers.push(h.from);
      return h.from === 'liar' ? 'not from the leader' : undefined;
    });
    const announce = (peer: Awaited<ReturnType<typeof rawDial>>, from: string, totalBytes: number): void => {
      const { snapshot } = snapshotMessage(from, 'b', 0);
      peer.send({ k: 'snap', id: 1, m: { type: 'InstallSnapshot', from: nodeId(from), to: nodeId('b'), term: term(2), snapshot }, totalBytes });
    };
    const open = async (from: string): Promise<Awaited<ReturnType<typeof rawDial>>> => {
      const peer = await rawDial(16237);
      peer.send(helloFrom(from));
      return peer;
    };
    const liar = await open('liar');
    announce(liar, 'liar', 10);
    await liar.closed;
    const huge = await open('huge');
    announce(huge, 'huge', 1001);
    await huge.closed;
    const first = await open('first');
    announce(first, 'first', 1000);
    first.send({ k: 'chunk', id: 1, offset: 0, data: new Uint8Array(10), last: false });
    const second = await open('second');
    announce(second, 'second', 1000);
    await second.closed;
    // The first one's reservation is given back when its connection goes: a new one fits.
    first.socket.destroy();
    await first.closed;
    const third = await open('third');
    announce(third, 'third', 1000);
    third.send({ k: 'chunk', id: 1, offset: 0, data: new Uint8Array(1000), last: true });
    await expect.poll(() => b.received.map((m) => m.from), WAIT).toEqual(['third']);
    const reasons = b.logs.filter((l) => l.msg === 'closing inbound peer connection' && l.level === 40).map((l) => String(l.reason));
    expect(reasons).toEqual([
      'snapshot refused: not from the leader',
      'snapshot of 1001 bytes exceeds 1000',
      "snapshot of 1000 bytes would pass the node's reassembly limit (1000 bytes in use)",
    ]);
    // The oversized one was refused on its size before its receiver was asked.
    expect(offers).toEqual(['liar', 'first', 'second', 'third']);
  });

  it('idle squatters cannot lock members out: one connection per claimed id (the newest wins), strangers capped, idle connections closed', async () => {
    const b = await node('b', 16241, { a: 16242 }, { limits: { strangerConnectionsMax: 2, idleTimeoutMs: 400 } });
    // Five connections claiming member a: each replaces the one before.
    const squatters = [];
    for (let i = 0; i < 5; i++) {
      const s = await rawDial(16241);
      s.send(helloFrom('a'));
      await expect.poll(() => s.frames.length, WAIT).toBe(1);
      squatters.push(s);
    }
    await Promise.all(squatters.slice(0, 4).map((s) => s.closed));
    // Strangers: two get in, the third is refused.
    const strangers = [];
    for (const id of ['s1', 's2', 's3']) {
      const s = await rawDial(16241);
      s.send(helloFrom(id));
      await expect.poll(() => s.frames.length, WAIT).toBe(1);
      strangers.push(s);
    }
    expect(strangers.map((s) => s.frames[0].k)).toEqual(['hello', 'hello', 'refuse']);
    // Nothing said for the idle timeout: closed, and the slots are free again.
    await Promise.all([squatters[4].closed, strangers[0].closed, strangers[1].closed]);
    const late = await rawDial(16241);
    late.send(helloFrom('s4'));
    await expect.poll(() => late.frames.map((f) => f.k), WAIT).toEqual(['hello']);
    // The real member gets in and is heard.
    const a = await node('a', 16242, { b: 16241 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.map(seqOf), WAIT).toEqual([1]);
    const reasons = b.logs.filter((l) => l.msg === 'closing inbound peer connection').map((l) => String(l.reason));
    expect(reasons.filter((r) => r === 'replaced by a newer connection from a')).toHaveLength(4);
    expect(reasons.filter((r) => r === 'idle for 400 ms').length).toBeGreaterThanOrEqual(3);
  });
  it('a removed member is refused at its hello and told so: it says so at error once, and redials only after removedRedialMs', async () => {
    const a = await node('a', 16250, { b: 16251 });
    a.transport.onRemovedPeer((peer) => (peer === 'b' ? 'node b was removed from this cluster' : undefined));
    const b = await node('b', 16251, { a: 16250 }, { limits: { removedRedialMs: 60_000 } });
    b.transport.send([beat('b', 'a', 1)]);
    await expect.poll(() => b.logs.some((l) => l.msg === 'this node was removed from the cluster'), WAIT).toBe(true);
    const told = b.logs.find((l) => l.msg === 'this node was removed from the cluster')!;
    expect(told).toMatchObject({ level: 50, reason: 'node b was removed from this cluster' });
    // More sends while the redial waits: no new dial, so no second refusal (an ordinary refusal is redialed within a second).
    for (let seq = 2; seq < 20; seq++) {
      b.transport.send([beat('b', 'a', seq)]);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(a.logs.filter((l) => l.msg === 'refusing peer hello')).toHaveLength(1);
    expect(a.received).toEqual([]);
    // Other nodes are admitted as before, and the frame on the wire says `removed`.
    const raw = await rawDial(16250);
    raw.send(helloFrom('b'));
    await raw.closed;
    expect(raw.frames).toEqual([{ k: 'refuse', reason: 'node b was removed from this cluster', removed: true }]);
    const c = await rawDial(16250);
    c.send(helloFrom('c'));
    await expect.poll(() => c.frames.map((f) => f.k), WAIT).toEqual(['hello']);
    c.socket.destroy();
  });
});
