import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Entry, HardState, NodeId, Snapshot } from '../../src/raft/types.js';
import { logIndex, nodeId, term } from '../../src/raft/types.js';
import type { RaftStorage } from '../../src/storage/api.js';
import { FileStorage } from '../../src/storage/file-storage.js';
import { LevelStorage } from '../../src/storage/level-storage.js';
import { MemoryDisk, MemoryStorage } from '../../src/storage/memory-storage.js';

export function normal(index: number, t: number, data: number[] = [index & 0xff, t & 0xff]): Entry {
  return { index: logIndex(index), term: term(t), type: 'normal', data: new Uint8Array(data) };
}

/** Entries from..to inclusive, all of term t. */
export function run(from: number, to: number, t: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(normal(i, t));
  return out;
}

export function hs(t: number, vote: string | null, commit: number): HardState {
  return { term: term(t), vote: vote === null ? null : (vote as NodeId), commit: logIndex(commit) };
}

export function snap(index: number, t: number, bytes: number[] = [7, 7, 7]): Snapshot {
  return {
    meta: { index: logIndex(index), term: term(t), conf: { voters: [nodeId('n1'), nodeId('n2')], learners: [] }, memberContext: { n1: new Uint8Array([1]) } },
    data: new Uint8Array(bytes),
  };
}

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

/** A pino logger whose lines land in an array (level 'debug' and up). */
export function captureLog(): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** One "disk" that storages can be opened on repeatedly, as a node restarts. */
export interface StorageHarness {
  open(): Promise<RaftStorage>;
  cleanup(): Promise<void>;
}

export interface StorageKind {
  name: string;
  harness(): Promise<StorageHarness>;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lockstep-storage-'));
}

export const STORAGE_KINDS: StorageKind[] = [
  {
    name: 'MemoryStorage',
    async harness() {
      const disk = new MemoryDisk();
      return { open: async () => new MemoryStorage(disk), cleanup: async () => {} };
    },
  },
  {
    name: 'LevelStorage',
    async harness() {
      const dir = await tempDir();
      const logger = pino({ level: 'silent' });
      return {
        open: () => LevelStorage.open(dir, logger),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'FileStorage',
    async harness() {
      const dir = await tempDir();
      const logger = pino({ level: 'silent' });
      return {
        open: () => FileStorage.open(dir, logger),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    // Segments roll after a few records: the property test's snapshots and restarts cross checkpoints.
    name: 'FileStorage (small segments)',
    async harness() {
      const dir = await tempDir();
      const logger = pino({ level: 'silent' });
      return {
        open: () => FileStorage.open(dir, logger, { segmentBytes: 16 * 1024, rollBytes: 256 }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];
