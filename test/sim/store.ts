// One node's durable state in memory, behind the node's RaftStorage seam
// (src/storage/api.ts): hard state, snapshot and the log after it. A save is
// atomic and durable the moment it is called (the simulator's "fsync"); a
// crash before the Ready handler calls save() loses that Ready's write. Keeps
// the prefix-hash chain of its log and reports every persisted entry to the
// global LogRegistry.

import type { Entry, HardState, LogIndex, PersistentState, Snapshot } from '../../src/raft/types.js';
import type { RaftStorage, StorageWrite } from '../../src/storage/api.js';
import { logIndex, term } from '../../src/raft/types.js';
import { chainHash, EMPTY_PREFIX_HASH, entryFingerprint } from './fingerprint.js';
import { LogRegistry, UNKNOWN_PREFIX_HASH } from './log-registry.js';
import { violate } from './violation.js';

export class SimStore implements RaftStorage {
  hardState: HardState = { term: term(0), vote: null, commit: logIndex(0) };
  snapshot: Snapshot | null = null;
  /** entries[k] has index snapshotIndex() + 1 + k. */
  private entries: Entry[] = [];
  private prefixHashes: number[] = [];

  constructor(
    private readonly node: string,
    private readonly registry: LogRegistry,
  ) {}

  snapshotIndex(): number {
    return this.snapshot ? this.snapshot.meta.index : 0;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  /** The entry at `index`, or null if compacted away or beyond the end. */
  entryAt(index: number): Entry | null {
    const k = index - this.snapshotIndex() - 1;
    return k >= 0 && k < this.entries.length ? this.entries[k] : null;
  }

  termAt(index: number): number | null {
    if (index === 0) return 0;
    if (this.snapshot && index === this.snapshot.meta.index) return this.snapshot.meta.term;
    return this.entryAt(index)?.term ?? null;
  }

  private prefixHashAt(index: number): number {
    if (index === 0) return EMPTY_PREFIX_HASH;
    const k = index - this.snapshotIndex() - 1;
    if (k === -1 && this.snapshot) return this.registry.lookup(this.snapshot.meta.index, this.snapshot.meta.term);
    if (k < 0 || k >= this.prefixHashes.length) return UNKNOWN_PREFIX_HASH;
    return this.prefixHashes[k];
  }

  /** One Ready's durable part, in the contract's order: snapshot, entries, hard state. */
  write(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null): void {
    if (snapshot) this.installSnapshot(snapshot);
    if (entries.length > 0) this.append(entries);
    if (hardState) {
      if (hardState.term < this.hardState.term) {
        violate('core assertion', `${this.node} persisted term ${hardState.term} below ${this.hardState.term}`);
      }
      if (hardState.commit < this.hardState.commit) {
        violate('commit monotonic', `${this.node} persisted commit ${hardState.commit} below ${this.hardState.commit}`);
      }
      this.hardState = { ...hardState };
    }
  }

  /** A snapshot from the leader (Ready.snapshot) or our own (compaction). */
  installSnapshot(snapshot: Snapshot): void {
    const { index, term: snapTerm } = snapshot.meta;
    if (index <= this.snapshotIndex()) return;
    // Keep the log after the snapshot only if it agrees with the snapshot at its index (Raft §7).
    const keep = this.termAt(index) === snapTerm ? index - this.snapshotIndex() : null;
    if (keep === null) {
      this.entries = [];
      this.prefixHashes = [];
    } else {
      this.entries = this.entries.slice(keep);
      this.prefixHashes = this.prefixHashes.slice(keep);
    }
    this.snapshot = snapshot;
  }

  private append(entries: readonly Entry[]): void {
    const first = entries[0].index;
    if (first <= this.snapshotIndex()) {
      violate('core assertion', `${this.node} asked to persist entry ${first} at or below its snapshot ${this.snapshotIndex()}`);
    }
    if (first > this.lastIndex() + 1) {
      violate('core assertion', `${this.node} asked to persist entry ${first} leaving a gap after ${this.lastIndex()}`);
    }
    const keep = first - this.snapshotIndex() - 1;
    this.entries.length = keep;
    this.prefixHashes.length = keep;
    let hash = this.prefixHashAt(first - 1);
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      if (e.index !== first + k) violate('core assertion', `${this.node} persisted non-contiguous entries at ${e.index}`);
      hash = hash === UNKNOWN_PREFIX_HASH ? UNKNOWN_PREFIX_HASH : chainHash(hash, entryFingerprint(e));
      this.registry.record(this.node, e.index, e.term, hash);
      this.entries.push(e);
      this.prefixHashes.push(hash);
    }
  }

  load(): Promise<PersistentState> {
    return Promise.resolve(this.persistent());
  }

  save(w: StorageWrite): Promise<void> {
    this.write(w.hardState, w.entries, w.snapshot);
    return Promise.resolve();
  }

  /** Saving a snapshot already dropped the entries it covers. */
  compact(_upTo: LogIndex): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** What a restarted node gets: exactly what was persisted. */
  persistent(): PersistentState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: this.entries.slice(),
    };
  }
}
