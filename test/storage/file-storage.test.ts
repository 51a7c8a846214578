// FileStorage specifics (the shared behaviour is test/storage/contract.test.ts):
// saves of one turn share one sync, segments roll behind snapshots and the old
// ones go, a torn tail is zeroed and the log goes on, damage to synced data is
// refused, leftovers of a crash are cleared, a failed write fails stop.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIndex } from '../../src/raft/types.js';
import type { StorageWrite } from '../../src/storage/api.js';
import { CorruptLogError } from '../../src/storage/corrupt-log.js';
import { FileStorage, type FileStorageOptions } from '../../src/storage/file-storage.js';
import { encodeFramedRecord } from '../../src/storage/record.js';
import { captureLog, hs, normal, run, snap, tempDir } from './helpers.js';

const NONE: StorageWrite = { hardState: null, entries: [], snapshot: null };
const w = (p: Partial<StorageWrite>): StorageWrite => ({ ...NONE, ...p });
const silent = pino({ level: 'silent' });
/** Small segments, so that a few records make one roll. */
const SMALL: FileStorageOptions = { segmentBytes: 64 * 1024, rollBytes: 2 * 1024 };

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openLoaded(options: FileStorageOptions = {}, logger = silent): Promise<FileStorage> {
  const s = await FileStorage.open(dir, logger, options);
  await s.load();
  return s;
}

const segments = (): string[] => readdirSync(dir).filter((n) => n.startsWith('wal-')).sort();
const snapshots = (): string[] => readdirSync(dir).filter((n) => n.startsWith('snap-')).sort();
const lastSegment = (): string => join(dir, segments().at(-1)!);

/** Byte offset where the written records of a segment end (the first zero length). */
function writtenEnd(path: string): number {
  const bytes = readFileSync(path);
  let at = 0;
  while (at + 4 <= bytes.length && bytes.readUInt32BE(at) !== 0) at += 4 + bytes.readUInt32BE(at);
  return at;
}

function overwrite(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

async function seed(lastIndex: number, commit: number, options: FileStorageOptions = {}): Promise<void> {
  const s = await openLoaded(options);
  for (let i = 1; i <= lastIndex; i++) await s.save(w({ entries: [normal(i, 1)], hardState: hs(1, 'n1', Math.min(i, commit)) }));
  await s.close();
}

describe('group commit', () => {
  it('saves made in one turn share one write and one sync, and resolve only after it', async () => {
    const s = await openLoaded();
    const order: string[] = [];
    const saves = [1, 2, 3].map((i) => s.save(w({ entries: [normal(i, 1)] })).then(() => order.push(`saved ${i}`)));
    const commitOnly = s.save(w({ hardState: hs(1, null, 3), sync: false })).then(() => order.push('commit'));
    expect(order).toEqual([]);
    await Promise.all([...saves, commitOnly]);
    expect(order).toEqual(['saved 1', 'saved 2', 'saved 3', 'commit']);
    expect(s.stats).toMatchObject({ writes: 4, syncs: 1 });
    await s.close();
  });

  it('a turn of unsynced writes only (commit index moves) writes without a sync, and the next synced write covers it', async () => {
    await seed(3, 1);
    const s = await openLoaded();
    await s.save(w({ hardState: hs(1, 'n1', 3), sync: false }));
    expect(s.stats.syncs).toBe(0);
    await s.save(w({ entries: [normal(4, 1)] }));
    expect(s.stats.syncs).toBe(1);
    await s.close();
    const back = await FileStorage.open(dir, silent);
    expect((await back.load()).hardState).toEqual(hs(1, 'n1', 3));
    await back.close();
  });
});

describe('segments', () => {
  it('a snapshot stored in a full segment begins a new one headed by a checkpoint; the old segment and snapshot files go', async () => {
    const s = await openLoaded(SMALL);
    let index = 0;
    const big = (i: number) => normal(i, 2, Array.from({ length: 300 }, (_, k) => (i + k) & 0xff));
    for (; index < 10; ) {
      index++;
      await s.save(w({ entries: [big(index)], hardState: hs(2, 'n1', index) }));
    }
    await s.save(w({ snapshot: snap(6, 2, [6]) }));
    expect(s.stats.rolls).toBe(1);
    expect(segments()).toEqual(['wal-0000000000000002.log']);
    expect(snapshots()).toEqual(['snap-0000000000000006.snap']);
    for (; index < 20; ) {
      index++;
      await s.save(w({ entries: [big(index)], hardState: hs(2, 'n1', index) }));
    }
    await s.save(w({ snapshot: snap(15, 2, [15]) }));
    expect(s.stats.rolls).toBe(2);
    expect(segments()).toEqual(['wal-0000000000000003.log']);
    expect(snapshots()).toEqual(['snap-000000000000000f.snap']);
    await s.close();

    const back = await FileStorage.open(dir, silent, SMALL);
    const state = await back.load();
    expect(state.snapshot?.meta.index).toBe(15);
    expect(state.snapshot?.data).toEqual(new Uint8Array([15]));
    expect(state.entries).toStrictEqual([16, 17, 18, 19, 20].map(big));
    expect(state.hardState).toEqual(hs(2, 'n1', 20));
    await back.close();
  });

  it('a crash after a new segment was made but before its checkpoint: the older segments still hold the log', async () => {
    await seed(5, 5, SMALL);
    writeFileSync(join(dir, 'wal-0000000000000002.log'), Buffer.alloc(SMALL.segmentBytes!));
    const s = await openLoaded(SMALL);
    await s.save(w({ entries: [normal(6, 1)], hardState: hs(1, 'n1', 6) }));
    await s.close();
    const back = await FileStorage.open(dir, silent, SMALL);
    const state = await back.load();
    expect(state.entries).toStrictEqual(run(1, 6, 1));
    expect(state.hardState.commit).toBe(6);
    await back.close();
  });

  it('leftovers of a crash are cleared at load: .tmp files, and snapshot files the log does not name', async () => {
    await seed(3, 3);
    writeFileSync(join(dir, 'wal-0000000000000002.log.tmp'), 'half made');
    writeFileSync(join(dir, 'snap-0000000000000009.snap'), 'a snapshot whose record never became durable');
    const s = await openLoaded();
    expect(readdirSync(dir).sort()).toEqual(['wal-0000000000000001.log']);
    await s.close();
  });
});

describe('recovery', () => {
  it('a torn last record is dropped and zeroed; the log goes on from before it and stays so', async () => {
    await seed(6, 3);
    const path = lastSegment();
    const end = writtenEnd(path);
    // The last record cut short: its length says more bytes than the write left.
    const bytes = readFileSync(path);
    let last = 0;
    for (let at = 0; at < end; at += 4 + bytes.readUInt32BE(at)) last = at;
    overwrite(path, last + 10, Buffer.alloc(end - last - 10));
    const { logger, lines } = captureLog();
    let s = await FileStorage.open(dir, logger);
    const state = await s.load();
    expect(state.entries).toStrictEqual(run(1, 5, 1));
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/torn log tail/);
    expect(readFileSync(path).subarray(last).every((b) => b === 0)).toBe(true);
    await s.save(w({ entries: [normal(6, 2)], hardState: hs(2, null, 3) }));
    await s.close();
    s = await FileStorage.open(dir, silent);
    expect((await s.load()).entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 2]]);
    await s.close();
  });

  it('bytes after the end of the log (a write whose pages landed out of order) are zeroed, so a shorter record never leaves an old one behind it', async () => {
    await seed(2, 2);
    const path = lastSegment();
    const end = writtenEnd(path);
    const stray = readFileSync(path).subarray(0, end);
    overwrite(path, end + 64, stray); // whole records past a gap of zeros
    const s = await openLoaded();
    expect(readFileSync(path).subarray(end).every((b) => b === 0)).toBe(true);
    await s.close();
    const back = await FileStorage.open(dir, silent);
    expect((await back.load()).entries).toStrictEqual(run(1, 2, 1));
    await back.close();
  });

  it('refuses to start when a record with a whole record after it is damaged (synced data), naming where', async () => {
    await seed(6, 6);
    const path = lastSegment();
    const bytes = readFileSync(path);
    const second = 4 + bytes.readUInt32BE(0);
    overwrite(path, second + 12, Buffer.from([bytes[second + 12] ^ 0xff]));
    const s = await FileStorage.open(dir, silent);
    const err = await s.load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptLogError);
    expect((err as Error).message).toMatch(new RegExp(`damaged at byte ${second} .*a whole record follows it`));
    await s.close();
    // Nothing was repaired.
    expect(readFileSync(path)[second + 12]).toBe(bytes[second + 12] ^ 0xff);
  });

  it('refuses to start when a segment that later segments follow is damaged', async () => {
    const s = await openLoaded(SMALL);
    for (let i = 1; i <= 12; i++) await s.save(w({ entries: [normal(i, 1, Array.from({ length: 300 }, () => i))], hardState: hs(1, 'n1', i) }));
    await s.close();
    // A later segment that begins with no checkpoint (a crash right after it was made, then more writes).
    writeFileSync(join(dir, 'wal-0000000000000002.log'), Buffer.alloc(SMALL.segmentBytes!));
    overwrite(join(dir, 'wal-0000000000000001.log'), 30, Buffer.from([0xde, 0xad]));
    const back = await FileStorage.open(dir, silent, SMALL);
    await expect(back.load()).rejects.toThrow(/wal-0000000000000001\.log is damaged at byte 0 .*later segments follow it/);
    await back.close();
  });

  it('refuses to start when the snapshot the log names is missing or is another one', async () => {
    const s = await openLoaded();
    await s.save(w({ entries: run(1, 5, 1), hardState: hs(1, 'n1', 5) }));
    await s.save(w({ snapshot: snap(4, 1) }));
    await s.close();
    const file = join(dir, 'snap-0000000000000004.snap');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    let back = await FileStorage.open(dir, silent);
    await expect(back.load()).rejects.toThrow(/snapshot file snap-0000000000000004.snap is missing or corrupt/);
    await back.close();
    await rm(file);
    back = await FileStorage.open(dir, silent);
    await expect(back.load()).rejects.toThrow(CorruptLogError);
    await back.close();
    expect(existsSync(lastSegment())).toBe(true);
  });

  it('refuses a record that breaks the log\'s rules (a term moving back), though its checksum is good', async () => {
    await seed(2, 2);
    // FileStorage itself never writes one (it plans every save first): forge it by hand.
    overwrite(lastSegment(), writtenEnd(lastSegment()), encodeFramedRecord({ h: hs(0, null, 0) }));
    const back = await FileStorage.open(dir, silent);
    await expect(back.load()).rejects.toThrow(/breaks the log's rules \(term would move back from 1 to 0\)/);
    await back.close();
  });
});

describe('failure', () => {
  it('fails stop after a failed write: that save and every later one are refused, never retried', async () => {
    const s = await openLoaded();
    await s.save(w({ entries: [normal(1, 1)] }));
    // Pull the file out from under it: the next write fails (EBADF), as a dying disk would.
    closeSync((s as unknown as { segment: { fd: number } }).segment.fd);
    await expect(s.save(w({ entries: [normal(2, 1)] }))).rejects.toThrow(/storage is unusable until restart/);
    await expect(s.save(w({ hardState: hs(1, null, 1) }))).rejects.toThrow(/storage is unusable until restart/);
    (s as unknown as { segment: null }).segment = null;
    await s.close();
    const back = await FileStorage.open(dir, silent);
    expect((await back.load()).entries).toStrictEqual([normal(1, 1)]);
    await back.close();
  });

  it('compact below the snapshot resolves in order with the saves; beyond it is refused', async () => {
    await seed(5, 5);
    const s = await openLoaded();
    await s.save(w({ snapshot: snap(3, 1) }));
    await s.compact(logIndex(3));
    await expect(s.compact(logIndex(4))).rejects.toThrow(/beyond the snapshot/);
    await s.close();
  });
});
