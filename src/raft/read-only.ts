// ReadIndex bookkeeping on the leader (Raft §6.4; docs/safety.md #3): each
// read records the commit index, then waits for a quorum of heartbeat acks
// carrying its id. An ack for a later read confirms every earlier one, since
// leadership was confirmed after they were all recorded.

import type { LogIndex, NodeId, ReadState } from './types.js';

interface PendingRead {
  requestId: string;
  index: LogIndex;
  acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private queue: PendingRead[] = [];
  private byId = new Map<string, PendingRead>();

  has(requestId: string): boolean {
    return this.byId.has(requestId);
  }

  add(requestId: string, index: LogIndex, self: NodeId): void {
    const read: PendingRead = { requestId, index, acks: new Set([self]) };
    this.queue.push(read);
    this.byId.set(requestId, read);
  }

  /** Record an ack; returns the reads now confirmed (in order), removing them. */
  recvAck(from: NodeId, requestId: string, isConfirmed: (acks: ReadonlySet<NodeId>) => boolean): ReadState[] {
    const read = this.byId.get(requestId);
    if (!read) return [];
    read.acks.add(from);
    if (!isConfirmed(read.acks)) return [];
    const pos = this.queue.indexOf(read);
    const done = this.queue.splice(0, pos + 1);
    for (const r of done) this.byId.delete(r.requestId);
    return done.map((r) => ({ requestId: r.requestId, index: r.index }));
  }

  /** Re-check all reads (after a membership change shrank the quorum). */
  recheck(isConfirmed: (acks: ReadonlySet<NodeId>) => boolean): ReadState[] {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (isConfirmed(this.queue[i].acks)) {
        return this.recvAck([...this.queue[i].acks][0], this.queue[i].requestId, isConfirmed);
      }
    }
    return [];
  }

  lastRequestId(): string | null {
    return this.queue.length === 0 ? null : this.queue[this.queue.length - 1].requestId;
  }

  drain(): string[] {
    const ids = this.queue.map((r) => r.requestId);
    this.queue = [];
    this.byId.clear();
    return ids;
  }

  size(): number {
    return this.queue.length;
  }
}
