// Idempotency records kept in the replicated state (docs/safety.md #15;
// Raft dissertation §6.3): a retried command with the same key returns the
// first outcome on whichever node it reaches, even after a failover.
//
// Age is judged by the proposals' nowMs, made monotonic (the max ever seen):
// a leader whose wall clock runs behind cannot make records look younger,
// and one that jumps back cannot be used to keep them; one that jumps ahead
// can only drop records early by as much as it jumped, which is why
// IDEMPOTENCY_RECORD_AGE_MS_MAX keeps more than the promised 10 minutes.
//
// The table is bounded, and a record is never dropped before its age: a full
// table refuses new keys (the machine answers 429 limit_exceeded, records
// nothing and changes nothing) until the oldest records age out.
import type { Outcome } from './commands.js';
import { IDEMPOTENCY_RECORD_AGE_MS_MAX, IDEMPOTENCY_RECORDS_MAX } from './limits.js';
import type { IdempotencyRecord } from './state.js';

/** The answer (429 limit_exceeded) to a new key while the table is full, from the machine and the leader alike. */
export const IDEMPOTENCY_FULL_MESSAGE = 'the idempotency table is full: every key is kept 10 minutes, and new keys wait for the oldest to age out; retry later';

export type IdempotencyLookup =
  | { kind: 'miss' }
  | { kind: 'conflict'; record: IdempotencyRecord }
  | { kind: 'done'; outcome: Outcome }
  | { kind: 'pending'; waitId: string };

export class IdempotencyTable {
  /** Insertion order is recordedAtMs order, because recordedAtMs is monotonic. */
  private readonly records = new Map<string, IdempotencyRecord>();

  constructor(
    private readonly recordsMax = IDEMPOTENCY_RECORDS_MAX,
    private readonly ageMsMax = IDEMPOTENCY_RECORD_AGE_MS_MAX,
  ) {}

  get size(): number {
    return this.records.size;
  }

  /** Drops records older than the age limit as of `nowMs` (the machine's monotonic clock). */
  prune(nowMs: number): void {
    for (const [key, record] of this.records) {
      if (nowMs - record.recordedAtMs <= this.ageMsMax) break;
      this.records.delete(key);
    }
  }

  lookup(key: string, method: string, path: string): IdempotencyLookup {
    const record = this.records.get(key);
    if (!record) return { kind: 'miss' };
    if (record.method !== method || record.path !== path) return { kind: 'conflict', record };
    if (record.outcome !== null) return { kind: 'done', outcome: record.outcome };
    if (record.waitId === null) throw new Error(`invariant: idempotency record ${key} has neither outcome nor wait`);
    return { kind: 'pending', waitId: record.waitId };
  }

  get capacity(): number {
    return this.recordsMax;
  }

  /** Room for one more record (after prune() at the current nowMs). */
  hasRoom(): boolean {
    return this.records.size < this.recordsMax;
  }

  /**
   * Would a new key be refused at `nowMs`? Read-only: what prune(nowMs) then
   * hasRoom() would say. The leader asks before proposing, so that a full
   * table does not cost a log entry per refused request.
   */
  fullAt(nowMs: number): boolean {
    if (this.records.size < this.recordsMax) return false;
    const oldest = this.records.values().next();
    return oldest.done === true || nowMs - oldest.value.recordedAtMs <= this.ageMsMax;
  }

  record(key: string, method: string, path: string, nowMs: number, outcome: Outcome | null, waitId: string | null): void {
    if (this.records.has(key)) throw new Error(`invariant: idempotency key ${key} recorded twice`);
    if (!this.hasRoom()) throw new Error(`invariant: idempotency table full (${this.recordsMax}) when recording ${key}`);
    this.records.set(key, { key, method, path, recordedAtMs: nowMs, outcome, waitId });
  }

  /** The wait a pending record was waiting for resolved: store its outcome. A pruned record stays gone. */
  fill(key: string, waitId: string, outcome: Outcome): void {
    const record = this.records.get(key);
    if (!record || record.waitId !== waitId || record.outcome !== null) return;
    record.outcome = outcome;
  }

  toArray(): IdempotencyRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  static fromArray(records: IdempotencyRecord[], recordsMax = IDEMPOTENCY_RECORDS_MAX): IdempotencyTable {
    // A snapshot from a node with a larger table keeps all its records; new keys wait for room.
    const table = new IdempotencyTable(recordsMax);
    for (const r of records) table.records.set(r.key, { ...r });
    return table;
  }
}
