// MemoryStorage: the in-memory twin of LevelStorage (same planning, same
// invariants, same group commit shape) for tests and the simulator.
// "Durable" means applied to the MemoryDisk; a crash() drops every write whose
// sync has not happened yet, as a power cut drops unsynced pages.
import type { Entry, HardState, LogIndex, PersistentState, Snapshot } from '../raft/types.js';
import type { RaftStorage, StorageWrite } from './api.js';
import { EMPTY_HARD_STATE, LogShape, StorageInvariantError, type WritePlan } from './log-shape.js';

/** What survives a crash: shared by successive MemoryStorage instances ("restarts"). */
export class MemoryDisk {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: Snapshot | null = null;
  readonly entries = new Map<number, Entry>();
  /** Number of syncs performed (a group commit is one sync). */
  syncCount = 0;
}

export interface MemoryStorageOptions {
  /**
   * true (default): pending writes are synced on a microtask, so all saves
   * made in one synchronous run share one sync. false: writes stay pending
   * until syncNow(), letting a simulator crash between save and sync.
   */
  autoSync?: boolean;
}

interface PendingWrite {
  plan: WritePlan;
  resolve: () => void;
}

export class MemoryStorage implements RaftStorage {
  private shape: LogShape | null = null;
  private pending: PendingWrite[] = [];
  private syncScheduled = false;
  private dead = false;
  private readonly autoSync: boolean;

  constructor(
    readonly disk: MemoryDisk = new MemoryDisk(),
    options: MemoryStorageOptions = {},
  ) {
    this.autoSync = options.autoSync ?? true;
  }

  async load(): Promise<PersistentState> {
    return this.loadNow();
  }

  /** load() without the promise: the simulator restarts a node inside one synchronous step. */
  loadNow(): PersistentState {
    this.assertAlive();
    if (this.pending.length > 0) throw new StorageInvariantError('load() while writes are pending');
    const snapshot = this.disk.snapshot;
    const firstIndex = (snapshot?.meta.index ?? 0) + 1;
    const entries: Entry[] = [];
    for (let i = firstIndex; this.disk.entries.has(i); i++) entries.push(this.disk.entries.get(i)!);
    // Contiguity: anything stored beyond the first gap would be a planning bug.
    if (this.disk.entries.size !== entries.length) {
      throw new StorageInvariantError(`memory log not contiguous after ${firstIndex - 1 + entries.length}`);
    }
    const last = firstIndex - 1 + entries.length;
    if (this.disk.hardState.commit > last) {
      throw new StorageInvariantError(`log entry ${last + 1} missing at or below commit index ${this.disk.hardState.commit}`);
    }
    this.shape = LogShape.fromState(this.disk.hardState, snapshot?.meta ?? null, entries);
    return structuredClone({ hardState: { ...this.disk.hardState }, snapshot, entries });
  }

  save(write: StorageWrite): Promise<void> {
    return this.planned(() => this.requireShape().planWrite(structuredClone(write)));
  }

  compact(upTo: LogIndex): Promise<void> {
    return this.planned(() => this.requireShape().planCompact(upTo));
  }

  /** Invariant violations surface as a rejected promise, as in LevelStorage. */
  private planned(plan: () => WritePlan): Promise<void> {
    try {
      return this.enqueue(plan());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.syncNow();
    this.dead = true;
  }

  /** Make every pending write durable (one sync) and resolve its promise. */
  syncNow(): void {
    this.syncScheduled = false;
    if (this.dead || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    for (const { plan } of group) this.apply(plan);
    this.disk.syncCount++;
    for (const { resolve } of group) resolve();
  }

  /** Simulated power cut: unsynced writes are lost and their promises never settle; this instance is dead. */
  crash(): void {
    this.pending = [];
    this.dead = true;
  }

  /** Writes accepted but not yet synced. */
  get pendingCount(): number {
    return this.pending.length;
  }

  private enqueue(plan: WritePlan): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ plan, resolve });
      if (this.autoSync && !this.syncScheduled) {
        this.syncScheduled = true;
        queueMicrotask(() => this.syncNow());
      }
    });
  }

  private apply(plan: WritePlan): void {
    const disk = this.disk;
    if (plan.snapshot) disk.snapshot = plan.snapshot;
    for (const { from, to } of plan.deletes) for (let i = from; i <= to; i++) disk.entries.delete(i);
    for (const entry of plan.entries) disk.entries.set(entry.index, entry);
    if (plan.hardState) disk.hardState = plan.hardState;
  }

  private requireShape(): LogShape {
    this.assertAlive();
    if (!this.shape) throw new StorageInvariantError('load() must be called before writing');
    return this.shape;
  }

  private assertAlive(): void {
    if (this.dead) throw new StorageInvariantError('storage is closed or crashed');
  }
}
