// What a full idempotency table costs: fills a LockMachine with
// IDEMPOTENCY_RECORDS_MAX keyed acquire/release records (as the SDK writes
// them: a UUID key, the route's path, the outcome), then measures the heap it
// takes and one snapshot's size, encode and restore time. The numbers behind
// IDEMPOTENCY_KEYED_WRITES_PER_SECOND (src/locks/limits.ts) and README "Limits".
// Run: node --expose-gc --import tsx scripts/bench-idempotency.ts [--records N]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { encodeProposal } from '../src/locks/codec.js';
import type { LockCommand } from '../src/locks/commands.js';
import { IDEMPOTENCY_RECORDS_MAX } from '../src/locks/limits.js';
import { LockMachine } from '../src/locks/machine.js';
import { logIndex, term } from '../src/raft/types.js';

/** Distinct lock names the records spread over. */
const NAMES = 5_000;

const { values } = parseArgs({ options: { records: { type: 'string' } } });
const records = values.records === undefined ? IDEMPOTENCY_RECORDS_MAX : Number(values.records);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx');

const machine = new LockMachine({ idempotencyRecordsMax: Math.max(records, 1) });
gc();
const heapBefore = process.memoryUsage().heapUsed;
const tokens = new Map<string, number>();
for (let i = 0; i < records; i++) {
  const name = `job:${i % NAMES}`;
  const held = tokens.get(name);
  const command: LockCommand = held === undefined
    ? { type: 'lock.acquire', name, sessionId: null, ttlMs: 30_000, waitMs: 0, waitId: null, mode: 'exclusive', limit: 1, owner: null, value: null }
    : { type: 'lock.release', name, fencingToken: held };
  const path = `/v1/locks/${name}/${command.type === 'lock.acquire' ? 'acquire' : 'release'}`;
  const { result } = machine.apply({ index: logIndex(i + 1), term: term(1), data: encodeProposal({ command, nowMs: 1_000 + i, idempotency: { key: randomUUID(), method: 'POST', path } }) });
  if (held === undefined && result.kind === 'done') tokens.set(name, (result.outcome.body as { fencingToken: number }).fencingToken);
  else tokens.delete(name);
}
gc();
const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
const t0 = performance.now();
const snapshot = machine.snapshot();
const encodeMs = performance.now() - t0;
const t1 = performance.now();
new LockMachine({ idempotencyRecordsMax: Math.max(records, 1) }).restore(snapshot, logIndex(records));
const restoreMs = performance.now() - t1;
console.log(JSON.stringify({
  records,
  heapMB: +heapMB.toFixed(1),
  heapBytesPerRecord: Math.round((heapMB * 1e6) / Math.max(records, 1)),
  snapshotMB: +(snapshot.length / 1e6).toFixed(1),
  snapshotBytesPerRecord: Math.round(snapshot.length / Math.max(records, 1)),
  encodeMs: Math.round(encodeMs),
  restoreMs: Math.round(restoreMs),
}));
