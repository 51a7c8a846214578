// LevelStorage: Raft's durable state in LevelDB (classic-level through `level`).
//
// Every write passes { sync: true }: classic-level does not fsync otherwise,
// and Raft must persist term, vote and entries before any reply that depends
// on them (docs/safety.md #4; Raft §5.1, Figure 2 "persistent state").
// Concurrent saves are group-committed: while one synced batch is on its way
// to disk, later saves queue and then share the next batch and its one fsync.
import { Level } from 'level';
import type { Logger } from 'pino';
import type { Entry, HardState, LogIndex, PersistentState, Snapshot } from '../raft/types.js';
import type { RaftStorage, StorageWrite } from './api.js';
import { CorruptLogError } from './corrupt-log.js';
import { ENTRY_KEY_END, HARD_STATE_KEY, SNAPSHOT_KEY, entryIndexOf, entryKey } from './keys.js';
import { assertOpen, EMPTY_HARD_STATE, loadedShape, LogShape, StorageInvariantError, type WritePlan } from './log-shape.js';
import { CorruptRecordError, decodeRecord, encodeRecord } from './record.js';
import { asEntry, asHardState, asSnapshot } from './shapes.js';

/** At most this many queued saves are merged into one batch (bounds a batch's size and latency). */
export const SAVES_PER_GROUP_COMMIT_MAX = 256;

type Db = Level<Uint8Array, Uint8Array>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** Every durable write goes through here: the one place that chooses the write options. */
const SYNC = Object.freeze({ sync: true });
/** A group made only of writes that asked for no sync (commit-index-only hard states). */
const NO_SYNC = Object.freeze({ sync: false });

interface QueuedWrite {
  ops: Op[];
  sync: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LevelStorageStats {
  /** save() and compact() calls accepted. */
  writes: number;
  /** Synced LevelDB batches written for them (fewer than writes when group commit merged some). */
  syncedBatches: number;
}

export class LevelStorage implements RaftStorage {
  private shape: LogShape | null = null;
  private queue: QueuedWrite[] = [];
  private flushing: Promise<void> | null = null;
  /** A failed synced write leaves the disk state unknown; a retried fsync can report success for lost data (PostgreSQL "fsyncgate"), so we fail stop. */
  private failure: Error | null = null;
  private closed = false;
  readonly stats: LevelStorageStats = { writes: 0, syncedBatches: 0 };

  private constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<LevelStorage> {
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new LevelStorage(db, logger.child({ component: 'storage', dir }));
  }

  async load(): Promise<PersistentState> {
    this.assertUsable();
    // A flush whose last write already resolved may still be settling: let it; writes not yet made are refused.
    if (this.flushing && this.queue.length === 0) await this.flushing;
    if (this.flushing) throw new StorageInvariantError('load() while writes are in flight');
    const hardState = await this.readHardState();
    const snapshot = await this.readSnapshot();
    const snapshotIndex = snapshot?.meta.index ?? 0;
    await this.dropEntriesBelow(snapshotIndex + 1);
    const entries = await this.readEntries(snapshotIndex, snapshot?.meta.term ?? 0, hardState.commit);
    const lastIndex = snapshotIndex + entries.length;
    if (hardState.commit > lastIndex) {
      throw new CorruptLogError(lastIndex + 1, `log entry ${lastIndex + 1} is missing but the stored commit index is ${hardState.commit}: acknowledged data lost, refusing to start`);
    }
    this.shape = LogShape.fromState(hardState, snapshot?.meta ?? null, entries);
    this.log.info({ term: hardState.term, commit: hardState.commit, snapshotIndex, lastIndex }, 'storage loaded');
    return { hardState, snapshot, entries };
  }

  save(write: StorageWrite): Promise<void> {
    // Planned and encoded now, in call order: later mutation of `write` by the caller cannot change what is stored.
    return this.planned(() => this.toOps(this.requireShape().planWrite(write)), write.sync ?? true);
  }

  compact(upTo: LogIndex): Promise<void> {
    return this.planned(() => this.toOps(this.requireShape().planCompact(upTo)), true);
  }

  /** Invariant violations surface as a rejected promise, like every other failure of an async call. */
  private planned(plan: () => Op[], sync: boolean): Promise<void> {
    let ops: Op[];
    try {
      ops = plan();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(ops, sync);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.db.close();
  }

  private toOps(plan: WritePlan): Op[] {
    const ops: Op[] = [];
    if (plan.snapshot) ops.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeRecord(plan.snapshot) });
    for (const { from, to } of plan.deletes) for (let i = from; i <= to; i++) ops.push({ type: 'del', key: entryKey(i) });
    for (const entry of plan.entries) ops.push({ type: 'put', key: entryKey(entry.index), value: encodeRecord(entry) });
    if (plan.hardState) ops.push({ type: 'put', key: HARD_STATE_KEY, value: encodeRecord(plan.hardState) });
    return ops;
  }

  private enqueue(ops: Op[], sync: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.stats.writes++;
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, sync, resolve, reject });
      // Idle: write now (alone). Busy: the running flush picks this up next,
      // merged with whatever else queued meanwhile (group commit).
      this.kick();
    });
  }

  /**
   * Start a flush unless one runs. `flushing` is cleared only from the
   * promise's settlement, never from inside flush(): a flush with nothing to
   * write finishes synchronously, and clearing inside it would run before the
   * assignment here and leave `flushing` set for good (every later save hung).
   */
  private kick(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      this.kick();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, SAVES_PER_GROUP_COMMIT_MAX);
      const ops = group.flatMap((w) => w.ops);
      try {
        // LevelDB applies a batch's operations in order, so later puts and
        // deletes of the same key win: the merged batch equals the saves in sequence.
        // One write that needs a sync makes the whole group synced; an unsynced
        // write sits in LevelDB's log file, so the next synced batch covers it.
        if (ops.length > 0) {
          const sync = group.some((w) => w.sync);
          await this.db.batch(ops, sync ? SYNC : NO_SYNC);
          if (sync) this.stats.syncedBatches++;
        }
      } catch (err) {
        this.failure = new Error(`synced write failed; storage is unusable until restart: ${(err as Error).message}`, { cause: err });
        this.log.error({ err }, 'synced write failed');
        for (const w of [...group, ...this.queue.splice(0)]) w.reject(this.failure);
        return;
      }
      for (const w of group) w.resolve();
    }
  }

  private async readHardState(): Promise<HardState> {
    const raw = await this.db.get(HARD_STATE_KEY);
    if (raw === undefined) return { ...EMPTY_HARD_STATE };
    try {
      return asHardState(decodeRecord(raw));
    } catch (err) {
      throw new CorruptLogError(0, `hard state record is corrupt (${(err as Error).message}): refusing to start`);
    }
  }

  private async readSnapshot(): Promise<Snapshot | null> {
    const raw = await this.db.get(SNAPSHOT_KEY);
    if (raw === undefined) return null;
    try {
      return asSnapshot(decodeRecord(raw));
    } catch (err) {
      throw new CorruptLogError(0, `snapshot record is corrupt (${(err as Error).message}): refusing to start`);
    }
  }

  /**
   * Entries after the snapshot, verified. A damaged or missing entry above the
   * commit index is a torn tail: the write that produced it never completed
   * its sync, so nothing was acknowledged on it; it and everything after it
   * are deleted (logged). At or below the commit index it is acknowledged
   * data: throw, naming the index.
   */
  private async readEntries(snapshotIndex: number, snapshotTerm: number, commit: number): Promise<Entry[]> {
    const entries: Entry[] = [];
    let expected = snapshotIndex + 1;
    let prevTerm = snapshotTerm;
    let tornFrom: number | null = null;
    let reason = '';
    for await (const [key, value] of this.db.iterator({ gte: entryKey(expected), lt: ENTRY_KEY_END })) {
      const index = entryIndexOf(key);
      let problem: string | null = null;
      let entry: Entry | null = null;
      if (index !== expected) {
        problem = `entry ${expected} missing (next stored key ${index ?? 'unparseable'})`;
      } else {
        try {
          entry = asEntry(decodeRecord(value), index);
          if (entry.term < prevTerm) problem = `entry ${index} has term ${entry.term} below the previous ${prevTerm}`;
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          problem = err.message;
        }
      }
      if (problem !== null) {
        if (expected <= commit) {
          throw new CorruptLogError(expected, `log entry ${expected} is corrupt or missing at or below the commit index ${commit} (${problem}): acknowledged data, refusing to repair`);
        }
        tornFrom = expected;
        reason = problem;
        break;
      }
      entries.push(entry!);
      prevTerm = entry!.term;
      expected++;
    }
    if (tornFrom !== null) await this.truncateFrom(tornFrom, reason);
    return entries;
  }

  private async truncateFrom(fromIndex: number, reason: string): Promise<void> {
    const ops: Op[] = [];
    let toIndex = fromIndex;
    for await (const key of this.db.keys({ gte: entryKey(fromIndex), lt: ENTRY_KEY_END })) {
      ops.push({ type: 'del', key });
      toIndex = entryIndexOf(key) ?? toIndex;
    }
    this.log.warn({ fromIndex, toIndex, deleted: ops.length, reason }, `torn log tail: truncating entries ${fromIndex}..${toIndex}`);
    await this.db.batch(ops, SYNC);
  }

  /** Entries at or below the snapshot are covered by it; a crash can't leave any (they go in the snapshot's batch), but drop strays. */
  private async dropEntriesBelow(index: number): Promise<void> {
    const ops: Op[] = [];
    for await (const key of this.db.keys({ gte: entryKey(0), lt: entryKey(index) })) ops.push({ type: 'del', key });
    if (ops.length === 0) return;
    this.log.info({ belowIndex: index, deleted: ops.length }, 'dropping entries covered by the snapshot');
    await this.db.batch(ops, SYNC);
  }

  private requireShape(): LogShape {
    return loadedShape(this.shape, this.closed);
  }

  private assertUsable(): void {
    assertOpen(this.closed);
  }
}
