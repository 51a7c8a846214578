// One simulated node: a real Raft instance, its in-memory durable store and
// its state machine. Handles each Ready in the contract's order (persist,
// then send, then apply, then advance; the Ready's `messages` (a leader's
// Appends and Heartbeats) go out before the persist, as the real node loop does)
// and can crash at any point of it, including between those early sends and
// the persist:
// a crash drops the Raft instance with everything not yet persisted or sent;
// a restart builds a new Raft from exactly what was persisted.

import type { RaftCore } from '../../src/raft/api.js';
import type { Entry, Message, NodeId, RaftConfig, ReadState, Ready, Role, Snapshot } from '../../src/raft/types.js';
import type { RaftConstructor } from './raft-factory.js';
import type { Prng } from './prng.js';
import { SimStateMachine } from './state-machine.js';
import type { SimStore } from './store.js';
import { violate } from './violation.js';

/** Where in Ready handling a crash strikes. */
export type CrashPoint = 'before-persist' | 'after-persist' | 'after-send';
export const CRASH_POINTS: readonly CrashPoint[] = ['before-persist', 'after-persist', 'after-send'];

/** Decides, seeing a Ready, whether (and where) the node crashes while handling it. */
export type CrashPolicy = (node: SimNode, ready: Ready, role: Role) => CrashPoint | null;

/** A node hands out at most this many Readies per step; more means the core never settles. */
export const READIES_PER_STEP_MAX = 16;

export interface NodeHooks {
  send(message: Message): void;
  applied(node: SimNode, entry: Entry): void;
  restored(node: SimNode, snapshot: Snapshot): void;
  /** The node (re)started: its state machine holds what it restored from its persisted snapshot, if any. */
  started?(node: SimNode): void;
  readServed(node: SimNode, requestId: string): void;
  readDropped(node: SimNode, requestId: string): void;
  trace(text: string): void;
}

export interface RaftTuning {
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightAppends: number;
  maxEntriesPerAppend: number;
  maxBytesPerAppend: number;
  maxCommittedEntriesPerReady: number;
}

export type StateMachineFactory = (node: NodeId, initialVoters: readonly NodeId[]) => SimStateMachine;

export class SimNode {
  raft: RaftCore | null = null;
  sm: SimStateMachine;
  incarnation = 0;
  /** Removed from the cluster by a committed change: stopped for good (ids are never reused). */
  retired = false;
  private pendingReads: ReadState[] = [];
  private lastCommit = 0;
  private lastApplied = 0;
  /** Leader append-only (Raft §5.3): the term we last saw ourselves lead and our last index then. */
  private leaderTerm = -1;
  private leaderLastIndex = 0;
  private lastRole = '';
  private appliedSinceSnapshot = 0;

  constructor(
    readonly id: NodeId,
    private readonly initialVoters: readonly NodeId[],
    private readonly clusterVoters: readonly NodeId[],
    readonly store: SimStore,
    private readonly Raft: RaftConstructor,
    private readonly tuning: RaftTuning,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
    private readonly snapshotEveryEntries: number,
    /** The state machine a (re)started node runs: the command-id list by default, or one that also runs the lock machine. */
    private readonly makeStateMachine: StateMachineFactory = (node, voters) => new SimStateMachine(node, voters),
  ) {
    this.sm = makeStateMachine(id, clusterVoters);
  }

  get up(): boolean {
    return this.raft !== null;
  }

  start(): void {
    if (this.raft) throw new Error(`${this.id} is already running`);
    if (this.retired) throw new Error(`${this.id} was removed and cannot restart`);
    this.incarnation++;
    const config: RaftConfig = {
      id: this.id,
      initialVoters: [...this.initialVoters],
      random: (() => {
        const r = this.rng.fork(`raft:${this.id}:${this.incarnation}`);
        return () => r.next();
      })(),
      leaseReads: false,
      ...this.tuning,
    };
    this.sm = this.makeStateMachine(this.id, this.clusterVoters);
    if (this.store.snapshot) this.sm.restore(this.store.snapshot);
    this.raft = new this.Raft(config, this.store.persistent());
    const st = this.raft.status();
    this.lastCommit = st.commit;
    this.lastApplied = this.sm.appliedIndex();
    this.leaderTerm = -1;
    this.lastRole = st.role;
    this.appliedSinceSnapshot = 0;
    this.hooks.started?.(this);
    this.hooks.trace(`${this.id} start #${this.incarnation} term=${st.term} commit=${st.commit} last=${this.store.lastIndex()}`);
  }

  crash(reason: string): void {
    if (!this.raft) return;
    this.raft = null;
    for (const r of this.pendingReads) this.hooks.readDropped(this, r.requestId);
    this.pendingReads = [];
    this.hooks.trace(`${this.id} CRASH (${reason})`);
  }

  /** Handle Readies until the core has none; `crashPolicy` may crash the node inside any of them. */
  drainReadies(crashPolicy: CrashPolicy | null): void {
    for (let i = 0; this.raft && this.raft.hasReady(); i++) {
      if (i >= READIES_PER_STEP_MAX) violate('core assertion', `${this.id} still has a Ready after ${READIES_PER_STEP_MAX} in one step`);
      this.handleReady(this.raft, crashPolicy);
    }
  }

  private handleReady(raft: RaftCore, crashPolicy: CrashPolicy | null): void {
    const rd = raft.ready();
    const st = raft.status();
    const crashAt = crashPolicy ? crashPolicy(this, rd, st.role) : null;
    if (rd.softState && rd.softState.role !== this.lastRole) {
      this.hooks.trace(`${this.id} ${rd.softState.role} term=${st.term} leader=${rd.softState.leader ?? '-'}`);
      this.lastRole = rd.softState.role;
    }
    // 0. A leader's Appends and Heartbeats go out before its own persist.
    for (const m of rd.messages) this.hooks.send(m);
    if (crashAt === 'before-persist') return this.crash('before persisting its Ready');

    // 1. Persist (Raft §5.1 / correctness.md item 4: before anything that depends on it is sent).
    if (rd.entries.length > 0 && st.role === 'leader' && st.term === this.leaderTerm && rd.entries[0].index <= this.leaderLastIndex) {
      violate(
        'leader append-only',
        `${this.id}, leader of term ${st.term}, overwrote its log at ${rd.entries[0].index} (last was ${this.leaderLastIndex})`,
      );
    }
    const persistedCommitBefore = this.store.hardState.commit;
    this.store.write(rd.hardState, rd.entries, rd.snapshot);
    if (st.role === 'leader') {
      this.leaderTerm = st.term;
      this.leaderLastIndex = this.store.lastIndex();
    } else {
      this.leaderTerm = -1;
    }
    if (this.store.hardState.commit !== persistedCommitBefore) {
      this.hooks.trace(`${this.id} commit=${this.store.hardState.commit} term=${this.store.hardState.term}`);
    }
    if (crashAt === 'after-persist') return this.crash('after persisting, before sending');

    // 2. Send.
    for (const m of rd.messagesAfterPersist) this.hooks.send(m);
    if (crashAt === 'after-send') return this.crash('after sending, before applying');

    // 3. Apply: snapshot first, then committed entries.
    if (rd.snapshot) {
      if (rd.snapshot.meta.index < this.sm.appliedIndex()) {
        violate(
          'applied monotonic',
          `${this.id} was handed a snapshot at ${rd.snapshot.meta.index} below its applied index ${this.sm.appliedIndex()}`,
        );
      }
      this.sm.restore(rd.snapshot);
      this.hooks.restored(this, rd.snapshot);
      this.hooks.trace(`${this.id} restored snapshot at ${rd.snapshot.meta.index} term=${rd.snapshot.meta.term}`);
    }
    for (const e of rd.committedEntries) {
      this.sm.apply(e);
      this.appliedSinceSnapshot++;
      this.hooks.applied(this, e);
    }
    // 4. Reads whose index is applied.
    this.pendingReads.push(...rd.readStates);
    this.serveReads();
    for (const id of rd.droppedReads) this.hooks.readDropped(this, id);

    raft.advance(rd);
    this.checkMonotonic(raft);
    this.maybeCompact(raft);
  }

  private serveReads(): void {
    if (this.pendingReads.length === 0) return;
    const applied = this.sm.appliedIndex();
    const waiting: ReadState[] = [];
    for (const r of this.pendingReads) {
      if (r.index <= applied) this.hooks.readServed(this, r.requestId);
      else waiting.push(r);
    }
    this.pendingReads = waiting;
  }

  private checkMonotonic(raft: RaftCore): void {
    const st = raft.status();
    if (st.commit < this.lastCommit) violate('commit monotonic', `${this.id} commit went from ${this.lastCommit} to ${st.commit}`);
    if (this.sm.appliedIndex() < this.lastApplied) {
      violate('applied monotonic', `${this.id} applied went from ${this.lastApplied} to ${this.sm.appliedIndex()}`);
    }
    if (this.sm.appliedIndex() > st.commit) {
      violate('core assertion', `${this.id} applied ${this.sm.appliedIndex()} beyond its commit ${st.commit}`);
    }
    this.lastCommit = st.commit;
    this.lastApplied = this.sm.appliedIndex();
  }

  /** Snapshot the state machine now and then and let the core compact (RaftCore.compact). */
  private maybeCompact(raft: RaftCore): void {
    if (this.appliedSinceSnapshot < this.snapshotEveryEntries) return;
    this.appliedSinceSnapshot = 0;
    const snap = this.sm.snapshot();
    if (snap.meta.index <= this.store.snapshotIndex()) return;
    if (this.store.termAt(snap.meta.index) !== snap.meta.term) {
      violate('snapshot consistency', `${this.id} applied index ${snap.meta.index} term ${snap.meta.term} which its own log does not hold`);
    }
    const retainEntries = this.rng.int(4);
    this.store.installSnapshot(snap);
    raft.compact(snap, retainEntries);
    this.hooks.trace(`${this.id} compact at ${snap.meta.index} retain=${retainEntries}`);
  }
}
