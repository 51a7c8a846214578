// One behavioural suite, run against both RaftStorage implementations: the
// in-memory twin must mean exactly what LevelStorage means.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, HardState, PersistentState, Snapshot } from '../../src/raft/types.js';
import { logIndex, nodeId, term } from '../../src/raft/types.js';
import type { RaftStorage, StorageWrite } from '../../src/storage/api.js';
import { STORAGE_KINDS, hs, normal, run, snap, type StorageHarness } from './helpers.js';

const NONE: StorageWrite = { hardState: null, entries: [], snapshot: null };
const w = (p: Partial<StorageWrite>): StorageWrite => ({ ...NONE, ...p });

describe.each(STORAGE_KINDS)('RaftStorage contract: $name', (kind) => {
  let harness: StorageHarness;
  const opened: RaftStorage[] = [];

  async function open(): Promise<{ s: RaftStorage; state: PersistentState }> {
    const s = await harness.open();
    opened.push(s);
    return { s, state: await s.load() };
  }

  async function restart(s: RaftStorage): Promise<PersistentState> {
    return (await reopen(s)).state;
  }

  async function reopen(s: RaftStorage): Promise<{ s: RaftStorage; state: PersistentState }> {
    await s.close();
    return open();
  }

  async function fresh(): Promise<RaftStorage> {
    harness = await kind.harness();
    return (await open()).s;
  }

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
    await harness?.cleanup();
  });

  it('starts empty', async () => {
    harness = await kind.harness();
    const { state } = await open();
    expect(state).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
  });

  it('round-trips hard state and every entry kind across a restart, exactly', async () => {
    const s = await fresh();
    const entries: Entry[] = [
      normal(1, 1, [1, 2, 3]),
      { index: logIndex(2), term: term(1), type: 'noop' },
      { index: logIndex(3), term: term(2), type: 'config', change: { kind: 'addVoter', node: nodeId('n4'), context: new Uint8Array([9, 8]) } },
      normal(4, 2, []),
    ];
    await s.save(w({ hardState: hs(2, 'n1', 3), entries }));
    const state = await restart(s);
    expect(state.hardState).toEqual(hs(2, 'n1', 3));
    expect(state.entries).toStrictEqual(entries);
    expect(state.entries[0].type === 'normal' && state.entries[0].data).toBeInstanceOf(Uint8Array);
    expect(state.snapshot).toBeNull();
  });

  it('an entry at a stored index replaces it and every entry after it (§5.3)', async () => {
    const s = await fresh();
    await s.save(w({ entries: run(1, 6, 1) }));
    await s.save(w({ entries: run(3, 4, 2) }));
    const { s: s2, state } = await reopen(s);
    expect(state.entries).toStrictEqual([...run(1, 2, 1), ...run(3, 4, 2)]);
    // Appending after the overwrite continues from the new last index.
    await s2.save(w({ entries: run(5, 5, 2) }));
    expect((await restart(s2)).entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]]);
  });

  it('saving a snapshot whose last entry is in the log keeps the entries after it (§7)', async () => {
    const s = await fresh();
    await s.save(w({ entries: run(1, 10, 1), hardState: hs(1, null, 10) }));
    await s.save(w({ snapshot: snap(6, 1) }));
    await s.compact(logIndex(6));
    const state = await restart(s);
    expect(state.snapshot).toStrictEqual(snap(6, 1));
    expect(state.entries).toStrictEqual(run(7, 10, 1));
  });

  it('saving a snapshot that conflicts with the log discards the whole log (§7)', async () => {
    const s = await fresh();
    await s.save(w({ entries: run(1, 10, 1), hardState: hs(1, null, 2) }));
    await s.save(w({ snapshot: snap(6, 3), hardState: hs(3, null, 6) }));
    const state = await restart(s);
    expect(state.snapshot?.meta.index).toBe(6);
    expect(state.entries).toEqual([]);
  });

  it('snapshot, then entries, then hard state in one write', async () => {
    const s = await fresh();
    await s.save(w({ snapshot: snap(20, 4), entries: run(21, 23, 4), hardState: hs(4, 'n2', 22) }));
    const state = await restart(s);
    expect(state.snapshot?.meta).toEqual(snap(20, 4).meta);
    expect(state.entries).toStrictEqual(run(21, 23, 4));
    expect(state.hardState).toEqual(hs(4, 'n2', 22));
  });

  it('compact refuses to drop entries the stored snapshot does not cover', async () => {
    const s = await fresh();
    await s.save(w({ entries: run(1, 5, 1) }));
    await s.save(w({ snapshot: snap(3, 1) }));
    await expect(s.compact(logIndex(4))).rejects.toThrow(/beyond the snapshot/);
    await s.compact(logIndex(3));
    expect((await restart(s)).entries).toStrictEqual(run(4, 5, 1));
  });

  it('refuses writes that break Raft invariants (assertions stay on)', async () => {
    const s = await fresh();
    await s.save(w({ hardState: hs(5, 'n1', 0), entries: run(1, 3, 5) }));
    await expect(s.save(w({ hardState: hs(4, null, 0) }))).rejects.toThrow(/term would move back/);
    await expect(s.save(w({ hardState: hs(5, 'n2', 0) }))).rejects.toThrow(/vote in term 5/);
    await s.save(w({ hardState: hs(5, 'n1', 2) }));
    await expect(s.save(w({ hardState: hs(5, 'n1', 1) }))).rejects.toThrow(/commit would move back/);
    await expect(s.save(w({ hardState: hs(5, 'n1', 4) }))).rejects.toThrow(/past the last stored index 3/);
    // Committed entries never change (§5.4); an identical rewrite is harmless.
    await expect(s.save(w({ entries: run(2, 3, 6) }))).rejects.toThrow(/would replace committed entry 2/);
    await s.save(w({ entries: run(2, 3, 5) }));
    await expect(s.save(w({ entries: run(5, 5, 5) }))).rejects.toThrow(/gap/);
    await expect(s.save(w({ entries: [normal(4, 5), normal(6, 5)] }))).rejects.toThrow(/not contiguous/);
    await expect(s.save(w({ entries: run(4, 4, 4) }))).rejects.toThrow(/term 4 below/);
    await s.save(w({ snapshot: snap(2, 5) }));
    await expect(s.save(w({ entries: run(2, 2, 5) }))).rejects.toThrow(/at or below the snapshot/);
    await expect(s.save(w({ snapshot: snap(1, 5) }))).rejects.toThrow(/older than the stored/);
    // None of the refused writes reached the disk.
    const state = await restart(s);
    expect(state.hardState).toEqual(hs(5, 'n1', 2));
    expect(state.entries).toStrictEqual(run(3, 3, 5));
  });

  it('refuses to write before load()', async () => {
    harness = await kind.harness();
    const s = await harness.open();
    opened.push(s);
    await expect(s.save(w({ hardState: hs(1, null, 0) }))).rejects.toThrow(/load\(\) must be called/);
  });

  it('load() again on the same instance (a restore saves a snapshot, then the node loads) reads what was saved, and writing goes on', async () => {
    const s = await fresh();
    await s.save(w({ snapshot: snap(4, 2), hardState: hs(2, null, 4) }));
    await s.save(w({ entries: run(5, 6, 2) }));
    const again = await s.load();
    expect(again.snapshot?.meta.index).toBe(4);
    expect(again.entries).toStrictEqual(run(5, 6, 2));
    await s.save(w({ entries: run(7, 7, 2), hardState: hs(2, null, 7) }));
    const state = await restart(s);
    expect(state.entries).toStrictEqual(run(5, 7, 2));
    expect(state.hardState).toEqual(hs(2, null, 7));
  });

  it('concurrent saves all resolve, in order, and their effects apply in call order', async () => {
    const s = await fresh();
    const resolved: number[] = [];
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 40; i++) {
      saves.push(s.save(w({ entries: [normal(i, 1)], hardState: hs(1, 'n1', Math.min(i - 1, 25)) })).then(() => void resolved.push(i)));
    }
    // An overwrite queued behind them: replaces 30.. with term 2.
    saves.push(s.save(w({ entries: run(30, 31, 2) })).then(() => void resolved.push(41)));
    await Promise.all(saves);
    expect(resolved).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    const state = await restart(s);
    expect(state.entries).toStrictEqual([...run(1, 29, 1), ...run(30, 31, 2)]);
    expect(state.hardState).toEqual(hs(1, 'n1', 25));
  });

  it('loaded state does not alias what was saved', async () => {
    const s = await fresh();
    const entry = normal(1, 1, [1]);
    await s.save(w({ entries: [entry] }));
    (entry as { data: Uint8Array }).data[0] = 99;
    const state = await restart(s);
    expect(state.entries[0]).toStrictEqual(normal(1, 1, [1]));
  });

  it('matches a reference model over random write sequences with restarts (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryStep(), { minLength: 1, maxLength: 14 }), async (steps) => {
        harness = await kind.harness();
        try {
          let { s } = await open();
          const model = new ReferenceModel();
          for (const step of steps) {
            if (step.kind === 'restart') {
              const reopened = await reopen(s);
              s = reopened.s;
              expect(reopened.state).toStrictEqual(model.state());
              continue;
            }
            const write = model.concretise(step);
            if (!write) continue;
            await s.save(write);
            model.apply(write);
          }
          expect(await restart(s)).toStrictEqual(model.state());
        } finally {
          for (const o of opened.splice(0)) await o.close().catch(() => {});
          await harness.cleanup();
        }
      }),
      { numRuns: kind.name === 'LevelStorage' ? 15 : 60, seed: 20240601 },
    );
  });
});

// --- reference model: the obviously right version, an array of entries ---

type Step =
  | { kind: 'restart' }
  | { kind: 'append'; count: number; termBump: number }
  | { kind: 'overwrite'; back: number; count: number }
  | { kind: 'snapshot'; back: number; conflict: boolean }
  | { kind: 'commit'; back: number };

function arbitraryStep(): fc.Arbitrary<Step> {
  return fc.oneof(
    fc.constant<Step>({ kind: 'restart' }),
    fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }), termBump: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), back: fc.integer({ min: 0, max: 5 }), count: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('snapshot' as const), back: fc.integer({ min: 0, max: 6 }), conflict: fc.boolean() }),
    fc.record({ kind: fc.constant('commit' as const), back: fc.integer({ min: 0, max: 3 }) }),
  );
}

class ReferenceModel {
  hardState: HardState = hs(0, null, 0);
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  private get snapIndex(): number {
    return this.snapshot?.meta.index ?? 0;
  }
  private get last(): number {
    return this.snapIndex + this.entries.length;
  }
  private termAt(i: number): number {
    if (i === this.snapIndex) return this.snapshot?.meta.term ?? 0;
    return this.entries[i - this.snapIndex - 1]?.term ?? 0;
  }
  private get topTerm(): number {
    return Math.max(this.hardState.term, this.termAt(this.last), this.snapshot?.meta.term ?? 0);
  }

  /** A valid write for the current state, or null if the step does not apply. */
  concretise(step: Exclude<Step, { kind: 'restart' }>): StorageWrite | null {
    const top = this.topTerm;
    switch (step.kind) {
      case 'append': {
        const t = Math.max(1, top + step.termBump);
        return { hardState: hs(t, null, this.hardState.commit), entries: run(this.last + 1, this.last + step.count, t), snapshot: null };
      }
      case 'overwrite': {
        const from = Math.max(this.snapIndex + 1, this.hardState.commit + 1, this.last + 1 - step.back);
        const t = top + 1;
        return { hardState: hs(t, null, this.hardState.commit), entries: run(from, from + step.count - 1, t), snapshot: null };
      }
      case 'snapshot': {
        if (step.conflict) {
          const index = this.last + 1 + step.back;
          return { hardState: hs(top + 1, null, index), entries: [], snapshot: snap(index, top + 1, [index]) };
        }
        const index = this.last - step.back;
        if (index <= this.snapIndex || index > this.hardState.commit) return null;
        return { hardState: null, entries: [], snapshot: snap(index, this.termAt(index), [index]) };
      }
      case 'commit': {
        const commit = this.last - step.back;
        if (commit <= this.hardState.commit) return null;
        return { hardState: { ...this.hardState, commit: logIndex(commit) }, entries: [], snapshot: null };
      }
    }
  }

  apply(write: StorageWrite): void {
    if (write.snapshot) {
      const { index, term: t } = write.snapshot.meta;
      const keep = this.termAt(index) === t && index <= this.last ? this.entries.slice(index - this.snapIndex) : [];
      this.snapshot = write.snapshot;
      this.entries = keep;
    }
    if (write.entries.length > 0) {
      const from = write.entries[0].index;
      this.entries = [...this.entries.slice(0, from - this.snapIndex - 1), ...write.entries];
    }
    if (write.hardState) this.hardState = write.hardState;
  }

  state(): PersistentState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries };
  }
}
