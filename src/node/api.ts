import type { ConfState, LogIndex, NodeId, Role, Term } from '../raft/types.js';

export interface MemberInfo {
  id: NodeId;
  peerUrl: string;
  /** Learned through the peer channel; null until heard. */
  apiUrl: string | null;
  voter: boolean;
}

export interface NodeStatus {
  clusterId: string;
  id: NodeId;
  role: Role;
  leader: NodeId | null;
  term: Term;
  commitIndex: LogIndex;
  appliedIndex: LogIndex;
  conf: ConfState;
  members: MemberInfo[];
  /**
   * This node was removed from the cluster: it applied its own removal, or a member refused it as
   * removed. Ids are never reused, so it stays so; its API answers 503 no_leader at once, saying so.
   */
  removed: boolean;
  /** Leader only: per-member match index and whether it answered recently. */
  progress: Record<string, { matchIndex: LogIndex; reachable: boolean }> | null;
}

/** The command surely did not apply: safe to retry anywhere. One class, the core's: what it throws is what callers catch. */
export { NotLeaderError } from '../raft/types.js';

/** The command may or may not have applied (docs/safety.md #15): retry only with the same idempotency key. */
export class OutcomeUnknownError extends Error {
  readonly code = 'outcome_unknown';
}

/**
 * What the lock service and the HTTP server need from a Raft node. The real
 * one is src/node/node.ts; tests use an in-memory single-node twin that
 * applies commands directly.
 */
export interface ReplicatedNode {
  readonly id: NodeId;
  /**
   * Leader only. Resolves once the command is committed AND applied here,
   * with the state machine's result and the index it was applied at.
   * Rejects NotLeaderError if this node cannot propose (surely not applied),
   * OutcomeUnknownError if leadership was lost or timeoutMs passed after the
   * command was appended (may have applied).
   */
  propose(data: Uint8Array, timeoutMs: number): Promise<{ index: LogIndex; result: unknown }>;
  /**
   * Leader only. ReadIndex: resolves with the read index once leadership was
   * confirmed by a quorum and the state machine has applied up to it; a read
   * of the local state machine after that is linearizable.
   */
  readBarrier(timeoutMs: number): Promise<LogIndex>;
  /** True while this node is leader and a quorum acknowledged it within the last election timeout (lease expiry guard, docs/safety.md #13). */
  leadershipConfirmedRecently(): boolean;
  /**
   * True while this node has heard from its leader within an election timeout, or leads with a quorum
   * heard within one (what /readyz answers 200 on: a node cut off from its leader, or fed heartbeats it
   * ignores, is not ready however recently it knew a leader).
   */
  leaderHeardRecently(): boolean;
  status(): NodeStatus;
  /** status()'s role, leader and term alone: what each request asks, without status()'s copies. */
  leadership(): { role: Role; leader: NodeId | null; term: Term };
  /** The leader's API URL, if a leader is known and its URL learned. */
  leaderApiUrl(): string | null;
  /** Called on every role or leader change, after the change. */
  onRoleChange(listener: (role: Role, leader: NodeId | null, term: Term) => void): () => void;
  transferLeadership(to: NodeId | null, timeoutMs: number): Promise<NodeId>;
  addMember(member: { id: NodeId; peerUrl: string; apiUrl: string; voter: boolean }, timeoutMs: number): Promise<void>;
  removeMember(id: NodeId, timeoutMs: number): Promise<void>;
}
