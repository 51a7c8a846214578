import type {
  ConfChange,
  LogIndex,
  Message,
  NodeId,
  RaftStatus,
  Ready,
  Role,
  Snapshot,
  Term,
} from './types.js';

/**
 * The stepped Raft core. src/raft/raft.ts implements it; the node loop
 * (src/node) and the simulator (test/sim) drive it. All methods are
 * synchronous and deterministic given the config's PRNG.
 */
export interface RaftCore {
  /** One logical clock tick (the node maps wall time onto ticks). */
  tick(): void;
  /** Feed one message from a peer. Messages from unknown or removed nodes and stale terms are handled per the paper. */
  step(message: Message): void;
  /** Leader only: append a command. Throws NotLeaderError elsewhere, ProposalDroppedError during a leadership transfer. */
  propose(data: Uint8Array): { index: LogIndex; term: Term };
  /**
   * Leader only: append a membership change. Throws ProposalDroppedError while
   * another change is uncommitted or before this term's no-op has committed.
   */
  proposeConfChange(change: ConfChange): { index: LogIndex; term: Term };
  /** Leader only: request a linearizable read point. requestId must be unique per request (never reused on retry). */
  readIndex(requestId: string): void;
  /** Leader only: hand leadership to `to` (catch it up, then TimeoutNow). */
  transferLeadership(to: NodeId): void;
  /**
   * The state machine has been snapshotted at `snapshot.meta.index` (<= applied).
   * The core keeps it to send to lagging followers and compacts the log up to it,
   * keeping `retainEntries` entries behind it for slightly lagging followers.
   */
  compact(snapshot: Snapshot, retainEntries: number): void;
  /** The transport could not reach `to`: fall back to probing it. */
  reportUnreachable(to: NodeId): void;
  /**
   * The transport's connection to `peer` closed and a new one was refused at once: its process is
   * likely gone (a kill -9 closes its sockets). A hint, never proof: a follower of `peer` stops
   * taking it for a live leader and may start a pre-vote early; pre-vote, check-quorum and the
   * other members' leader stickiness still decide (see Raft.reportPeerDown).
   */
  reportPeerDown(peer: NodeId): void;
  /** An InstallSnapshot to `to` finished (ok) or failed. */
  reportSnapshot(to: NodeId, ok: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  /** The caller has persisted, sent and applied everything in `ready`. */
  advance(ready: Ready): void;
  status(): RaftStatus;
  /**
   * status()'s role, leader and term alone, for per-request and per-Ready paths: status() copies
   * the progress of every peer and sorts both configurations (issue 12 profile).
   */
  leadership(): { role: Role; leader: NodeId | null; term: Term };
}
