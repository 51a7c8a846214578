// A data directory keeps the engine it was made with: a node upgraded to a
// build whose default is `file` still reads its LevelDB log, and --storage
// chooses only for a new directory.
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../src/storage/file-storage.js';
import { LevelStorage } from '../../src/storage/level-storage.js';
import { engineInDirectory, openStorage } from '../../src/storage/open-storage.js';
import { hs, run, tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openStorage', () => {
  it('a new directory gets the engine asked for', async () => {
    expect(engineInDirectory(dir)).toBe(null);
    const { storage, engine } = await openStorage(dir, 'file', silent);
    expect(engine).toBe('file');
    expect(storage).toBeInstanceOf(FileStorage);
    await storage.load();
    await storage.close();
    expect(engineInDirectory(dir)).toBe('file');
  });

  it('a LevelDB directory stays LevelDB whatever is asked, with its state', async () => {
    const old = await LevelStorage.open(dir, silent);
    await old.load();
    await old.save({ entries: run(1, 3, 1), hardState: hs(1, 'n1', 3), snapshot: null });
    await old.close();
    const { storage, engine } = await openStorage(dir, 'file', silent);
    expect(engine).toBe('level');
    expect((await storage.load()).entries).toStrictEqual(run(1, 3, 1));
    await storage.close();
  });

  it('a log directory stays a log directory when LevelDB is asked for', async () => {
    const first = await FileStorage.open(dir, silent);
    await first.load();
    await first.save({ entries: run(1, 2, 1), hardState: hs(1, 'n1', 2), snapshot: null });
    await first.close();
    const { storage, engine } = await openStorage(dir, 'level', silent);
    expect(engine).toBe('file');
    expect((await storage.load()).hardState).toEqual(hs(1, 'n1', 2));
    await storage.close();
  });
});
