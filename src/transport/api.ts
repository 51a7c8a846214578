import type { Cancel } from '../cancel.js';
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
  /**
   * A peer of our cluster says hello: a handler that returns a reason says the peer was removed from
   * the cluster. The connection is refused, and the peer told why and that it is removed (it then
   * logs that at error and redials seldom).
   */
  onRemovedPeer?(handler: (peer: NodeId) => string | void): void;
  /** A member refused our hello because this node was removed from the cluster (the other side of onRemovedPeer). */
  onRemovedFromCluster?(handler: (by: NodeId) => void): void;
  /** A peer completed the handshake and told us its API URL. */
  onPeerHello(handler: (hello: PeerHello) => void): void;
  /** Replace the address book (membership changes). */
  setPeers(peers: Map<NodeId, string>): void;
  close(): Promise<void>;
}

/**
 * A client request a follower relays to the leader over the peer channel
 * instead of a second HTTP request (issue 12): the request target in origin
 * form (path and query only), the headers the follower chose to pass, and the
 * body as text. The leader answers it as if it had come over HTTP.
 */
export type ForwardRequest = HttpForwardRequest | ForwardCall;

export interface HttpForwardRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * A leader operation a member asks for by name, after its own HTTP route has
 * parsed, checked and authorized the client's request (issue 12): the leader
 * runs only the operation, with no second pass through its routes. `args` is
 * whatever the operation takes; the leader checks it before any use. Sent
 * only to a peer whose hello offered calls.
 */
export interface ForwardCall {
  call: string;
  args: unknown;
}

export type ForwardResponse = HttpForwardResponse | CallAnswer;

export interface HttpForwardResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The answer to a ForwardCall: a status, headers, and a body the member's route serializes as its own. */
export interface CallAnswer {
  status: number;
  headers: Record<string, string>;
  value: unknown;
}

export function isForwardCall(request: ForwardRequest): request is ForwardCall {
  return 'call' in request;
}

export function isCallAnswer(response: ForwardResponse): response is CallAnswer {
  return 'value' in response;
}

/**
 * Answers forwarded requests on the leader; must resolve (an error answer is an answer), never reject.
 * `address`: the IP address the member's connection comes from, when known.
 */
export type ForwardHandler = (from: NodeId, request: ForwardRequest, cancel: Cancel, address?: string) => Promise<ForwardResponse>;

/**
 * Request/response over the peer channel (TcpTransport). `forward` returns
 * null when the channel cannot carry this request now (not connected, the
 * peer does not take forwards, too many in flight): the caller uses HTTP.
 * The promise rejects with ForwardNotSentError when the request surely never
 * left this node, and with any other error when the peer may have received it.
 */
export interface PeerForwarding {
  forward(to: NodeId, request: ForwardRequest, cancel: Cancel): Promise<ForwardResponse> | null;
  onForward(handler: ForwardHandler): void;
}

/** The forwarded request was never written to the connection: the peer surely never saw it. */
export class ForwardNotSentError extends Error {
  readonly code = 'forward_not_sent';
}
