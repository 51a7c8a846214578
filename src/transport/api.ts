import type { Message, NodeId } from '../raft/types.js';

/** What a peer says about itself when a connection opens. */
export interface PeerHello {
  clusterId: string;
  nodeId: NodeId;
  protocolVersion: number;
  /** The node's HTTP API address, so nodes learn each other's API URLs through the peer channel. */
  apiUrl: string;
}

/**
 * Peer RPC between Raft nodes (hashicorp/raft's Transport seam). TcpTransport
 * is the real one; the simulator has its own in-memory network.
 */
export interface Transport {
  start(): Promise<void>;
  /** Queue messages for sending; never blocks. A full per-peer queue drops and reports the peer unreachable. */
  send(messages: Message[]): void;
  /**
   * A handler that returns a reason refuses the message (it cannot come from a correct member):
   * the connection it came on is closed, logged with the reason.
   */
  onMessage(handler: (message: Message) => string | void): void;
  /**
   * A peer announces a snapshot (its InstallSnapshot with empty data): a handler that returns a reason
   * refuses it before any byte of it is kept, and the connection is closed. Without handlers, every
   * snapshot within the size limits is taken.
   */
  onSnapshotOffer?(handler: (header: Extract<Message, { type: 'InstallSnapshot' }>) => string | void): void;
  /** `to` could not be reached (connection failed, queue full): Raft probes it again. */
  onUnreachable(handler: (to: NodeId) => void): void;
  /**
   * An open connection to `peer` closed and the redial made at once was refused: its process is likely
   * gone (the OS closes a dead process's sockets at once), a hint for Raft's reportPeerDown. Never sent
   * for a connection that merely dropped (the redial succeeds) or a peer that went silent.
   */
  onPeerDown?(handler: (peer: NodeId) => void): void;
  /** An InstallSnapshot message to `to` was fully delivered (ok) or failed. */
  onSnapshotStatus(handler: (to: NodeId, ok: boolean) => void): void;
  /** A peer completed the handshake and told us its API URL. */
  onPeerHello(handler: (hello: PeerHello) => void): void;
  /** Replace the address book (membership changes). */
  setPeers(peers: Map<NodeId, string>): void;
  close(): Promise<void>;
}
