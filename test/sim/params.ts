// The simulator's knobs, named and in one place.

import type { RaftTuning } from './node.js';

/** One simulator step is one Raft tick; a message sent at step s arrives at s+1 at the earliest. */
export const ELECTION_TIMEOUT_TICKS = 10;
export const HEARTBEAT_INTERVAL_TICKS = 1;

/** Flow-control limits a run may draw; small so that batching, pipelining and split acks happen. */
export const MAX_INFLIGHT_APPENDS_CHOICES = [1, 2, 4] as const;
export const MAX_ENTRIES_PER_APPEND_CHOICES = [1, 2, 8] as const;

export function raftTuning(
  preVote: boolean,
  checkQuorum: boolean,
  maxInflightAppends = 4,
  maxEntriesPerAppend = 8,
): RaftTuning {
  return {
    electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
    heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
    preVote,
    checkQuorum,
    maxInflightAppends,
    // One or two entries per Append make a leader's old-term entries reach a
    // quorum before its no-op does: the Figure 8 window (§5.4.2).
    maxEntriesPerAppend,
    maxBytesPerAppend: 64 * 1024,
    maxCommittedEntriesPerReady: 16,
  };
}

/**
 * Liveness bound: once every fault is healed (all nodes up, no partition, no
 * drops, duplicates or extra delay) a leader must be elected and a fresh
 * proposal must commit within this many ticks. Why 8E + 20 (E = minimum
 * election timeout, the real one drawn in [E, 2E)):
 *   - E: a leadership transfer in flight at the heal aborts after an election timeout;
 *   - 2E: followers that still hear a stale leader, or that heard one just before
 *     the heal, ignore (pre-)votes until their randomized timeout (< 2E) expires;
 *     a minority leader steps down within E by check-quorum;
 *   - 2 × 2E: two more rounds for a candidate whose log is not up to date
 *     enough to win, or a split vote (the next timeout is < 2E away);
 *   - 20 ticks: pre-vote, vote, no-op commit and the probe's commit are ~4
 *     one-step round trips, plus catching up a restarted follower.
 * A bound that fails is reported as a liveness violation with the seed, like
 * any safety property; it is not a timing assertion (ticks, not wall time).
 */
export const LIVENESS_BOUND_TICKS = 8 * ELECTION_TIMEOUT_TICKS + 20;

/** After liveness: every member must apply the leader's commit index within this many more ticks. */
export const CATCH_UP_BOUND_TICKS = 12 * ELECTION_TIMEOUT_TICKS;

/** A node snapshots its state machine after applying this many entries since its last snapshot. */
export const SNAPSHOT_EVERY_ENTRIES = 12;

/** New node ids a run may add through membership changes (ids are never reused). */
export const ADDED_NODES_MAX = 3;

/** Per-step probabilities while the nemesis is active. */
export const NEMESIS = {
  partition: 0.03,
  heal: 0.06,
  crashPerNode: 0.006,
  restartPerDownNode: 0.08,
  crashDuringReadyPerNode: 0.004,
  crashAfterVoteGrant: 0.1,
  crashAfterLeaderCommit: 0.05,
  crashAfterElected: 0.1,
  /** Of the crashes drawn 'before-persist', the share that strikes inside the write instead (CrashPoint 'in-write'). */
  inWriteShare: 0.5,
  /** A follower whose Ready persists entries and acknowledges them crashes inside that write. */
  crashInWriteAckingEntries: 0.02,
  /** A node that crashed inside Ready handling is restarted (by its supervisor) within 1..this many steps. */
  quickRestartStepsMax: 3,
  confChange: 0.015,
  transfer: 0.01,
} as const;

/**
 * Per-step probabilities of the peer-down faults (SimOptions.peerDownFaults): the leader's process
 * dies and its connections close, so every member still connected to it is told (reportPeerDown),
 * each 1..noticeStepsMax steps later (after what it sent before it died); or one member is told so while the leader lives (a wrong hint).
 */
export const PEER_DOWN = {
  killLeader: 0.01,
  wrongHint: 0.03,
  noticeStepsMax: 2,
} as const;

/** Per-step probabilities of client operations. */
export const CLIENT = {
  propose: 0.4,
  read: 0.15,
} as const;
