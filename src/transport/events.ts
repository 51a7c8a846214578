import type { Cancel } from '../cancel.js';
import type { Message, NodeId } from '../raft/types.js';
import type { ForwardRequest, ForwardResponse, PeerHello } from './api.js';

/** What connections report upward to the TcpTransport, which fans out to the registered handlers. */
export interface TransportEvents {
  /** Asked when a snapshot is announced, before any of its bytes is kept: a refusal reason closes the connection. */
  snapshotOffer(header: Extract<Message, { type: 'InstallSnapshot' }>): string | null;
  /** A refusal reason closes the connection the message came on. */
  message(message: Message): string | null;
  unreachable(to: NodeId): void;
  /** An open connection to `to` closed and a new one was refused at once: nothing listens there any more. */
  peerDown(to: NodeId): void;
  snapshotStatus(to: NodeId, ok: boolean): void;
  peerHello(hello: PeerHello): void;
  /** A peer of our cluster said hello: a reason when it has been removed from the cluster (it is refused and told so). */
  removedPeer(peer: NodeId): string | null;
  /** Member `by` refused our hello: this node was removed from the cluster. */
  removedFromCluster(by: NodeId): void;
  /** Whether this node answers forwarded requests at all (a handler is registered). */
  takesForwards(): boolean;
  /** Answer a forwarded request; resolves with the answer, never rejects. */
  forward(from: NodeId, request: ForwardRequest, cancel: Cancel, address?: string): Promise<ForwardResponse>;
}
