// The planning view of a node's durable Raft state: the hard state, the
// snapshot's position and the index and term of every stored entry (not the
// entries themselves). Both storages turn a StorageWrite into a WritePlan here,
// synchronously and in call order, so that writes queued for a group commit
// are planned against everything queued before them. Invariants that Raft
// guarantees are checked here and throw: a storage that persisted a violation
// would carry the bug across restarts.
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/types.js';
import type { StorageWrite } from './api.js';

/** Inclusive range of entry indexes. */
export interface IndexRange {
  from: number;
  to: number;
}

/** What one write does, in order: snapshot, deletions, entry puts, hard state. */
export interface WritePlan {
  snapshot: Snapshot | null;
  deletes: IndexRange[];
  entries: Entry[];
  hardState: HardState | null;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 }) as unknown as HardState;

export class StorageInvariantError extends Error {
  readonly code = 'storage_invariant';
}

/** The guards of the disk engines (LevelStorage, FileStorage): no I/O once closed. */
export function assertOpen(closed: boolean): void {
  if (closed) throw new StorageInvariantError('storage is closed');
}

/** ...and no write before load() gave the engine its view of the log. */
export function loadedShape(shape: LogShape | null, closed: boolean): LogShape {
  assertOpen(closed);
  if (!shape) throw new StorageInvariantError('load() must be called before writing');
  return shape;
}

function check(condition: boolean, message: () => string): void {
  if (!condition) throw new StorageInvariantError(message());
}

export class LogShape {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshotIndex = 0;
  snapshotTerm = 0;
  /** Index of terms[0]; always snapshotIndex + 1 (entries at or below the snapshot are never kept). */
  private firstIndex = 1;
  private terms: number[] = [];

  /** Rebuild from what load() found on disk. */
  static fromState(hardState: HardState, snapshotMeta: SnapshotMeta | null, entries: Entry[]): LogShape {
    const shape = new LogShape();
    shape.hardState = hardState;
    shape.snapshotIndex = snapshotMeta?.index ?? 0;
    shape.snapshotTerm = snapshotMeta?.term ?? 0;
    shape.firstIndex = shape.snapshotIndex + 1;
    shape.terms = entries.map((e) => e.term);
    return shape;
  }

  /** Last index held: the last stored entry, else the snapshot's index. */
  get lastIndex(): number {
    return this.firstIndex + this.terms.length - 1;
  }

  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.firstIndex || index > this.lastIndex) return undefined;
    return this.terms[index - this.firstIndex];
  }

  /** Plan (and apply to this view) one write: snapshot first, then entries, then hard state. */
  planWrite(write: StorageWrite): WritePlan {
    const deletes: IndexRange[] = [];
    if (write.snapshot) this.planSnapshot(write.snapshot, deletes);
    if (write.entries.length > 0) this.planEntries(write.entries, deletes);
    if (write.hardState) this.planHardState(write.hardState);
    return { snapshot: write.snapshot, deletes, entries: write.entries, hardState: write.hardState };
  }

  /** Plan dropping entries <= upTo; they must be covered by the stored snapshot. */
  planCompact(upTo: number): WritePlan {
    check(upTo <= this.snapshotIndex, () => `compact(${upTo}) beyond the snapshot at ${this.snapshotIndex}: entries would be lost`);
    // planSnapshot already dropped everything at or below the snapshot, so
    // there is never anything left to delete; the plan is empty but ordered
    // with the other writes.
    return { snapshot: null, deletes: [], entries: [], hardState: null };
  }

  private planSnapshot(snapshot: Snapshot, deletes: IndexRange[]): void {
    const { index, term } = snapshot.meta;
    check(Number.isSafeInteger(index) && index >= 0, () => `snapshot index ${index} is not a log index`);
    check(index >= this.snapshotIndex, () => `snapshot at ${index} is older than the stored one at ${this.snapshotIndex}`);
    const last = this.lastIndex;
    // Raft §7: if the log holds the snapshot's last entry (same index and
    // term), keep the entries after it; otherwise discard the whole log.
    const keepFrom = this.termAt(index) === term ? index + 1 : last + 1;
    if (this.firstIndex <= Math.min(keepFrom - 1, last)) {
      deletes.push({ from: this.firstIndex, to: Math.min(keepFrom - 1, last) });
    }
    this.terms = keepFrom <= last ? this.terms.slice(keepFrom - this.firstIndex) : [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.firstIndex = index + 1;
  }

  private planEntries(entries: Entry[], deletes: IndexRange[]): void {
    const first = entries[0].index;
    for (let i = 0; i < entries.length; i++) {
      check(entries[i].index === first + i, () => `entries not contiguous: ${entries[i].index} after ${first + i - 1}`);
      // Terms never decrease along a Raft log (§5.3).
      const prevTerm = i === 0 ? this.termAt(first - 1) : entries[i - 1].term;
      check(prevTerm === undefined || entries[i].term >= prevTerm, () => `entry ${entries[i].index} has term ${entries[i].term} below the previous entry's ${prevTerm}`);
    }
    check(first > this.snapshotIndex, () => `entry ${first} is at or below the snapshot at ${this.snapshotIndex}`);
    check(first <= this.lastIndex + 1, () => `entry ${first} leaves a gap after the last stored index ${this.lastIndex}`);
    // Committed entries never change (§5.4, Log Matching): rewriting one is only
    // allowed as an identical copy (same term), never as a replacement.
    for (let i = first; i <= Math.min(this.hardState.commit, this.lastIndex, first + entries.length - 1); i++) {
      const stored = this.termAt(i);
      check(stored === entries[i - first].term, () => `entry ${i} (term ${entries[i - first].term}) would replace committed entry ${i} (term ${stored}); commit index is ${this.hardState.commit}`);
    }
    const newLast = first + entries.length - 1;
    // An entry at a stored index replaces it and everything after it (§5.3):
    // puts overwrite [first, newLast]; anything beyond newLast is deleted.
    if (this.lastIndex > newLast) deletes.push({ from: newLast + 1, to: this.lastIndex });
    this.terms = this.terms.slice(0, first - this.firstIndex).concat(entries.map((e) => e.term));
  }

  private planHardState(next: HardState): void {
    const cur = this.hardState;
    check(next.term >= cur.term, () => `term would move back from ${cur.term} to ${next.term}`);
    // One vote per term (§5.2): a recorded vote is never changed within its term.
    check(next.term > cur.term || cur.vote === null || next.vote === cur.vote, () => `vote in term ${cur.term} would change from ${cur.vote} to ${next.vote}`);
    check(next.commit >= cur.commit, () => `commit would move back from ${cur.commit} to ${next.commit}`);
    // commit = min(leaderCommit, index of last new entry) (§5.3): never past the log.
    check(next.commit <= this.lastIndex, () => `commit ${next.commit} is past the last stored index ${this.lastIndex}`);
    this.hardState = { term: next.term, vote: next.vote, commit: next.commit };
  }
}
