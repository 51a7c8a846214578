import type { Message, NodeId } from '../raft/types.js';
import type { PeerHello } from './api.js';

/** What connections report upward to the TcpTransport, which fans out to the registered handlers. */
export interface TransportEvents {
  message(message: Message): void;
  unreachable(to: NodeId): void;
  snapshotStatus(to: NodeId, ok: boolean): void;
  peerHello(hello: PeerHello): void;
}
