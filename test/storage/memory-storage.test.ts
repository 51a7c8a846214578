// MemoryStorage specifics: crashes lose exactly the unsynced writes.
import { describe, expect, it } from 'vitest';
import type { StorageWrite } from '../../src/storage/api.js';
import { MemoryDisk, MemoryStorage } from '../../src/storage/memory-storage.js';
import { hs, run } from './helpers.js';

const w = (p: Partial<StorageWrite>): StorageWrite => ({ hardState: null, entries: [], snapshot: null, ...p });

describe('MemoryStorage', () => {
  it('a crash drops writes that were not synced, keeps those that were', async () => {
    const disk = new MemoryDisk();
    const s = new MemoryStorage(disk, { autoSync: false });
    await s.load();
    const first = s.save(w({ entries: run(1, 2, 1), hardState: hs(1, 'n1', 1) }));
    s.syncNow();
    await first;
    let secondSettled = false;
    void s.save(w({ entries: run(3, 3, 1), hardState: hs(2, null, 1) })).finally(() => (secondSettled = true));
    expect(s.pendingCount).toBe(1);
    s.crash();
    await Promise.resolve();
    expect(secondSettled).toBe(false);
    const state = await new MemoryStorage(disk).load();
    expect(state.entries).toStrictEqual(run(1, 2, 1));
    expect(state.hardState).toEqual(hs(1, 'n1', 1));
    expect(() => s.syncNow()).not.toThrow();
    await expect(s.save(w({}))).rejects.toThrow(/closed or crashed/);
  });

  it('saves made in one synchronous run share one sync (group commit)', async () => {
    const disk = new MemoryDisk();
    const s = new MemoryStorage(disk);
    await s.load();
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.save(w({ entries: run(i + 1, i + 1, 1) }))));
    expect(disk.syncCount).toBe(1);
    expect((await new MemoryStorage(disk).load()).entries).toHaveLength(10);
  });
});
