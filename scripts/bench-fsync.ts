// Measures this machine's raw fsync latency, and each storage engine's save
// latency, throughput and CPU with 1 and 64 concurrent savers (group commit at work).
// Run: npx tsx scripts/bench-fsync.ts [--dir /path/on/the/disk/to/test]
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { logIndex, term, type Entry } from '../src/raft/types.js';
import { FileStorage } from '../src/storage/file-storage.js';
import { LevelStorage } from '../src/storage/level-storage.js';

const FSYNC_ITERATIONS = 500;
const FSYNC_WRITE_BYTES = 128;
const SAVES_PER_RUN = 2000;
const ENTRY_DATA_BYTES = 128;

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
const baseDir = values.dir ?? tmpdir();

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))];
}

function summarise(name: string, samplesMs: number[], totalMs: number, ops: number) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    name,
    ops,
    p50Ms: +percentile(sorted, 50).toFixed(3),
    p99Ms: +percentile(sorted, 99).toFixed(3),
    maxMs: +sorted[sorted.length - 1].toFixed(3),
    opsPerSec: Math.round((ops / totalMs) * 1000),
  };
}

function benchRawFsync(dir: string) {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const buf = Buffer.alloc(FSYNC_WRITE_BYTES, 0x61);
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < FSYNC_ITERATIONS; i++) {
    const t0 = performance.now();
    writeSync(fd, buf, 0, buf.length, 0);
    fsyncSync(fd);
    samples.push(performance.now() - t0);
  }
  const total = performance.now() - start;
  closeSync(fd);
  return summarise('raw write+fsync', samples, total, FSYNC_ITERATIONS);
}

type Engine = 'FileStorage' | 'LevelStorage';

async function benchSaves(dir: string, engine: Engine, concurrency: number) {
  const path = join(dir, `${engine}-${concurrency}`);
  const storage = engine === 'FileStorage' ? await FileStorage.open(path, pino({ level: 'silent' })) : await LevelStorage.open(path, pino({ level: 'silent' }));
  await storage.load();
  const data = new Uint8Array(ENTRY_DATA_BYTES).fill(7);
  let next = 1;
  const samples: number[] = [];
  // Each saver appends the next entry; indexes are assigned synchronously, so order is preserved.
  async function saver(): Promise<void> {
    while (next <= SAVES_PER_RUN) {
      const entry: Entry = { index: logIndex(next), term: term(1), type: 'normal', data };
      next++;
      const t0 = performance.now();
      await storage.save({ hardState: null, entries: [entry], snapshot: null });
      samples.push(performance.now() - t0);
    }
  }
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, saver));
  const total = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const syncs = storage instanceof FileStorage ? storage.stats.syncs : storage.stats.syncedBatches;
  await storage.close();
  // CPU of this whole process (every thread: LevelDB's work runs on libuv's pool) per save.
  const cpuUsPerSave = Math.round((cpu.user + cpu.system) / SAVES_PER_RUN);
  return { ...summarise(`${engine}.save x${concurrency}`, samples, total, SAVES_PER_RUN), syncs, cpuUsPerSave };
}

const dir = mkdtempSync(join(baseDir, 'lockstep-bench-'));
try {
  const rows = [benchRawFsync(dir)];
  for (const engine of ['FileStorage', 'LevelStorage'] as const) for (const concurrency of [1, 64]) rows.push(await benchSaves(dir, engine, concurrency));
  console.log(`dir: ${dir}`);
  console.table(rows);
  console.log(JSON.stringify({ bench: 'fsync', node: process.version, rows }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
