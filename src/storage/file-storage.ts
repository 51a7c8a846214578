// FileStorage: Raft's durable state as an append-only log of records (a
// write-ahead log in segment files) beside snapshot files, written with
// write(2) and fdatasync(2) on the event loop's own thread.
//
// Why not LevelDB (LevelStorage, the other engine): on this project's test
// machine a synced LevelDB batch of three entries costs ~300 µs and ~180 µs of
// CPU, most of it handing the write to libuv's thread pool and back; a
// positioned write into a zero-filled file plus fdatasync costs ~135 µs and
// ~37 µs of CPU (issue 12). A blocking fdatasync holds the event loop for that
// time, so a flush runs from setImmediate: after this turn's I/O callbacks and
// after the transport's pump (scheduled earlier in the same turn), so a
// leader's Appends are on the wire before its own sync starts and the two
// syncs, the leader's and the followers', run side by side. Saves made in one
// turn share one flush and one sync (group commit).
//
// The directory holds:
//   wal-<seq, 16 hex>.log     segments: records back to back, then zeros. Each
//                             is zero-filled to SEGMENT_BYTES when made, so an
//                             fdatasync does not also have to grow the file.
//   snap-<index, 16 hex>.snap one snapshot (record.ts format), written to .tmp,
//                             synced, renamed, and the directory synced.
// A record is [u32 big-endian body length][body: record.ts, crc32 + msgpack]
// and its payload is one save: { s: snapshot meta, e: entries, h: hard state },
// each optional. Replay plans every record with LogShape, in order, so a
// record means exactly what the same save means to every other storage. A
// record with c: true (a checkpoint: the snapshot's meta, every entry after it
// and the hard state) starts the state anew; it heads each new segment, so
// the segments before it can be deleted.
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory } from '../make-dir.js';
import type { Logger } from 'pino';
import type { Entry, HardState, LogIndex, PersistentState, Snapshot, SnapshotMeta } from '../raft/types.js';
import type { RaftStorage, StorageWrite } from './api.js';
import { CorruptLogError } from './corrupt-log.js';
import { assertOpen, EMPTY_HARD_STATE, loadedShape, LogShape, StorageInvariantError, type WritePlan } from './log-shape.js';
import { CorruptRecordError, decodeRecord, encodeFramedRecord, encodeRecord, FRAME_LENGTH_BYTES } from './record.js';
import { asEntry, asHardState, asSnapshot } from './shapes.js';

/** Bytes each segment is zero-filled to when made (a segment outgrowing it still works, its syncs just also grow the file). */
export const SEGMENT_BYTES = 4 * 1024 * 1024;
/** When a snapshot is stored and the segment holds at least this much, a new segment headed by a checkpoint replaces it. */
export const SEGMENT_ROLL_BYTES = 1024 * 1024;
/** A record longer than this is not one we wrote: bounds what a damaged length field can make load() read. */
export const RECORD_BYTES_MAX = 512 * 1024 * 1024;
const ZERO_CHUNK_BYTES = 256 * 1024;
/** A segment's file name; its presence says a directory holds this engine's log (open-storage.ts). */
export const SEGMENT_NAME = /^wal-([0-9a-f]{16})\.log$/;
const SNAPSHOT_NAME = /^snap-([0-9a-f]{16})\.snap$/;
const EMPTY_DATA = new Uint8Array(0);

/** One record's payload: one save, or (c) a checkpoint of the whole state after the snapshot. */
interface WalPayload {
  c?: true;
  s?: SnapshotMeta;
  e?: Entry[];
  h?: HardState;
}

interface QueuedWrite {
  /** The record (length-prefixed), or null for a write with nothing to store (compact). */
  record: Buffer | null;
  /** The snapshot file's bytes and index, when the write stores a snapshot. */
  snapshot: { index: number; bytes: Uint8Array } | null;
  sync: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface OpenSegment {
  seq: number;
  fd: number;
  /** Where the next record goes: the end of the last good record. */
  offset: number;
}

/** Sizes, for tests that need segments to roll after a few records. */
export interface FileStorageOptions {
  segmentBytes?: number;
  rollBytes?: number;
}

export interface FileStorageStats {
  /** save() and compact() calls accepted. */
  writes: number;
  /** fdatasync calls for them (fewer than writes when saves shared a flush). */
  syncs: number;
  /** New segments begun with a checkpoint. */
  rolls: number;
}

type ReadResult = { kind: 'end' } | { kind: 'record'; payload: WalPayload; next: number } | { kind: 'bad'; reason: string };

export class FileStorage implements RaftStorage {
  private shape: LogShape | null = null;
  /** Entries after the snapshot, by index, as planned so far: what a checkpoint writes out. */
  private readonly live = new Map<number, Entry>();
  private snapshotMeta: SnapshotMeta | null = null;
  private segment: OpenSegment | null = null;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  /** A failed write or sync leaves the disk state unknown; a retried fsync can report success for lost data (PostgreSQL "fsyncgate"), so we fail stop. */
  private failure: Error | null = null;
  private closed = false;
  readonly stats: FileStorageStats = { writes: 0, syncs: 0, rolls: 0 };

  private readonly segmentBytes: number;
  private readonly rollBytes: number;

  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
    options: FileStorageOptions,
  ) {
    this.segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
    this.rollBytes = options.rollBytes ?? SEGMENT_ROLL_BYTES;
  }

  static async open(dir: string, logger: Logger, options: FileStorageOptions = {}): Promise<FileStorage> {
    makeDirectory(dir);
    return new FileStorage(dir, logger.child({ component: 'storage', dir }), options);
  }

  async load(): Promise<PersistentState> {
    this.assertUsable();
    // A second load (a restore writes a snapshot, then the node loads) reads the files anew.
    if (this.queue.length > 0) throw new StorageInvariantError('load() while writes are pending');
    if (this.segment !== null) closeSync(this.segment.fd);
    this.segment = null;
    this.shape = null;
    this.live.clear();
    this.snapshotMeta = null;
    this.removeFiles((name) => name.endsWith('.tmp')); // an unfinished segment or snapshot: never referenced
    const seqs = readdirSync(this.dir).flatMap((n) => (SEGMENT_NAME.test(n) ? [parseInt(SEGMENT_NAME.exec(n)![1], 16)] : [])).sort((a, b) => a - b);
    let shape = new LogShape();
    let lastCheckpointSeq: number | null = null;
    let tail: OpenSegment | null = null;
    for (let k = 0; k < seqs.length; k++) {
      const seq = seqs[k];
      const path = join(this.dir, segmentName(seq));
      const bytes = readFileSync(path);
      let offset = 0;
      for (;;) {
        const read = readRecord(bytes, offset);
        if (read.kind === 'end') break;
        if (read.kind === 'bad') {
          // A torn tail is the end of the log: the write a crash cut short, with nothing
          // whole after it. A bad record in an earlier segment, or one followed by a good
          // record, is damage to data that was synced, maybe acknowledged: refuse.
          const after = k < seqs.length - 1 ? `later segments follow it` : wholeRecordAfter(bytes, offset) ? 'a whole record follows it' : null;
          if (after !== null) throw new CorruptLogError(shape.lastIndex + 1, `${segmentName(seq)} is damaged at byte ${offset} (${read.reason}) and ${after}: refusing to start`);
          break;
        }
        try {
          if (read.payload.c) {
            shape = this.replayCheckpoint(read.payload);
            lastCheckpointSeq = seq;
          } else {
            this.replaySave(shape, read.payload);
          }
        } catch (err) {
          if (!(err instanceof StorageInvariantError)) throw err;
          throw new CorruptLogError(shape.lastIndex + 1, `${segmentName(seq)} at byte ${offset} holds a write that breaks the log's rules (${err.message}): refusing to start`);
        }
        offset = read.next;
      }
      if (k === seqs.length - 1) {
        this.zeroTornTail(path, bytes, offset);
        tail = { seq, fd: openSync(path, 'r+'), offset };
      }
    }
    const snapshot = this.snapshotMeta === null ? null : this.readSnapshot(this.snapshotMeta);
    const entries = this.liveEntries(shape);
    if (shape.hardState.commit > shape.lastIndex) {
      throw new CorruptLogError(shape.lastIndex + 1, `log entry ${shape.lastIndex + 1} is missing but the stored commit index is ${shape.hardState.commit}: acknowledged data lost, refusing to start`);
    }
    this.segment = tail ?? this.createSegment(1);
    this.shape = shape;
    this.dropUnreferenced(lastCheckpointSeq);
    const hardState = shape.hardState;
    this.log.info({ term: hardState.term, commit: hardState.commit, snapshotIndex: shape.snapshotIndex, lastIndex: shape.lastIndex, segment: this.segment.seq }, 'storage loaded');
    return { hardState: { ...hardState }, snapshot, entries };
  }

  save(write: StorageWrite): Promise<void> {
    let queued: Omit<QueuedWrite, 'resolve' | 'reject'>;
    try {
      // Encoded, then planned, now and in call order: later mutation of `write` by the caller
      // cannot change what is stored, and a write that cannot be encoded plans nothing.
      const payload: WalPayload = {};
      if (write.snapshot) payload.s = write.snapshot.meta;
      if (write.entries.length > 0) payload.e = write.entries;
      if (write.hardState) payload.h = write.hardState;
      queued = {
        record: encodeFramedRecord(payload),
        snapshot: write.snapshot ? { index: write.snapshot.meta.index, bytes: encodeRecord(write.snapshot) } : null,
        // A snapshot's record must be durable before older snapshot files go.
        sync: (write.sync ?? true) || write.snapshot !== null,
      };
      this.applyToLive(this.requireShape().planWrite(write));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(queued);
  }

  compact(upTo: LogIndex): Promise<void> {
    try {
      this.requireShape().planCompact(upTo);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue({ record: null, snapshot: null, sync: false });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.segment) closeSync(this.segment.fd);
    this.segment = null;
  }

  private enqueue(w: Omit<QueuedWrite, 'resolve' | 'reject'>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.stats.writes++;
    return new Promise((resolve, reject) => {
      this.queue.push({ ...w, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Write every queued save: snapshot files first, then the records in one write, then one sync if any asked for it. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.queue.length === 0) return;
    const group = this.queue.splice(0);
    if (this.failure) {
      for (const w of group) w.reject(this.failure);
      return;
    }
    let stored: number | null = null;
    try {
      const segment = this.segment!;
      for (const w of group) {
        if (w.snapshot) {
          this.writeSnapshotFile(w.snapshot.index, w.snapshot.bytes);
          stored = w.snapshot.index;
        }
      }
      const records = group.flatMap((w) => (w.record ? [w.record] : []));
      if (records.length > 0) {
        const bytes = records.length === 1 ? records[0] : Buffer.concat(records);
        writeAll(segment.fd, bytes, segment.offset);
        segment.offset += bytes.length;
      }
      if (group.some((w) => w.sync)) {
        fdatasyncSync(segment.fd);
        this.stats.syncs++;
      }
      if (stored !== null) this.afterSnapshotStored(stored);
    } catch (err) {
      this.failure = new Error(`write to the log failed; storage is unusable until restart: ${(err as Error).message}`, { cause: err });
      this.log.error({ err }, 'log write failed');
      for (const w of [...group, ...this.queue.splice(0)]) w.reject(this.failure);
      return;
    }
    for (const w of group) w.resolve();
  }

  /** The snapshot's record is durable: older snapshot files are no longer referenced; a full segment is replaced. */
  private afterSnapshotStored(index: number): void {
    this.removeSnapshotFilesExcept(index);
    if (this.segment!.offset >= this.rollBytes) this.roll();
  }

  /** A new segment headed by a checkpoint of everything after the snapshot; once it is durable the older segments go. */
  private roll(): void {
    const old = this.segment!;
    const next = this.createSegment(old.seq + 1);
    const shape = this.shape!;
    const checkpoint: WalPayload = { c: true, e: this.liveEntries(shape), h: shape.hardState };
    if (this.snapshotMeta) checkpoint.s = this.snapshotMeta;
    const bytes = encodeFramedRecord(checkpoint);
    writeAll(next.fd, bytes, 0);
    next.offset = bytes.length;
    fdatasyncSync(next.fd);
    this.segment = next;
    closeSync(old.fd);
    this.removeSegmentsBefore(next.seq);
    this.stats.rolls++;
    this.log.debug({ segment: next.seq, checkpointBytes: bytes.length }, 'log segment rolled');
  }

  private replayCheckpoint(p: WalPayload): LogShape {
    const entries = p.e ?? [];
    const from = (p.s?.index ?? 0) + 1;
    entries.forEach((e, i) => {
      if (e.index !== from + i) throw new StorageInvariantError(`checkpoint entries not contiguous after ${from - 1}`);
    });
    this.live.clear();
    for (const e of entries) this.live.set(e.index, e);
    this.snapshotMeta = p.s ?? null;
    return LogShape.fromState(p.h ?? { ...EMPTY_HARD_STATE }, p.s ?? null, entries);
  }

  private replaySave(shape: LogShape, p: WalPayload): void {
    const plan = shape.planWrite({ hardState: p.h ?? null, entries: p.e ?? [], snapshot: p.s ? { meta: p.s, data: EMPTY_DATA } : null });
    this.applyToLive(plan);
  }

  private applyToLive(plan: WritePlan): void {
    if (plan.snapshot) this.snapshotMeta = plan.snapshot.meta;
    for (const { from, to } of plan.deletes) for (let i = from; i <= to; i++) this.live.delete(i);
    for (const e of plan.entries) this.live.set(e.index, e);
  }

  private liveEntries(shape: LogShape): Entry[] {
    const out: Entry[] = [];
    for (let i = shape.snapshotIndex + 1; i <= shape.lastIndex; i++) {
      const e = this.live.get(i);
      if (e === undefined) throw new StorageInvariantError(`entry ${i} missing from the log's live entries`);
      out.push(e);
    }
    return out;
  }

  private readSnapshot(meta: SnapshotMeta): Snapshot {
    const name = snapshotName(meta.index);
    let snapshot: Snapshot;
    try {
      snapshot = asSnapshot(decodeRecord(readFileSync(join(this.dir, name))));
    } catch (err) {
      throw new CorruptLogError(0, `snapshot file ${name} is missing or corrupt (${(err as Error).message}): refusing to start`);
    }
    if (snapshot.meta.index !== meta.index || snapshot.meta.term !== meta.term) {
      throw new CorruptLogError(0, `snapshot file ${name} holds index ${snapshot.meta.index} term ${snapshot.meta.term}, the log says ${meta.index} term ${meta.term}: refusing to start`);
    }
    return snapshot;
  }

  /**
   * Bytes after the last good record of the last segment belong to a write
   * whose sync never finished (nothing was acknowledged on them). They are
   * zeroed, not just skipped: a later, shorter record written over them must
   * not leave the rest of an older one to be read back after it.
   */
  private zeroTornTail(path: string, bytes: Buffer, from: number): void {
    let dirty = from;
    while (dirty < bytes.length && bytes[dirty] === 0) dirty++;
    if (dirty === bytes.length) return;
    const fd = openSync(path, 'r+');
    try {
      for (let at = from; at < bytes.length; at += ZERO_CHUNK_BYTES) writeAll(fd, Buffer.alloc(Math.min(ZERO_CHUNK_BYTES, bytes.length - at)), at);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.log.warn({ file: path, fromByte: from, bytes: bytes.length - from }, 'torn log tail (a write cut short by a crash): zeroed');
  }

  /** A zero-filled segment, made under a temporary name and renamed once synced, so a half-made one is never read. */
  private createSegment(seq: number): OpenSegment {
    const path = join(this.dir, segmentName(seq));
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w+');
    const zeros = Buffer.alloc(ZERO_CHUNK_BYTES);
    for (let at = 0; at < this.segmentBytes; at += ZERO_CHUNK_BYTES) writeAll(fd, zeros.subarray(0, Math.min(ZERO_CHUNK_BYTES, this.segmentBytes - at)), at);
    fsyncSync(fd);
    renameSync(tmp, path);
    syncDirectory(this.dir);
    return { seq, fd, offset: 0 };
  }

  private writeSnapshotFile(index: number, bytes: Uint8Array): void {
    const path = join(this.dir, snapshotName(index));
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, bytes, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDirectory(this.dir);
  }

  private removeSnapshotFilesExcept(index: number | null): void {
    const keep = index === null ? null : snapshotName(index);
    this.removeFiles((name) => SNAPSHOT_NAME.test(name) && name !== keep);
  }

  private removeSegmentsBefore(seq: number): void {
    this.removeFiles((name) => {
      const m = SEGMENT_NAME.exec(name);
      return m !== null && parseInt(m[1], 16) < seq;
    });
  }

  /** Unlink the directory's files that `match`, then sync the directory so the removals last. */
  private removeFiles(match: (name: string) => boolean): void {
    let removed = false;
    for (const name of readdirSync(this.dir)) {
      if (!match(name)) continue;
      unlinkSync(join(this.dir, name));
      removed = true;
    }
    if (removed) syncDirectory(this.dir);
  }

  /** After load: segments before the last checkpoint, and snapshot files the log does not name, are leftovers of a crash. */
  private dropUnreferenced(lastCheckpointSeq: number | null): void {
    if (lastCheckpointSeq !== null) this.removeSegmentsBefore(lastCheckpointSeq);
    this.removeSnapshotFilesExcept(this.snapshotMeta?.index ?? null);
  }

  private requireShape(): LogShape {
    return loadedShape(this.shape, this.closed);
  }

  private assertUsable(): void {
    assertOpen(this.closed);
  }
}

function segmentName(seq: number): string {
  return `wal-${seq.toString(16).padStart(16, '0')}.log`;
}

function snapshotName(index: number): string {
  return `snap-${index.toString(16).padStart(16, '0')}.snap`;
}

function readRecord(bytes: Buffer, offset: number): ReadResult {
  if (offset + FRAME_LENGTH_BYTES > bytes.length) return { kind: 'end' };
  const length = bytes.readUInt32BE(offset);
  if (length === 0) return { kind: 'end' };
  const start = offset + FRAME_LENGTH_BYTES;
  if (length > RECORD_BYTES_MAX || start + length > bytes.length) return { kind: 'bad', reason: `record length ${length} runs past the end of the file` };
  try {
    return { kind: 'record', payload: asPayload(decodeRecord(bytes.subarray(start, start + length))), next: start + length };
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
    return { kind: 'bad', reason: err.message };
  }
}

/** Whether the record after a bad one (by the bad one's own length field) reads whole: the damage is not at the end. */
function wholeRecordAfter(bytes: Buffer, offset: number): boolean {
  if (offset + FRAME_LENGTH_BYTES > bytes.length) return false;
  const next = offset + FRAME_LENGTH_BYTES + bytes.readUInt32BE(offset);
  return next < bytes.length && readRecord(bytes, next).kind === 'record';
}

function asPayload(v: unknown): WalPayload {
  if (typeof v !== 'object' || v === null) throw new CorruptRecordError('log record is not a map');
  const p = v as Record<string, unknown>;
  const out: WalPayload = {};
  if (p.c !== undefined) {
    if (p.c !== true) throw new CorruptRecordError('log record has a bad checkpoint flag');
    out.c = true;
  }
  if (p.s !== undefined) out.s = asSnapshot({ meta: p.s, data: EMPTY_DATA }).meta;
  if (p.e !== undefined) {
    if (!Array.isArray(p.e)) throw new CorruptRecordError('log record entries are not a list');
    out.e = p.e.map((e: unknown) => asEntry(e, (e as { index?: number } | null)?.index ?? -1));
  }
  if (p.h !== undefined) out.h = asHardState(p.h);
  return out;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
