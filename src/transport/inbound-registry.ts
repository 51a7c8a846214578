// Who holds an inbound peer connection, so that idle squatters cannot lock
// members out (issue 10: 254 idle connections that finished the handshake
// filled every inbound slot for good and cut a restarted node off):
//  - one connection per claimed node id: a new hello from an id replaces its
//    older connection (a restarted member's new connection always gets in);
//  - at most `strangersMax` connections from ids not in the address book (a
//    member being added may dial before its addition reaches us).
// Idle connections are closed by inbound.ts (limits.idleTimeoutMs).
import type { NodeId } from '../raft/types.js';

export interface InboundConnection {
  /** Close this connection, logged with `reason`. */
  close(reason: string): void;
}

export class InboundRegistry {
  private readonly byPeer = new Map<NodeId, { connection: InboundConnection; stranger: boolean }>();
  private strangers = 0;

  constructor(
    private readonly isKnownPeer: (id: NodeId) => boolean,
    private readonly strangersMax: () => number,
  ) {}

  /** Admit `connection` for `peer`, closing the one it replaces; a refusal reason if it cannot be admitted. */
  admit(peer: NodeId, connection: InboundConnection): string | null {
    const stranger = !this.isKnownPeer(peer);
    const previous = this.byPeer.get(peer);
    const strangersAfter = this.strangers - (previous?.stranger ? 1 : 0) + (stranger ? 1 : 0);
    if (stranger && strangersAfter > this.strangersMax()) {
      return `too many connections from nodes not in the address book (${this.strangers})`;
    }
    if (previous) {
      this.leave(peer, previous.connection);
      previous.connection.close(`replaced by a newer connection from ${peer}`);
    }
    this.byPeer.set(peer, { connection, stranger });
    if (stranger) this.strangers++;
    return null;
  }

  /** `connection` closed; forgets it unless it was already replaced. */
  leave(peer: NodeId, connection: InboundConnection): void {
    const entry = this.byPeer.get(peer);
    if (entry?.connection !== connection) return;
    this.byPeer.delete(peer);
    if (entry.stranger) this.strangers--;
  }

  get size(): number {
    return this.byPeer.size;
  }
}
