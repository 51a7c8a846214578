// The vocabulary of the Raft core: ids, log entries, messages and the Ready
// batch. Everything here is plain data so that it can be persisted by
// src/storage and framed by src/transport with msgpackr unchanged.
//
// The core (src/raft/raft.ts) is a deterministic value in the manner of
// etcd-io/raft: the caller steps it with tick(), step(msg), propose(...),
// readIndex(...), then takes a Ready, persists, sends and applies what it
// says, and calls advance(ready). No timers, sockets, disk, Date.now() or
// Math.random() inside.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A node's identity; never reused (a node that lost its disk rejoins under a new id). */
export type NodeId = Brand<string, 'NodeId'>;
/** Raft term; never decreases on a node. */
export type Term = Brand<number, 'Term'>;
/** Position in the replicated log; 1-based, 0 means "before the first entry". */
export type LogIndex = Brand<number, 'LogIndex'>;

export const nodeId = (s: string): NodeId => s as NodeId;
export const term = (n: number): Term => n as Term;
export const logIndex = (n: number): LogIndex => n as LogIndex;

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner';

/** One change to the membership, one at a time. */
export type ConfChangeKind = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChange {
  kind: ConfChangeKind;
  node: NodeId;
  /** Opaque to Raft: the node layer stores peer and API addresses here. */
  context?: Uint8Array;
}

/** The membership in force. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /**
   * Ids removed from the cluster, oldest first (at most REMOVED_IDS_MAX): never members again, since a
   * node id is forever (docs/safety.md #10). Absent when none (and in snapshots of older versions).
   */
  removed?: NodeId[];
}

export type Entry =
  | { term: Term; index: LogIndex; type: 'normal'; data: Uint8Array }
  /** Appended by every new leader (Raft §8; docs/safety.md #2). */
  | { term: Term; index: LogIndex; type: 'noop' }
  | { term: Term; index: LogIndex; type: 'config'; change: ConfChange };

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  term: Term;
  vote: NodeId | null;
  commit: LogIndex;
}

export interface SnapshotMeta {
  index: LogIndex;
  term: Term;
  conf: ConfState;
  /** Opaque per-member context (addresses) as of `index`, keyed by node id. */
  memberContext?: Record<string, Uint8Array>;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The state machine's bytes at meta.index. */
  data: Uint8Array;
}

interface MessageBase {
  from: NodeId;
  to: NodeId;
  term: Term;
}

export type Message =
  | (MessageBase & { type: 'PreVote'; lastLogIndex: LogIndex; lastLogTerm: Term })
  | (MessageBase & { type: 'PreVoteResp'; reject: boolean })
  | (MessageBase & { type: 'Vote'; lastLogIndex: LogIndex; lastLogTerm: Term; transfer: boolean })
  | (MessageBase & { type: 'VoteResp'; reject: boolean })
  | (MessageBase & {
      type: 'Append';
      prevLogIndex: LogIndex;
      prevLogTerm: Term;
      entries: Entry[];
      commit: LogIndex;
    })
  | (MessageBase & {
      type: 'AppendResp';
      reject: boolean;
      /** On success: the highest index now known to match. On reject: the rejected prevLogIndex. */
      index: LogIndex;
      /** On reject: a hint for fast backtracking (follower's last index, or first index of the conflicting term). */
      rejectHint: LogIndex;
      /** On reject: the term of the follower's entry at rejectHint, 0 if none. */
      rejectHintTerm: Term;
    })
  | (MessageBase & { type: 'Heartbeat'; commit: LogIndex; readContext: string | null })
  | (MessageBase & { type: 'HeartbeatResp'; readContext: string | null })
  | (MessageBase & { type: 'InstallSnapshot'; snapshot: Snapshot })
  | (MessageBase & { type: 'TimeoutNow' });

export type MessageType = Message['type'];

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  requestId: string;
  index: LogIndex;
}

export interface SoftState {
  role: Role;
  leader: NodeId | null;
}

/**
 * One batch of work for the caller. Order of handling:
 *   1. send `messages` at once: they may go before or during step 2 (a
 *      leader's Appends and Heartbeats at its durable term, dissertation
 *      §10.2.1; the core counts the leader's own entries for commit only after
 *      advance());
 *   2. persist snapshot (if any), then entries, then hardState: one synced write;
 *   3. only then send `messagesAfterPersist` (votes, responses, anything that
 *      depends on the term, vote or entries this Ready persists: docs/safety.md #4);
 *   4. apply committedEntries in order (after a snapshot restore if one came);
 *   5. serve readStates once applied >= their index;
 *   6. call advance(ready).
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  snapshot: Snapshot | null;
  /** Entries to append to the durable log; an entry at an index that is already stored replaces it and everything after. */
  entries: Entry[];
  /** May be sent now, before this Ready's write is durable (etcd-io/raft: Ready.Messages). */
  messages: Message[];
  /** Only once this Ready's write is durable (etcd-io/raft: msgsAfterAppend). */
  messagesAfterPersist: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /** Read requests that can no longer be served here (lost leadership); the caller fails them. */
  droppedReads: string[];
  /** True when hardState, entries or snapshot must be fsynced before messagesAfterPersist go out. */
  mustSync: boolean;
}

/** What a node restarts from: exactly what it persisted. */
export interface PersistentState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

export interface RaftConfig {
  id: NodeId;
  /** Initial voters, used only when the persistent state has no snapshot and no config entry. */
  initialVoters: NodeId[];
  /** Minimum election timeout; the real one is drawn in [min, 2*min) from `random`. */
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /** Seeded PRNG in [0, 1): the only source of randomness. */
  random: () => number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Lease-based reads; off by default (reads go through ReadIndex). */
  leaseReads: boolean;
  /** Append messages in flight per follower before waiting for acks. */
  maxInflightAppends: number;
  maxEntriesPerAppend: number;
  maxBytesPerAppend: number;
  /** Entries applied to the state machine are handed out at most this many per Ready. */
  maxCommittedEntriesPerReady: number;
}

export interface Progress {
  match: LogIndex;
  next: LogIndex;
  state: 'probe' | 'replicate' | 'snapshot';
  inflight: number;
  recentActive: boolean;
  learner: boolean;
}

export interface RaftStatus {
  id: NodeId;
  term: Term;
  vote: NodeId | null;
  role: Role;
  leader: NodeId | null;
  commit: LogIndex;
  applied: LogIndex;
  firstIndex: LogIndex;
  lastIndex: LogIndex;
  /** The configuration in force: the latest config entry in the log, committed or not. */
  conf: ConfState;
  /** The configuration as of `applied`: what a snapshot taken now records, and what the node reports. */
  appliedConf: ConfState;
  /** Leader only. */
  progress: Record<string, Progress> | null;
  /** Leader only: ticks since a quorum was last heard from (check-quorum / lease expiry guard). */
  ticksSinceQuorumContact: number | null;
  /** Not leader: ticks since the known leader was last heard from (null when no leader is known). */
  ticksSinceLeaderContact: number | null;
  leadTransferee: NodeId | null;
}

export class NotLeaderError extends Error {
  readonly code = 'not_leader';
  constructor(readonly leader: NodeId | null) {
    super(leader ? `not the leader; the leader is ${leader}` : 'not the leader; no leader known');
  }
}

export class ProposalDroppedError extends Error {
  readonly code = 'proposal_dropped';
  constructor(reason: string) {
    super(reason);
  }
}

/**
 * A peer's message the core will not act on because it cannot be right (a
 * response to something never sent, a second leader in one term, a term far
 * beyond any real one). Thrown by step() before anything changes; the caller
 * logs it and closes that peer's connection.
 */
export class MessageRefusedError extends Error {
  readonly code = 'message_refused';
  constructor(
    readonly from: NodeId,
    readonly type: MessageType,
    reason: string,
  ) {
    super(reason);
  }
}
