// The leader's view of one follower (etcd-io/raft tracker/progress.go):
// 'probe' sends one Append at a time until the match is found, 'replicate'
// pipelines up to maxInflightAppends, 'snapshot' waits for an InstallSnapshot.

import type { LogIndex, Progress } from './types.js';
import { logIndex } from './types.js';

export class PeerProgress {
  match: LogIndex = logIndex(0);
  next: LogIndex;
  state: Progress['state'] = 'probe';
  /** In 'probe': an Append is outstanding; wait for its answer or a heartbeat response. */
  probeSent = false;
  /** In 'snapshot': the index of the snapshot sent. */
  pendingSnapshot: LogIndex = logIndex(0);
  /** Last index of each Append in flight, ascending ('replicate' only). */
  private inflights: number[] = [];
  /** Leader tick at which this peer was last heard from in the current term. */
  lastContactTick: number;

  constructor(
    next: LogIndex,
    public learner: boolean,
    nowTick: number,
  ) {
    this.next = next;
    this.lastContactTick = nowTick;
  }

  inflightCount(): number {
    return this.inflights.length;
  }

  isPaused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot (Raft §7).
    const floor = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.state = 'probe';
    this.next = logIndex(floor + 1);
    this.probeSent = false;
    this.pendingSnapshot = logIndex(0);
    this.inflights = [];
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = logIndex(this.match + 1);
    this.probeSent = false;
    this.inflights = [];
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshotIndex;
    this.probeSent = false;
    this.inflights = [];
  }

  /** An Append covering up to `lastIndex` went out. */
  sentAppend(lastIndex: LogIndex, entryCount: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = logIndex(lastIndex + 1);
        this.inflights.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * A heartbeat answer proves the follower is alive; if the window is full, its acks may have been
   * lost silently, so release one slot to let an Append through (etcd-io/raft FreeFirstOne). A
   * lost ack then shows up as a reject that resets the pipeline from match.
   */
  freeFirstOne(): void {
    if (this.state === 'replicate' && this.inflights.length > 0) this.inflights.shift();
  }

  /** A successful AppendResp for `index`. Returns true if match moved. */
  maybeUpdate(index: LogIndex): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    if (index + 1 > this.next) this.next = logIndex(index + 1);
    while (this.inflights.length > 0 && this.inflights[0] <= index) this.inflights.shift();
    return updated;
  }

  /**
   * A rejected Append at `rejected`; `probeHint` is where the follower's log
   * may match (fast backtracking, Raft §5.3 optimisation). Returns false if
   * the rejection is stale (an answer to an Append we no longer care about).
   */
  maybeDecrTo(rejected: LogIndex, probeHint: LogIndex): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      // Pipelined Appends after the one rejected are doomed too: restart from match.
      this.next = logIndex(this.match + 1);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    if (probeHint < this.match) {
      // The follower answers our current probe with a log that ends (or
      // diverges) below what it once acknowledged: it lost synced data (a
      // disk that lied about fsync, a cut-short write, a restored backup).
      // Raft assumes this never happens; waiting for it to reach `match`
      // again would stall it forever, so re-replicate from where it is.
      // Commit never moves back, so lowering match is safe.
      this.match = logIndex(Math.max(probeHint, 0));
    }
    this.next = logIndex(Math.max(Math.min(rejected, probeHint + 1), this.match + 1, 1));
    this.probeSent = false;
    return true;
  }

  view(nowTick: number, activeWindowTicks: number): Progress {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflights.length,
      recentActive: nowTick - this.lastContactTick < activeWindowTicks,
      learner: this.learner,
    };
  }
}
