// The in-memory Raft log: entries after a compaction point (baseIndex,
// baseTerm), the commit index, and the bookkeeping that decides what the
// caller must persist and apply next (etcd-io/raft log.go + log_unstable.go,
// collapsed into one structure since the core holds the whole uncompacted log).

import { invariant } from './assert.js';
import type { Entry, LogIndex, Snapshot, Term } from './types.js';
import { logIndex, term as toTerm } from './types.js';

export class RaftLog {
  // Every field is private: only the methods below move them, so the invariants stated here
  // (contiguity, commit never decreasing, applied <= commit, nothing compacted unapplied) have one owner.
  /** Index of the entry just before entries[0] (0, or the compaction point). */
  #baseIndex: LogIndex;
  /** Term of the entry at baseIndex (0 when baseIndex is 0). */
  #baseTerm: Term;
  #entries: Entry[];
  /** Highest index known committed. Never decreases. */
  #commit: LogIndex;
  /** Highest index the caller has applied (acknowledged through advance). */
  #applied: LogIndex;
  /** Highest index handed out in Ready.committedEntries (or restored from a snapshot in a Ready). */
  #appliedHandedOut: LogIndex;
  /** First index not yet handed out in Ready.entries. */
  #unstableFrom: LogIndex;
  /**
   * Highest index durably stored (acknowledged through advance). The leader
   * counts its own copy towards commit only up to here (docs/safety.md #4).
   */
  #persistedIndex: LogIndex;
  /** Latest snapshot known (installed from a leader, restored, or given to compact). */
  #snapshot: Snapshot | null;
  /** A snapshot received from the leader that the caller has not yet been handed. */
  #pendingSnapshot: Snapshot | null = null;

  constructor(snapshot: Snapshot | null, entries: Entry[], commit: LogIndex) {
    this.#snapshot = snapshot;
    this.#baseIndex = snapshot ? snapshot.meta.index : logIndex(0);
    this.#baseTerm = snapshot ? snapshot.meta.term : toTerm(0);
    // Storage may retain entries at or before the snapshot (retainEntries); they are covered by it.
    this.#entries = entries.filter((e) => e.index > this.#baseIndex);
    for (let i = 0; i < this.#entries.length; i++) {
      invariant(
        this.#entries[i].index === this.#baseIndex + i + 1,
        () => `persisted log is not contiguous at index ${this.#entries[i].index} (base ${this.#baseIndex})`,
      );
    }
    invariant(commit >= this.#baseIndex, `persisted commit ${commit} is below the snapshot index ${this.#baseIndex}`);
    invariant(commit <= this.lastIndex(), `persisted commit ${commit} is beyond the last index ${this.lastIndex()}`);
    this.#commit = commit;
    // The state machine restarts from the snapshot and replays committed entries after it.
    this.#applied = this.#baseIndex;
    this.#appliedHandedOut = this.#baseIndex;
    this.#unstableFrom = logIndex(this.lastIndex() + 1);
    this.#persistedIndex = this.lastIndex();
  }

  /** Index of the entry just before the first retained one (0, or the compaction point). */
  get baseIndex(): LogIndex {
    return this.#baseIndex;
  }

  /** Highest index known committed. */
  get commit(): LogIndex {
    return this.#commit;
  }

  /** Highest index the caller has applied (acknowledged through advance). */
  get applied(): LogIndex {
    return this.#applied;
  }

  /** Highest index durably stored, as acknowledged through advance (docs/safety.md #4). */
  get persistedIndex(): LogIndex {
    return this.#persistedIndex;
  }

  /** Latest snapshot known (installed from a leader, restored, or given to compact). */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  firstIndex(): LogIndex {
    return logIndex(this.#baseIndex + 1);
  }

  lastIndex(): LogIndex {
    return logIndex(this.#baseIndex + this.#entries.length);
  }

  lastTerm(): Term {
    return this.term(this.lastIndex()) as Term;
  }

  /** Term of the entry at `index`, or undefined if compacted away or beyond the end. */
  term(index: number): Term | undefined {
    if (index === this.#baseIndex) return this.#baseTerm;
    if (index < this.#baseIndex || index > this.lastIndex()) return undefined;
    return this.#entries[index - this.#baseIndex - 1].term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.#baseIndex || index > this.lastIndex()) return undefined;
    return this.#entries[index - this.#baseIndex - 1];
  }

  matchTerm(index: number, t: Term): boolean {
    return this.term(index) === t;
  }

  /** Entries in [lo, hi). lo must not be compacted. */
  slice(lo: number, hi: number): Entry[] {
    invariant(lo > this.#baseIndex, () => `slice from ${lo} reaches into the compacted log (base ${this.#baseIndex})`);
    const from = lo - this.#baseIndex - 1;
    const to = Math.min(hi, this.lastIndex() + 1) - this.#baseIndex - 1;
    return from >= to ? [] : this.#entries.slice(from, to);
  }

  /** Raft §5.4.1: is a log ending at (index, t) at least as up to date as ours? */
  isUpToDate(index: LogIndex, t: Term): boolean {
    return this.compareWithLast(index, t) >= 0;
  }

  /** Is a log ending at (index, t) strictly more up to date than ours? */
  isNewer(index: LogIndex, t: Term): boolean {
    return this.compareWithLast(index, t) > 0;
  }

  /** Raft §5.4.1's order of logs: last term first, then last index. Positive: (index, t) ends a newer log than ours. */
  private compareWithLast(index: LogIndex, t: Term): number {
    const lastTerm = this.lastTerm();
    return t !== lastTerm ? t - lastTerm : index - this.lastIndex();
  }

  /**
   * The first entry of `ents` that is missing here or conflicts (same index,
   * other term); 0 if all are present. Only such an entry may truncate
   * (docs/safety.md #6: a stale or reordered Append never truncates).
   */
  findConflict(ents: Entry[]): LogIndex {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return logIndex(0);
  }

  /**
   * Fast backtracking (etcd-io/raft findConflictByTerm): the largest index
   * <= `index` whose term is <= `t`. Below the compaction point the term is
   * unknown and the index itself is returned.
   */
  findConflictByTerm(index: LogIndex, t: Term): LogIndex {
    let i = Math.min(index, this.lastIndex());
    while (i > this.#baseIndex) {
      const ti = this.term(i) as Term;
      if (ti <= t) break;
      i--;
    }
    return logIndex(i);
  }

  /**
   * Append `ents`, which must follow on from index ents[0].index-1 that is
   * present; entries from ents[0].index onward are replaced. Returns true if
   * anything was truncated.
   */
  append(ents: Entry[]): boolean {
    if (ents.length === 0) return false;
    const first = ents[0].index;
    invariant(first > this.#commit, () => `refusing to truncate committed entries: append at ${first} <= commit ${this.#commit}`);
    invariant(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after last index ${this.lastIndex()}`);
    for (let i = 1; i < ents.length; i++) {
      invariant(ents[i].index === first + i, 'appended entries are not contiguous');
    }
    const truncated = first <= this.lastIndex();
    this.#entries.length = first - this.#baseIndex - 1;
    for (const e of ents) this.#entries.push(e);
    if (first < this.#unstableFrom) this.#unstableFrom = first;
    // What is on disk at and after `first` is about to be replaced: not durable as far as we know.
    if (first <= this.#persistedIndex) this.#persistedIndex = logIndex(first - 1);
    return truncated;
  }

  commitTo(index: LogIndex): boolean {
    if (index <= this.#commit) return false;
    invariant(index <= this.lastIndex(), () => `commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.#commit = index;
    return true;
  }

  /** Is anything waiting for the next Ready: entries to persist, a snapshot to restore, entries to apply? */
  hasReady(): boolean {
    return this.#unstableFrom <= this.lastIndex() || this.#pendingSnapshot !== null || this.#commit > this.#appliedHandedOut;
  }

  /**
   * What the next Ready carries from the log, marked as handed out: the entries to persist, the
   * snapshot to restore, and at most `maxCommitted` committed entries to apply.
   */
  takeReady(maxCommitted: number): { entries: Entry[]; snapshot: Snapshot | null; committedEntries: Entry[] } {
    const last = this.lastIndex();
    const entries = this.#unstableFrom > last ? [] : this.slice(this.#unstableFrom, last + 1);
    const snapshot = this.#pendingSnapshot;
    const lo = this.#appliedHandedOut + 1;
    const hi = Math.min(this.#commit, lo + maxCommitted - 1);
    const committedEntries = hi < lo ? [] : this.slice(lo, hi + 1);
    this.#unstableFrom = logIndex(last + 1);
    this.#pendingSnapshot = null;
    if (committedEntries.length > 0) this.#appliedHandedOut = committedEntries[committedEntries.length - 1].index;
    return { entries, snapshot, committedEntries };
  }

  /** The caller has durably stored and applied what a Ready handed out by takeReady carried. */
  acknowledge(rd: { entries: Entry[]; snapshot: Snapshot | null; committedEntries: Entry[] }): void {
    if (rd.snapshot !== null) {
      const si = rd.snapshot.meta.index;
      if (si > this.#applied) this.#applied = si;
      if (this.matchTerm(si, rd.snapshot.meta.term) && si > this.#persistedIndex) this.#persistedIndex = si;
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      // If the last persisted entry is still ours (same index and term), so is everything before it (§5.3
      // log matching); if it was truncated meanwhile, its replacement is in a later Ready.
      if (this.matchTerm(last.index, last.term) && last.index > this.#persistedIndex) this.#persistedIndex = last.index;
    }
    if (rd.committedEntries.length > 0) {
      const appliedIndex = rd.committedEntries[rd.committedEntries.length - 1].index;
      if (appliedIndex > this.#applied) this.#applied = appliedIndex;
    }
    invariant(this.#applied <= this.#commit, () => `applied ${this.#applied} > commit ${this.#commit}`);
  }

  /** Remember a snapshot the caller took, unless a newer one is already known. */
  keepSnapshot(snapshot: Snapshot): void {
    if (this.#snapshot === null || snapshot.meta.index > this.#snapshot.meta.index) this.#snapshot = snapshot;
  }

  /** Discard entries up to and including `index` (must be applied; keeps its term as the base). */
  compactTo(index: LogIndex): void {
    if (index <= this.#baseIndex) return;
    invariant(index <= this.#applied, () => `cannot compact to ${index}: only ${this.#applied} applied`);
    const t = this.term(index) as Term;
    this.#entries = this.#entries.slice(index - this.#baseIndex);
    this.#baseIndex = index;
    this.#baseTerm = t;
    if (this.#unstableFrom <= index) this.#unstableFrom = logIndex(index + 1);
  }

  /**
   * Install a snapshot from the leader (Raft §7): entries after it are kept
   * if the log has the snapshot's last entry, else the log is discarded.
   */
  restore(snapshot: Snapshot): void {
    const { index, term: t } = snapshot.meta;
    invariant(index > this.#commit, () => `snapshot at ${index} would roll back commit ${this.#commit}`);
    const keep = this.matchTerm(index, t) ? this.#entries.slice(index - this.#baseIndex) : [];
    this.#entries = keep;
    this.#baseIndex = index;
    this.#baseTerm = t;
    this.#snapshot = snapshot;
    this.#pendingSnapshot = snapshot;
    this.#commit = index;
    this.#appliedHandedOut = index;
    // Storage replaces its log with the snapshot; re-persist the retained suffix after it.
    this.#unstableFrom = logIndex(index + 1);
    this.#persistedIndex = logIndex(Math.min(this.#persistedIndex, index));
  }
}
