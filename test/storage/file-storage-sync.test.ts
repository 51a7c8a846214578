// Persist before you speak (docs/safety.md #4), for FileStorage: a save
// resolves only after an fdatasync that followed its write, and a directory
// sync follows every rename. node:fs is wrapped to record the calls in order.
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileStorage } from '../../src/storage/file-storage.js';
import { hs, normal, snap, tempDir } from './helpers.js';

const calls: string[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const record =
    <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      calls.push(name);
      return fn(...args);
    };
  const wrapped = {
    ...fs,
    writeSync: record('write', fs.writeSync as (...a: unknown[]) => number),
    fdatasyncSync: record('fdatasync', fs.fdatasyncSync),
    fsyncSync: record('fsync', fs.fsyncSync),
    renameSync: record('rename', fs.renameSync),
  };
  return { ...wrapped, default: wrapped };
});

const silent = pino({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileStorage syncs before it acknowledges', () => {
  it('every synced save resolves after a write and then an fdatasync; a snapshot file is synced and renamed, then its directory synced', async () => {
    const s = await FileStorage.open(dir, silent, { segmentBytes: 16 * 1024, rollBytes: 64 });
    await s.load();
    for (let i = 1; i <= 5; i++) {
      calls.length = 0;
      await s.save({ hardState: hs(1, 'n1', i - 1), entries: [normal(i, 1)], snapshot: null });
      expect(calls, `save ${i}`).toEqual(['write', 'fdatasync']);
      expect(calls.lastIndexOf('write')).toBeGreaterThanOrEqual(0);
      expect(calls.lastIndexOf('write')).toBeLessThan(calls.lastIndexOf('fdatasync'));
    }
    calls.length = 0;
    await s.save({ hardState: null, entries: [], snapshot: snap(3, 1) });
    // Runs of writes counted as one: the snapshot file is written, fsynced, renamed and its directory fsynced;
    // then its record written and fdatasynced; then the roll: a new segment zero-filled, fsynced, renamed, the
    // directory fsynced, its checkpoint written and fdatasynced, and only then the old segment removed (directory fsync).
    const runs = calls.filter((c, k) => c !== 'write' || calls[k - 1] !== 'write');
    expect(runs).toEqual(['write', 'fsync', 'rename', 'fsync', 'write', 'fdatasync', 'write', 'fsync', 'rename', 'fsync', 'write', 'fdatasync', 'fsync']);
    await s.close();
  });

  it('the spy itself catches a save that forgets its sync', async () => {
    const s = await FileStorage.open(dir, silent);
    await s.load();
    calls.length = 0;
    await s.save({ hardState: hs(1, null, 0), entries: [], snapshot: null, sync: false });
    expect(calls).toEqual(['write']);
    await s.close();
  });
});
