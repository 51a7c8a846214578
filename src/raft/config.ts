// Defaults and start-up checks for RaftConfig: a limit on everything, named
// and checked before the core runs.

import type { NodeId, RaftConfig } from './types.js';

export const DEFAULT_ELECTION_TIMEOUT_TICKS = 10;
export const DEFAULT_HEARTBEAT_INTERVAL_TICKS = 1;
export const DEFAULT_MAX_INFLIGHT_APPENDS = 64;
export const DEFAULT_MAX_ENTRIES_PER_APPEND = 256;
export const DEFAULT_MAX_BYTES_PER_APPEND = 1024 * 1024;
export const DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY = 1024;

export function defaultRaftConfig(id: NodeId, voters: NodeId[], random: () => number): RaftConfig {
  return {
    id,
    initialVoters: [...voters],
    electionTimeoutTicks: DEFAULT_ELECTION_TIMEOUT_TICKS,
    heartbeatIntervalTicks: DEFAULT_HEARTBEAT_INTERVAL_TICKS,
    random,
    preVote: true,
    checkQuorum: true,
    leaseReads: false,
    maxInflightAppends: DEFAULT_MAX_INFLIGHT_APPENDS,
    maxEntriesPerAppend: DEFAULT_MAX_ENTRIES_PER_APPEND,
    maxBytesPerAppend: DEFAULT_MAX_BYTES_PER_APPEND,
    maxCommittedEntriesPerReady: DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY,
  };
}

export function validateRaftConfig(c: RaftConfig): void {
  const positiveInt = (name: keyof RaftConfig): void => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new Error(`invalid RaftConfig.${name}: ${String(v)} (want a positive integer)`);
    }
  };
  positiveInt('electionTimeoutTicks');
  positiveInt('heartbeatIntervalTicks');
  positiveInt('maxInflightAppends');
  positiveInt('maxEntriesPerAppend');
  positiveInt('maxBytesPerAppend');
  positiveInt('maxCommittedEntriesPerReady');
  if (c.heartbeatIntervalTicks >= c.electionTimeoutTicks) {
    throw new Error(
      `invalid RaftConfig: heartbeatIntervalTicks (${c.heartbeatIntervalTicks}) must be below electionTimeoutTicks (${c.electionTimeoutTicks})`,
    );
  }
  if (typeof c.id !== 'string' || c.id.length === 0) throw new Error('invalid RaftConfig.id: empty');
  if (new Set(c.initialVoters).size !== c.initialVoters.length) {
    throw new Error('invalid RaftConfig.initialVoters: duplicate ids');
  }
}
