import type { Entry, HardState, LogIndex, PersistentState, Snapshot } from '../raft/types.js';

/**
 * Durable home of one node's Raft state (hashicorp/raft's LogStore +
 * StableStore + SnapshotStore behind one narrow seam). LevelStorage is the
 * real one; MemoryStorage is its in-memory twin for tests and the simulator.
 */
export interface RaftStorage {
  /** Everything persisted, for restart. Truncates a torn tail (logged); throws on corruption inside the synced part. */
  load(): Promise<PersistentState>;
  /**
   * Persist one Ready's durable part in ONE synced write (fsync before the
   * promise resolves): snapshot (if any) first, then entries (an entry at an
   * index already stored replaces it and every entry after it), then hard state.
   * Concurrent calls are group-committed: writes that arrive while a sync is in
   * flight share the next sync. Resolves only once durable.
   */
  save(write: StorageWrite): Promise<void>;
  /** Drop log entries with index <= upTo (they are covered by the stored snapshot). */
  compact(upTo: LogIndex): Promise<void>;
  close(): Promise<void>;
}

export interface StorageWrite {
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  /**
   * false: the write need not be fsynced before the promise resolves (Ready.mustSync
   * false: only the commit index changed, which a restarted node re-learns from the
   * leader; etcd writes it the same way). It is still ordered with the other writes
   * and made durable by the next synced one. Default true.
   */
  sync?: boolean;
}
