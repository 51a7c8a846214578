// One node's storage in the simulator: the node's in-memory storage twin
// (src/storage/memory-storage.ts: MemoryStorage over a MemoryDisk, the same
// write planning and invariants as LevelStorage) behind the RaftStorage seam
// the Ready handler writes through. The MemoryDisk is what survives a crash;
// each incarnation of the node opens a new MemoryStorage on it. A write is
// durable once MemoryStorage syncs it (a microtask after save(), as in tests);
// the simulator may crash the node while a write is in flight (`crashInWrite`),
// and MemoryStorage.crash() then drops it, as a power cut drops unsynced pages.
//
// For the checkers it reads the disk: the persisted hard state and log, the
// prefix-hash chain of the log, and every persisted entry reported to the
// global LogRegistry (log matching).

import type { Entry, HardState, LogIndex, PersistentState, Snapshot } from '../../src/raft/types.js';
import type { RaftStorage, StorageWrite } from '../../src/storage/api.js';
import { MemoryDisk, MemoryStorage } from '../../src/storage/memory-storage.js';
import { chainHash, EMPTY_PREFIX_HASH, entryFingerprint } from './fingerprint.js';
import { LogRegistry, UNKNOWN_PREFIX_HASH } from './log-registry.js';

/** What a crashed node's writes return: nothing ever comes back. */
const DEAD: Promise<void> = new Promise(() => {});

export class SimStore implements RaftStorage {
  readonly disk = new MemoryDisk();
  private storage: MemoryStorage | null = null;
  /** Asked at each save() of this incarnation: true crashes the node with that write in flight (lost). */
  private crashInWrite: ((write: StorageWrite) => boolean) | null = null;
  /** The prefix hash of each persisted entry, with the entry object it was computed for (MemoryDisk keeps identity until overwritten). */
  private readonly chain = new Map<number, { entry: Entry; hash: number }>();

  constructor(
    private readonly node: string,
    private readonly registry: LogRegistry,
  ) {}

  /** A new incarnation: a fresh MemoryStorage on the disk, loaded; what it loaded is what the node restarts from. */
  open(crashInWrite: ((write: StorageWrite) => boolean) | null = null): PersistentState {
    if (this.storage) throw new Error(`${this.node}: storage already open`);
    this.storage = new MemoryStorage(this.disk);
    this.crashInWrite = crashInWrite;
    return this.storage.loadNow();
  }

  /** The node crashed: writes not yet synced are lost, their promises never settle. */
  crash(): void {
    this.storage?.crash();
    this.storage = null;
    this.crashInWrite = null;
  }

  get hardState(): HardState {
    return this.disk.hardState;
  }

  get snapshot(): Snapshot | null {
    return this.disk.snapshot;
  }

  snapshotIndex(): number {
    return this.disk.snapshot ? this.disk.snapshot.meta.index : 0;
  }

  lastIndex(): number {
    let last = this.snapshotIndex();
    while (this.disk.entries.has(last + 1)) last++;
    return last;
  }

  /** The entry at `index`, or null if compacted away or beyond the end. */
  entryAt(index: number): Entry | null {
    return index > this.snapshotIndex() ? (this.disk.entries.get(index) ?? null) : null;
  }

  termAt(index: number): number | null {
    if (index === 0) return 0;
    if (this.disk.snapshot && index === this.disk.snapshot.meta.index) return this.disk.snapshot.meta.term;
    return this.entryAt(index)?.term ?? null;
  }

  // ---- RaftStorage: MemoryStorage's, observed ----

  load(): Promise<PersistentState> {
    return this.requireOpen().load();
  }

  save(write: StorageWrite): Promise<void> {
    const storage = this.storage;
    if (!storage) return DEAD; // the node crashed: what its handler still writes goes nowhere
    const saved = storage.save(write);
    if (this.crashInWrite?.(write)) {
      storage.crash();
      return saved;
    }
    return saved.then(() => this.observe());
  }

  compact(upTo: LogIndex): Promise<void> {
    return this.storage ? this.storage.compact(upTo) : DEAD;
  }

  close(): Promise<void> {
    const storage = this.storage;
    this.storage = null;
    return storage ? storage.close().then(() => this.observe()) : Promise.resolve();
  }

  /** Tests: one write, durable at once (opens the storage on first use); rejects if the twin refuses it. */
  write(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null): Promise<void> {
    if (!this.storage) this.open();
    const saved = this.storage!.save({ hardState, entries, snapshot });
    this.storage!.syncNow();
    return saved.then(() => this.observe());
  }

  private requireOpen(): MemoryStorage {
    if (!this.storage) throw new Error(`${this.node}: storage is not open (node down)`);
    return this.storage;
  }

  /** Fold what the disk now holds into the prefix-hash chain; report new entries to the registry. */
  private observe(): void {
    const snapIndex = this.snapshotIndex();
    let prev = snapIndex === 0 ? EMPTY_PREFIX_HASH : this.registry.lookup(snapIndex, this.disk.snapshot!.meta.term);
    let i = snapIndex + 1;
    for (let entry = this.disk.entries.get(i); entry !== undefined; entry = this.disk.entries.get(++i)) {
      const known = this.chain.get(i);
      if (known && known.entry === entry) {
        prev = known.hash;
        continue;
      }
      const hash = prev === UNKNOWN_PREFIX_HASH ? UNKNOWN_PREFIX_HASH : chainHash(prev, entryFingerprint(entry));
      this.registry.record(this.node, i, entry.term, hash);
      this.chain.set(i, { entry, hash });
      prev = hash;
    }
    for (const index of this.chain.keys()) if (index <= snapIndex || index >= i) this.chain.delete(index);
  }
}
