// TcpTransport: Raft peer messages over TCP. One outbound connection per peer
// (PeerLink), dialed by the sender; inbound connections only receive
// (acceptConnection). See frame.ts for framing, wire.ts for frame contents.
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Cancel } from '../cancel.js';
import type { Message, NodeId } from '../raft/types.js';
import { parseAddress } from './address.js';
import type { ForwardHandler, ForwardRequest, ForwardResponse, PeerForwarding, PeerHello, Transport } from './api.js';
import type { TransportEvents } from './events.js';
import { ReassemblyBudget, acceptConnection } from './inbound.js';
import { InboundRegistry } from './inbound-registry.js';
import { DEFAULT_TRANSPORT_LIMITS, PROTOCOL_VERSION, checkLimits, type TransportLimits } from './limits.js';
import { PeerLink } from './peer-link.js';
import { createPeerServer, type PeerTls } from './peer-tls.js';
import type { PeerKey } from './peer-proof.js';

export interface TcpTransportOptions {
  self: NodeId;
  clusterId: string;
  /** 'host:port' to accept peer connections on. */
  listen: string;
  /** This node's HTTP API URL, told to peers in the hello. */
  apiUrl: string;
  /** Peer id -> 'host:port'. An entry for `self` is ignored. */
  peers: Map<NodeId, string>;
  logger: Logger;
  limits?: Partial<TransportLimits>;
  /** Jitter source for reconnect backoff; Math.random by default. */
  random?: () => number;
  /** Mutual TLS against the cluster CA (peer-tls.ts); plain TCP without. */
  tls?: PeerTls;
  /** Plain TCP with auth on: peers prove the cluster's root token at every handshake (peer-proof.ts). */
  peerKey?: PeerKey;
  /**
   * Offer members to forward client requests here (PeerForwarding). The
   * handler is registered by the HTTP server once it exists (onForward);
   * requests that arrive before wait for it (or for their cancel).
   */
  forwarding?: boolean;
}

export class TcpTransport implements Transport, PeerForwarding {
  private readonly limits: TransportLimits;
  private readonly log: Logger;
  private readonly hello: PeerHello;
  private peers = new Map<NodeId, string>();
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<Socket>();
  /** Snapshot bytes being reassembled over all inbound connections (limits.reassemblyBytesMax). */
  private readonly reassembly = new ReassemblyBudget(() => this.limits.reassemblyBytesMax);
  private readonly registry = new InboundRegistry(
    (id) => this.peers.has(id),
    () => this.limits.strangerConnectionsMax,
  );
  private server: Server | null = null;
  private closed = false;
  private forwardHandler: ForwardHandler | null = null;
  /** Requests that came before the handler, released by onForward. */
  private readonly handlerWaiters = new Set<() => void>();
  private readonly handlers = {
    message: [] as Array<(m: Message) => string | void>,
    snapshotOffer: [] as Array<(header: Extract<Message, { type: 'InstallSnapshot' }>) => string | void>,
    unreachable: [] as Array<(to: NodeId) => void>,
    peerDown: [] as Array<(peer: NodeId) => void>,
    snapshotStatus: [] as Array<(to: NodeId, ok: boolean) => void>,
    peerHello: [] as Array<(h: PeerHello) => void>,
    removedPeer: [] as Array<(peer: NodeId) => string | void>,
    removedFromCluster: [] as Array<(by: NodeId) => void>,
  };
  private readonly events: TransportEvents = {
    snapshotOffer: (header) => {
      let refusal: string | null = null;
      for (const h of this.handlers.snapshotOffer) refusal = h(header) ?? refusal;
      return refusal;
    },
    message: (m) => {
      let refusal: string | null = null;
      for (const h of this.handlers.message) refusal = h(m) ?? refusal;
      return refusal;
    },
    unreachable: (to) => this.handlers.unreachable.forEach((h) => h(to)),
    peerDown: (peer) => {
      this.log.info({ peer }, 'connection to peer closed and a new one was refused: reporting it down');
      this.handlers.peerDown.forEach((h) => h(peer));
    },
    snapshotStatus: (to, ok) => this.handlers.snapshotStatus.forEach((h) => h(to, ok)),
    peerHello: (hello) => this.handlers.peerHello.forEach((h) => h(hello)),
    removedPeer: (peer) => {
      let reason: string | null = null;
      for (const h of this.handlers.removedPeer) reason = h(peer) ?? reason;
      return reason;
    },
    removedFromCluster: (by) => this.handlers.removedFromCluster.forEach((h) => h(by)),
    takesForwards: () => this.o.forwarding === true,
    forward: async (from, request, cancel, address) => {
      if (this.forwardHandler === null) await this.handlerRegistered(cancel);
      return this.forwardHandler!(from, request, cancel, address);
    },
  };

  constructor(private readonly o: TcpTransportOptions) {
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...o.limits };
    checkLimits(this.limits);
    parseAddress(o.listen);
    this.log = o.logger.child({ component: 'transport', self: o.self });
    this.hello = { clusterId: o.clusterId, nodeId: o.self, protocolVersion: PROTOCOL_VERSION, apiUrl: o.apiUrl };
    this.setPeers(o.peers);
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('transport already started');
    const { host, port } = parseAddress(this.o.listen);
    const server = createPeerServer(this.o.tls, this.limits.handshakeTimeoutMs, this.log, (socket, verified) => this.accept(socket, verified));
    server.maxConnections = this.limits.inboundConnectionsMax;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'peer listener error'));
    this.log.info({ listen: this.o.listen }, 'peer transport listening');
    for (const peer of this.peers.keys()) this.linkFor(peer)?.connect();
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('transport not listening');
    return address.port;
  }

  send(messages: Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      if (m.to === this.o.self) throw new Error(`message to self (${m.type}): the node must not route its own messages through the transport`);
      const link = this.linkFor(m.to);
      if (link) link.send(m);
      else {
        this.log.debug({ to: m.to, type: m.type }, 'no address for peer; dropping');
        if (m.type === 'InstallSnapshot') this.events.snapshotStatus(m.to, false);
        this.events.unreachable(m.to);
      }
    }
  }

  /** Messages waiting in `peer`'s send queue (status and tests). */
  queuedFor(peer: NodeId): number {
    return this.links.get(peer)?.queuedCount ?? 0;
  }

  onMessage(handler: (message: Message) => string | void): void {
    this.handlers.message.push(handler);
  }
  onSnapshotOffer(handler: (header: Extract<Message, { type: 'InstallSnapshot' }>) => string | void): void {
    this.handlers.snapshotOffer.push(handler);
  }
  onUnreachable(handler: (to: NodeId) => void): void {
    this.handlers.unreachable.push(handler);
  }
  onPeerDown(handler: (peer: NodeId) => void): void {
    this.handlers.peerDown.push(handler);
  }
  onSnapshotStatus(handler: (to: NodeId, ok: boolean) => void): void {
    this.handlers.snapshotStatus.push(handler);
  }
  onPeerHello(handler: (hello: PeerHello) => void): void {
    this.handlers.peerHello.push(handler);
  }

  onRemovedPeer(handler: (peer: NodeId) => string | void): void {
    this.handlers.removedPeer.push(handler);
  }

  onRemovedFromCluster(handler: (by: NodeId) => void): void {
    this.handlers.removedFromCluster.push(handler);
  }

  forward(to: NodeId, request: ForwardRequest, cancel: Cancel): Promise<ForwardResponse> | null {
    if (this.closed || to === this.o.self) return null;
    return this.links.get(to)?.forward(request, cancel) ?? null;
  }

  /** One handler: the HTTP server that answers forwarded requests (offered only with the `forwarding` option). */
  onForward(handler: ForwardHandler): void {
    this.forwardHandler = handler;
    for (const release of this.handlerWaiters) release();
    this.handlerWaiters.clear();
  }

  /** Resolves once a handler is registered; rejects when the request is abandoned first. */
  private handlerRegistered(cancel: Cancel): Promise<void> {
    return new Promise((resolve, reject) => {
      const release = (): void => {
        removeAbandon();
        resolve();
      };
      const abandon = (reason: unknown): void => {
        this.handlerWaiters.delete(release);
        reject(reason);
      };
      this.handlerWaiters.add(release);
      const removeAbandon = cancel.onAbort(abandon);
    });
  }

  setPeers(peers: Map<NodeId, string>): void {
    const next = new Map<NodeId, string>();
    for (const [id, address] of peers) {
      if (id === this.o.self) continue;
      parseAddress(address);
      next.set(id, address);
    }
    for (const [id, link] of this.links) {
      const address = next.get(id);
      if (address === undefined) {
        link.close();
        this.links.delete(id);
      } else {
        link.setAddress(address);
      }
    }
    this.peers = next;
    if (this.server && !this.closed) for (const peer of next.keys()) this.linkFor(peer)?.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const socket of this.inbound) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info('peer transport closed');
  }

  private linkFor(peer: NodeId): PeerLink | null {
    const existing = this.links.get(peer);
    if (existing) return existing;
    const address = this.peers.get(peer);
    if (address === undefined) return null;
    const link = new PeerLink({
      peer,
      address,
      hello: this.hello,
      limits: this.limits,
      events: this.events,
      logger: this.log,
      random: this.o.random ?? Math.random,
      tls: this.o.tls,
      peerKey: this.o.peerKey,
    });
    this.links.set(peer, link);
    return link;
  }

  private accept(socket: Socket, verified: NodeId | undefined): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.once('close', () => this.inbound.delete(socket));
    acceptConnection(socket, {
      self: this.hello,
      isKnownPeer: (id) => this.peers.has(id),
      verifiedPeer: verified,
      limits: this.limits,
      events: this.events,
      logger: this.log,
      reassembly: this.reassembly,
      registry: this.registry,
      peerKey: this.o.peerKey,
    });
  }
}
