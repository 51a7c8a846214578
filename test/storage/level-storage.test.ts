// LevelStorage specifics: group commit, every write synced, torn tails
// truncated, acknowledged corruption refused.
import { rm } from 'node:fs/promises';
import { Level } from 'level';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { logIndex } from '../../src/raft/types.js';
import type { StorageWrite } from '../../src/storage/api.js';
import { entryKey, HARD_STATE_KEY } from '../../src/storage/keys.js';
import { CorruptLogError } from '../../src/storage/corrupt-log.js';
import { LevelStorage } from '../../src/storage/level-storage.js';
import { captureLog, hs, normal, run, snap, tempDir } from './helpers.js';

const NONE: StorageWrite = { hardState: null, entries: [], snapshot: null };
const w = (p: Partial<StorageWrite>): StorageWrite => ({ ...NONE, ...p });
const silent = pino({ level: 'silent' });

type RawDb = Level<Uint8Array, Uint8Array>;
const openRaw = async (dir: string): Promise<RawDb> => {
  const db: RawDb = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return db;
};

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function openLoaded(logger = silent): Promise<LevelStorage> {
  const s = await LevelStorage.open(dir, logger);
  await s.load();
  return s;
}

/** Rewrite one stored value in place, as a bit flip or a torn write would leave it. */
async function damage(key: Uint8Array, mutate: (value: Uint8Array) => Uint8Array | null): Promise<void> {
  const db = await openRaw(dir);
  const value = await db.get(key);
  if (value === undefined) throw new Error('nothing stored at that key');
  const next = mutate(Uint8Array.from(value));
  if (next === null) await db.del(key, { sync: true });
  else await db.put(key, next, { sync: true });
  await db.close();
}
const flipLastByte = (v: Uint8Array): Uint8Array => {
  v[v.length - 1] ^= 0xff;
  return v;
};

describe('group commit', () => {
  it('merges saves queued behind an in-flight sync into one batch, resolving each only after its sync', async () => {
    const s = await openLoaded();
    const original = Level.prototype.batch;
    const gates: Array<() => void> = [];
    const batches: unknown[][] = [];
    vi.spyOn(Level.prototype, 'batch').mockImplementation(async function (this: RawDb, ...args: unknown[]) {
      batches.push(args[0] as unknown[]);
      await new Promise<void>((release) => gates.push(release));
      return (original as (...a: unknown[]) => Promise<void>).apply(this, args);
    } as never);
    const done: string[] = [];
    const a = s.save(w({ entries: run(1, 1, 1) })).then(() => void done.push('a'));
    const b = s.save(w({ entries: run(2, 2, 1) })).then(() => void done.push('b'));
    const c = s.save(w({ entries: run(3, 3, 1), hardState: hs(1, null, 3) })).then(() => void done.push('c'));
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    expect(done).toEqual([]);
    gates[0]();
    await a;
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    expect(done).toEqual(['a']); // b and c wait for the sync that covers them
    expect(batches[1]).toHaveLength(3); // entry 2, entry 3, hard state: one batch
    gates[1]();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(s.stats).toEqual({ writes: 3, syncedBatches: 2 });
    await s.close();
  });

  it('64 concurrent saves need far fewer synced batches than saves, and all land in order', async () => {
    const s = await openLoaded();
    const batchSpy = vi.spyOn(Level.prototype, 'batch');
    const saves = Array.from({ length: 64 }, (_, i) => s.save(w({ entries: [normal(i + 1, 1)], hardState: hs(1, 'n1', i) })));
    await Promise.all(saves);
    expect(batchSpy.mock.calls.length).toBeLessThan(64);
    expect(s.stats.syncedBatches).toBe(2); // the first alone, the other 63 together
    await s.close();
    const again = await LevelStorage.open(dir, silent);
    const state = await again.load();
    expect(state.entries.map((e) => e.index)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(state.hardState.commit).toBe(63);
    await again.close();
  });

  it('a write with nothing in it (compact behind a snapshot) does not wedge later saves', async () => {
    const s = await openLoaded();
    await s.save(w({ entries: [normal(1, 1), normal(2, 1)], hardState: hs(1, 'n1', 2) }));
    await s.save(w({ snapshot: snap(2, 1) }));
    // Everything <= 2 is already gone with the snapshot: this compact writes nothing.
    await s.compact(logIndex(2));
    const later = s.save(w({ entries: [normal(3, 1)], hardState: hs(1, 'n1', 3) }));
    const outcome = await Promise.race([later.then(() => 'saved'), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
    expect(outcome).toBe('saved');
    await s.close();
  });

  it('fails stop after a failed synced write: later saves are refused, not retried', async () => {
    const s = await openLoaded();
    vi.spyOn(Level.prototype, 'batch').mockRejectedValueOnce(new Error('EIO'));
    await expect(s.save(w({ entries: run(1, 1, 1) }))).rejects.toThrow(/EIO/);
    await expect(s.save(w({ entries: run(1, 1, 1) }))).rejects.toThrow(/unusable until restart/);
    await s.close();
  });
});

describe('every durable write passes { sync: true } (docs/safety.md #4)', () => {
  type WriteMethod = 'put' | 'del' | 'batch' | 'clear';
  const OPTIONS_ARG: Record<WriteMethod, number> = { put: 2, del: 1, batch: 1, clear: -1 };

  function spyWrites(): Record<WriteMethod, MockInstance> {
    return {
      put: vi.spyOn(Level.prototype, 'put'),
      del: vi.spyOn(Level.prototype, 'del'),
      batch: vi.spyOn(Level.prototype, 'batch'),
      clear: vi.spyOn(Level.prototype, 'clear'),
    };
  }

  /** Every write call that would not fsync: a missing sync option, a chained batch, or clear() (which has no sync option). */
  function unsyncedWrites(spies: Record<WriteMethod, MockInstance>): string[] {
    const bad: string[] = [];
    for (const method of Object.keys(spies) as WriteMethod[]) {
      for (const args of spies[method].mock.calls) {
        const at = OPTIONS_ARG[method];
        if (method === 'batch' && args.length === 0) bad.push('chained batch()');
        else if (at < 0 || (args[at] as { sync?: boolean } | undefined)?.sync !== true) bad.push(`${method} without sync`);
      }
    }
    return bad;
  }

  it('the spy itself catches a write that forgets sync', async () => {
    const spies = spyWrites();
    const db = await openRaw(dir);
    await db.put(entryKey(1), new Uint8Array([1]));
    await db.batch([{ type: 'del', key: entryKey(1) }], { sync: true });
    await db.close();
    expect(unsyncedWrites(spies)).toEqual(['put without sync']);
  });

  it('load (with truncation and stray cleanup), save, snapshot, compact and close all sync', async () => {
    // Prepare a torn tail and a stray entry below the snapshot, outside the spy.
    let s = await openLoaded();
    await s.save(w({ entries: run(1, 8, 1), hardState: hs(1, 'n1', 4) }));
    await s.save(w({ snapshot: snap(2, 1) }));
    await s.close();
    await damage(entryKey(7), flipLastByte);
    const raw = await openRaw(dir);
    await raw.put(entryKey(1), new Uint8Array([0, 0, 0, 0, 0]), { sync: true });
    await raw.close();

    const spies = spyWrites();
    s = await LevelStorage.open(dir, silent);
    const state = await s.load();
    expect(state.entries.map((e) => e.index)).toEqual([3, 4, 5, 6]);
    await s.save(w({ entries: run(7, 9, 2), hardState: hs(2, 'n2', 6) }));
    await Promise.all([s.save(w({ entries: run(10, 10, 2) })), s.save(w({ hardState: hs(2, 'n2', 8) }))]);
    await s.save(w({ snapshot: snap(8, 2) }));
    await s.compact(logIndex(8));
    await s.close();
    const calls = spies.put.mock.calls.length + spies.del.mock.calls.length + spies.batch.mock.calls.length;
    // load's cleanup, the saves (the two concurrent ones may share one group
    // commit), the snapshot: the spy must have seen at least these writes.
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(unsyncedWrites(spies)).toEqual([]);
  });
});

describe('recovery', () => {
  async function seed(lastIndex: number, commit: number): Promise<void> {
    const s = await openLoaded();
    await s.save(w({ entries: run(1, lastIndex, 1), hardState: hs(1, 'n1', commit) }));
    await s.close();
  }

  it('truncates a corrupt tail above the commit index, logging the indexes, and stays truncated', async () => {
    await seed(6, 3);
    await damage(entryKey(5), flipLastByte);
    const { logger, lines } = captureLog();
    let s = await LevelStorage.open(dir, logger);
    const state = await s.load();
    expect(state.entries).toStrictEqual(run(1, 4, 1));
    const warn = lines.find((l) => l.level === 40);
    expect(warn).toMatchObject({ fromIndex: 5, toIndex: 6 });
    expect(String(warn?.msg)).toContain('5..6');
    // The log continues from 4, and the truncation was durable.
    await s.save(w({ entries: run(5, 5, 2) }));
    await s.close();
    s = await LevelStorage.open(dir, silent);
    expect((await s.load()).entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 1], [5, 2]]);
    await s.close();
  });

  it('truncates a torn last record (cut short mid-write)', async () => {
    await seed(5, 2);
    await damage(entryKey(5), (v) => v.subarray(0, 3));
    const s = await LevelStorage.open(dir, silent);
    expect((await s.load()).entries).toStrictEqual(run(1, 4, 1));
    await s.close();
  });

  it('refuses to start when an entry at or below the commit index is corrupt, naming the index', async () => {
    await seed(6, 3);
    await damage(entryKey(2), flipLastByte);
    const s = await LevelStorage.open(dir, silent);
    const err = await s.load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptLogError);
    expect((err as CorruptLogError).index).toBe(2);
    expect((err as Error).message).toMatch(/log entry 2 .*commit index 3/);
    await s.close();
    // Nothing was repaired: the damaged record is still there.
    const raw = await openRaw(dir);
    expect(await raw.get(entryKey(2))).toBeDefined();
    await raw.close();
  });

  it('refuses to start when an acknowledged entry is missing', async () => {
    await seed(6, 4);
    await damage(entryKey(4), () => null);
    const s = await LevelStorage.open(dir, silent);
    await expect(s.load()).rejects.toThrow(/log entry 4 .*commit index 4/);
    await s.close();
  });

  it('refuses to start on a corrupt hard state', async () => {
    await seed(2, 1);
    await damage(HARD_STATE_KEY, flipLastByte);
    const s = await LevelStorage.open(dir, silent);
    await expect(s.load()).rejects.toThrow(/hard state record is corrupt/);
    await s.close();
  });

  it('compaction removes the covered entries from the database', async () => {
    await seed(10, 10);
    const s = await openLoaded();
    await s.save(w({ snapshot: snap(7, 1) }));
    await s.compact(logIndex(7));
    await s.close();
    const raw = await openRaw(dir);
    const keys: number[] = [];
    for await (const key of raw.keys({ gte: entryKey(0), lt: entryKey(100) })) keys.push(Buffer.from(key).readUInt32BE(5));
    await raw.close();
    expect(keys).toEqual([8, 9, 10]);
  });
});
