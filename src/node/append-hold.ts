// Holds back a leader's entry-less Appends for a moment (issue 12).
//
// When the commit index moves, the core tells every follower at once with an
// Append that carries no entries (etcd-io/raft's bcastAppend), and each
// follower answers it. Under a light or serial load (one client; handoffs on a
// hot lock) that is half of all peer messages, each a socket write and a
// wakeup on both ends, while the next Append to the same follower, a moment
// later, would carry a commit index at least as new.
//
// Within one Ready the core already merges them into the Append before them
// (src/raft/coalesce.ts); this covers the next Readies.
//
// So an entry-less Append waits here up to `holdMs`:
//   - an Append of the same term to the same follower supersedes it (dropped);
//     an entry-less one takes its place, keeping the first one's deadline;
//   - any other message to that follower sends it first, so each link carries
//     the core's messages in the core's order, minus superseded ones;
//   - when `holdMs` passes, it is sent.
// Dropping one is safe: Raft tolerates any lost message, and the follower
// learns the same or more from the Append that went instead. A probe (an
// entry-less Append to a follower in probe state) pauses the follower's
// progress until answered, so nothing supersedes it but a later probe (after
// a heartbeat answer): it waits out `holdMs` at most. What it costs: a
// follower learns a commit up to `holdMs` later when no Append follows (its
// local state, stale reads and watch streams served there lag that much).
import type { Message, NodeId } from '../raft/types.js';
import type { Clock, TimerHandle } from './clock.js';

export class AppendHold {
  private readonly held = new Map<NodeId, Message>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly holdMs: number,
    private readonly sendNow: (messages: Message[]) => void,
    /** A held Append was dropped: a later one to the same follower carries its commit. */
    private readonly superseded: () => void = () => {},
  ) {
    if (!(holdMs >= 0)) throw new Error(`holdMs must be >= 0, got ${holdMs}`);
  }

  /** Messages the core wants sent: send those due now, hold the entry-less Appends. */
  send(messages: readonly Message[]): void {
    const out: Message[] = [];
    for (const m of messages) {
      const held = this.held.get(m.to);
      const supersedes = held !== undefined && m.type === 'Append' && m.term === held.term;
      if (held !== undefined) {
        this.held.delete(m.to);
        if (supersedes) this.superseded();
        else out.push(held);
      }
      if (this.holdMs > 0 && m.type === 'Append' && m.entries.length === 0) this.held.set(m.to, m);
      else out.push(m);
    }
    if (out.length > 0) this.sendNow(out);
    if (this.held.size === 0) this.cancelTimer();
    else if (this.timer === null) this.timer = this.clock.setTimer(() => this.flush(), this.holdMs);
  }

  /** Send everything held now. */
  flush(): void {
    this.cancelTimer();
    if (this.held.size === 0) return;
    const out = [...this.held.values()];
    this.held.clear();
    this.sendNow(out);
  }

  /** Drop everything held (the node stopped or crashed: its messages are lost like any in flight). */
  drop(): void {
    this.cancelTimer();
    this.held.clear();
  }

  /** Followers with a message held (tests). */
  get heldCount(): number {
    return this.held.size;
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
