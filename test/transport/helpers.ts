import { connect, createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { logIndex, nodeId, term, type Message, type NodeId } from '../../src/raft/types.js';
import type { PeerHello } from '../../src/transport/api.js';
import { FrameDecoder, encodeFrame } from '../../src/transport/frame.js';
import { PROTOCOL_VERSION, type TransportLimits } from '../../src/transport/limits.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { PeerKey } from '../../src/transport/peer-proof.js';
import { packWire, unpackWire, type WireFrame } from '../../src/transport/wire.js';

export const CLUSTER = 'test-cluster';

export interface Node {
  id: NodeId;
  transport: TcpTransport;
  received: Message[];
  unreachable: NodeId[];
  /** Peers reported down (connection closed, redial refused). */
  down: NodeId[];
  snapshotStatus: Array<{ to: NodeId; ok: boolean }>;
  hellos: PeerHello[];
  logs: Array<Record<string, unknown>>;
}

export const addr = (port: number): string => `127.0.0.1:${port}`;

export async function startNode(
  id: string,
  port: number,
  peers: Record<string, number>,
  options: { clusterId?: string; limits?: Partial<TransportLimits>; start?: boolean; forwarding?: boolean; peerKey?: PeerKey } = {},
): Promise<Node> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const transport = new TcpTransport({
    self: nodeId(id),
    clusterId: options.clusterId ?? CLUSTER,
    listen: addr(port),
    apiUrl: `http://127.0.0.1:${port + 1000}`,
    peers: new Map(Object.entries(peers).map(([k, p]) => [nodeId(k), addr(p)])),
    logger,
    limits: options.limits,
    random: () => 0.5,
    forwarding: options.forwarding,
    peerKey: options.peerKey,
  });
  const node: Node = { id: nodeId(id), transport, received: [], unreachable: [], down: [], snapshotStatus: [], hellos: [], logs };
  transport.onMessage((m) => void node.received.push(m));
  transport.onUnreachable((to) => node.unreachable.push(to));
  transport.onPeerDown((peer) => node.down.push(peer));
  transport.onSnapshotStatus((to, ok) => node.snapshotStatus.push({ to, ok }));
  transport.onPeerHello((h) => node.hellos.push(h));
  if (options.start ?? true) await transport.start();
  return node;
}

/** A heartbeat carrying a sequence number in readContext, to check order. */
export function beat(from: string, to: string, seq: number): Message {
  return { type: 'Heartbeat', from: nodeId(from), to: nodeId(to), term: term(1), commit: logIndex(seq), readContext: `seq-${seq}` };
}

export const seqOf = (m: Message): number => (m.type === 'Heartbeat' ? Number(m.commit) : -1);

/** A hand-driven peer socket, for feeding the transport what a real peer never would. */
export interface RawPeer {
  socket: Socket;
  frames: WireFrame[];
  closed: Promise<void>;
  send(frame: WireFrame): void;
}

export async function rawDial(port: number): Promise<RawPeer> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: WireFrame[] = [];
  const decoder = new FrameDecoder();
  socket.on('data', (c: Buffer) => frames.push(...decoder.push(c).frames.map(unpackWire)));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, frames, closed, send: (f) => void socket.write(encodeFrame(packWire(f))) };
}

export function helloFrom(id: string, clusterId = CLUSTER): WireFrame {
  return { k: 'hello', hello: { clusterId, nodeId: nodeId(id), protocolVersion: PROTOCOL_VERSION, apiUrl: 'http://x' } };
}

/** A hand-driven acceptor: answers the hello as `id`, records every frame, and lets the test act on each. */
export async function rawAcceptor(id: string, port: number, onFrame: (frame: WireFrame, socket: Socket) => void = () => {}): Promise<{ server: Server; frames: WireFrame[]; close(): Promise<void> }> {
  const frames: WireFrame[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const decoder = new FrameDecoder();
    socket.on('data', (c: Buffer) => {
      for (const payload of decoder.push(c).frames) {
        const frame = unpackWire(payload);
        frames.push(frame);
        if (frame.k === 'hello') socket.write(encodeFrame(packWire(helloFrom(id))));
        onFrame(frame, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, resolve));
  return {
    server,
    frames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
