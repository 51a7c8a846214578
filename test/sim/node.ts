// One simulated node: a real Raft instance driven by the node's own Ready
// handler (src/node/ready-handler.ts, the code RaftNode runs) over the
// node's in-memory storage twin (MemoryStorage on a MemoryDisk, through
// SimStore), the simulated network (a Transport's send) and a state machine.
// The crash policy may stop the handler at any of its stop points (before
// persisting, between persist and send, after sending) or crash the node
// while a write is in flight (MemoryStorage drops it, unsynced); a crash
// drops the Raft instance, the handler and the state machine with everything
// not yet persisted or sent; a restart builds a new Raft from exactly what
// MemoryStorage loads from the disk. The checks here watch
// what the core hands the handler: leader append-only, commit and applied
// monotonic, applied never past commit.

import pino from 'pino';
import { OutcomeUnknownError } from '../../src/node/api.js';
import { ManualClock } from '../../src/node/clock.js';
import { AddressBook } from '../../src/node/members.js';
import { ReadyHandler } from '../../src/node/ready-handler.js';
import type { StopPoint } from '../../src/node/ready-order.js';
import type { RaftCore } from '../../src/raft/api.js';
import type { Entry, LogIndex, Message, NodeId, RaftConfig, Ready, Role, Snapshot } from '../../src/raft/types.js';
import type { RaftConstructor } from './raft-factory.js';
import type { Prng } from './prng.js';
import { SimStateMachine } from './state-machine.js';
import type { SimStore } from './store.js';
import { InvariantViolation, violate } from './violation.js';

/**
 * Where in Ready handling a crash strikes: the handler's stop points, or 'in-write': inside the
 * Ready's first save (or its snapshot's), after the handler asked for it and before it is durable.
 */
export type CrashPoint = StopPoint | 'in-write';
export { STOP_POINTS as CRASH_POINTS } from '../../src/node/ready-order.js';

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
  /** A proposal made through propose() was answered as applied, with the state machine's result. */
  acknowledged?(node: SimNode, index: LogIndex, result: unknown): void;
  /** A held entry-less Append was dropped for a later one (src/node/append-hold.ts). */
  appendSuperseded?(node: SimNode): void;
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

export type StateMachineFactory = (node: NodeId) => SimStateMachine;

const silent = pino({ level: 'silent' });
/** A node's clock moves this much per tick (a tick stands for a heartbeat interval, 100 ms on a real node). */
export const SIM_CLOCK_MS_PER_TICK = 10;
/** Append holds drawn per start: off, flushed by the next tick, held up to three ticks (heartbeats flush sooner). */
const SIM_APPEND_HOLD_MS = [0, 5, 30] as const;

export class SimNode {
  raft: RaftCore | null = null;
  sm: SimStateMachine;
  private handler: ReadyHandler | null = null;
  /** This incarnation's clock: moves SIM_CLOCK_MS_PER_TICK per tick(), so the handler's timers fire. */
  private clock = new ManualClock();
  incarnation = 0;
  /** Removed from the cluster by a committed change: stopped for good (ids are never reused). */
  retired = false;
  private lastCommit = 0;
  private lastApplied = 0;
  /** Leader append-only (Raft §5.3): the term we last saw ourselves lead and our last index then. */
  private leaderTerm = -1;
  private leaderLastIndex = 0;
  private lastRole = '';
  /** The crash decided for the Ready being handled (the policy sees each Ready once). */
  private crashAt: CrashPoint | null = null;
  private crashPolicy: CrashPolicy | null = null;
  private persistedCommitBefore = 0;
  /** Ends the wait for the Ready being handled when the node crashes inside it (in a save, or retired by an entry it applies). */
  private abandonReady: (() => void) | null = null;
  private struckInWrite = false;
  /** A check that failed inside a promise callback (an answer to a proposal or read), rethrown by drainReadies. */
  private callbackFailure: unknown = null;

  constructor(
    readonly id: NodeId,
    private readonly initialVoters: readonly NodeId[],
    readonly store: SimStore,
    private readonly Raft: RaftConstructor,
    private readonly tuning: RaftTuning,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
    private readonly snapshotEveryEntries: number,
    /** The state machine a (re)started node runs: the command-id list by default, or one that also runs the lock machine. */
    private readonly makeStateMachine: StateMachineFactory = (node) => new SimStateMachine(node),
    /** How long this node, leading, holds entry-less Appends (src/node/append-hold.ts); null: drawn at each start. */
    private readonly appendHoldMs: number | null = 0,
  ) {
    this.sm = makeStateMachine(id);
  }

  get up(): boolean {
    return this.raft !== null;
  }

  /** Index applied to the state machine (entries of every kind, or a restored snapshot). */
  applied(): number {
    return this.handler?.applied() ?? 0;
  }

  start(): void {
    if (this.raft) throw new Error(`${this.id} is already running`);
    if (this.retired) throw new Error(`${this.id} was removed and cannot restart`);
    this.incarnation++;
    this.struckInWrite = false;
    this.crashAt = null;
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
    this.sm = this.makeStateMachine(this.id);
    this.clock = new ManualClock();
    const appendHoldMs = this.appendHoldMs ?? this.rng.fork(`append-hold:${this.id}:${this.incarnation}`).pick(SIM_APPEND_HOLD_MS);
    const persisted = this.store.open(() => this.crashInWrite());
    const raft = new this.Raft(config, persisted);
    this.raft = raft;
    const handler: ReadyHandler = new ReadyHandler(
      {
        id: this.id,
        raft,
        storage: this.store,
        transport: { send: (messages) => messages.forEach((m) => this.hooks.send(m)), setPeers: () => {} },
        stateMachine: this.sm,
        addresses: new AddressBook(),
        logger: silent,
        clock: this.clock, // the sim's waits have no timeouts: the clock only fires the Append hold's timer
        snapshotEveryEntries: this.snapshotEveryEntries,
        retainEntries: () => this.rng.int(4),
        appendHoldMs,
        events: {
          stopAt: (point, rd) => this.stopAt(point, rd),
          applied: (entry) => this.hooks.applied(this, entry),
          restored: (snapshot) => {
            this.hooks.restored(this, snapshot);
            this.hooks.trace(`${this.id} restored snapshot at ${snapshot.meta.index} term=${snapshot.meta.term}`);
          },
          // This incarnation's handler: a node that applies its own removal is retired mid-Ready.
          advanced: () => this.checkMonotonic(raft, handler),
          snapshotTaken: (snapshot) => this.hooks.trace(`${this.id} compact at ${snapshot.meta.index}`),
          appendSuperseded: () => this.hooks.appendSuperseded?.(this),
          // An unsynced write's failure reaches the handler in a promise callback: fail the run from drainReadies.
          writeFailed: (err) => this.guard(() => (err instanceof InvariantViolation ? rethrow(err) : violate('core assertion', `${this.id} write failed: ${err.message}`))),
        },
      },
      persisted,
    );
    this.handler = handler;
    const st = raft.status();
    this.lastCommit = st.commit;
    this.lastApplied = this.applied();
    this.leaderTerm = -1;
    this.lastRole = st.role;
    this.hooks.started?.(this);
    this.hooks.trace(`${this.id} start #${this.incarnation} term=${st.term} commit=${st.commit} last=${this.store.lastIndex()}`);
  }

  /** One Raft tick, and the node's clock moves with it. */
  tick(): void {
    if (!this.raft) return;
    this.raft.tick();
    this.clock.advance(SIM_CLOCK_MS_PER_TICK);
  }

  crash(reason: string): void {
    if (!this.raft) return;
    this.raft = null;
    const handler = this.handler;
    this.handler = null;
    handler?.rejectAll(() => new OutcomeUnknownError(`${this.id} crashed`));
    this.store.crash();
    this.abandonReady?.();
    this.hooks.trace(`${this.id} CRASH (${reason})`);
  }

  /** Leader only: propose through the handler, as the node's API does; hooks.acknowledged hears the answer. */
  propose(data: Uint8Array): { index: LogIndex; term: number } {
    const raft = this.raft;
    const handler = this.handler;
    if (!raft || !handler) throw new Error(`${this.id} is down`);
    const at = raft.propose(data);
    handler.proposals.add(at.index, at.term, Infinity).then(
      ({ index, result }) => this.guard(() => this.hooks.acknowledged?.(this, index, result)),
      () => {}, // outcome unknown or surely not applied: nothing acknowledged
    );
    return at;
  }

  /** Leader only: a ReadIndex read through the handler; hooks.readServed / readDropped hear how it ends. */
  read(requestId: string): void {
    const raft = this.raft;
    const handler = this.handler;
    if (!raft || !handler) throw new Error(`${this.id} is down`);
    const done = handler.reads.add(requestId, Infinity);
    done.then(
      () => this.guard(() => this.hooks.readServed(this, requestId)),
      () => this.guard(() => this.hooks.readDropped(this, requestId)),
    );
    try {
      raft.readIndex(requestId);
    } catch (err) {
      handler.reads.dropped(requestId, null);
      throw err;
    }
  }

  /** Handle Readies until the core has none; `crashPolicy` may crash the node inside any of them. */
  async drainReadies(crashPolicy: CrashPolicy | null): Promise<void> {
    this.crashPolicy = crashPolicy;
    for (let i = 0; this.raft && this.handler && this.raft.hasReady(); i++) {
      if (i >= READIES_PER_STEP_MAX) violate('core assertion', `${this.id} still has a Ready after ${READIES_PER_STEP_MAX} in one step`);
      const handled = await this.handleOne(this.handler);
      this.rethrowCallbackFailure();
      if (!handled) this.crash(describeCrash(this.crashAt));
    }
    this.rethrowCallbackFailure();
  }

  /**
   * The handler's Ready, or false as soon as the node crashes inside it: a write in flight then
   * never completes, and neither does the Ready (the dead handler's writes go nowhere).
   */
  private handleOne(handler: ReadyHandler): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.abandonReady = () => resolve(false);
      handler.handleOne().then(resolve, reject);
    }).finally(() => (this.abandonReady = null));
  }

  /** Asked by the store at each save: crash now if this Ready's crash is 'in-write'. */
  private crashInWrite(): boolean {
    if (this.crashAt !== 'in-write' || !this.abandonReady) return false;
    this.struckInWrite = true;
    this.abandonReady();
    return true;
  }

  /** Answers arrive in promise callbacks; a check failing there must still stop the run. */
  private guard(check: () => void): void {
    try {
      check();
    } catch (err) {
      this.callbackFailure ??= err;
    }
  }

  private rethrowCallbackFailure(): void {
    const err = this.callbackFailure;
    if (err === null) return;
    this.callbackFailure = null;
    throw err;
  }

  /** The handler's stop points: decide this Ready's crash at the first, check what the core handed out. */
  private stopAt(point: StopPoint, rd: Ready): boolean {
    const raft = this.raft;
    if (!raft) return true;
    // Crashed inside a save whose Ready went on without waiting for it (an unsynced write): it ends here.
    if (this.struckInWrite) return true;
    if (point === 'before-persist') {
      const st = raft.status();
      this.crashAt = this.crashPolicy ? this.crashPolicy(this, rd, st.role) : null;
      if (rd.softState && rd.softState.role !== this.lastRole) {
        this.hooks.trace(`${this.id} ${rd.softState.role} term=${st.term} leader=${rd.softState.leader ?? '-'}`);
        this.lastRole = rd.softState.role;
      }
      if (rd.entries.length > 0 && st.role === 'leader' && st.term === this.leaderTerm && rd.entries[0].index <= this.leaderLastIndex) {
        violate(
          'leader append-only',
          `${this.id}, leader of term ${st.term}, overwrote its log at ${rd.entries[0].index} (last was ${this.leaderLastIndex})`,
        );
      }
      this.persistedCommitBefore = this.store.hardState.commit;
    } else if (point === 'after-persist') {
      const st = raft.status();
      if (st.role === 'leader') {
        this.leaderTerm = st.term;
        this.leaderLastIndex = this.store.lastIndex();
      } else {
        this.leaderTerm = -1;
      }
      if (this.store.hardState.commit !== this.persistedCommitBefore) {
        this.hooks.trace(`${this.id} commit=${this.store.hardState.commit} term=${this.store.hardState.term}`);
      }
    }
    return this.crashAt === point;
  }

  private checkMonotonic(raft: RaftCore, handler: ReadyHandler): void {
    const st = raft.status();
    const applied = handler.applied();
    if (st.commit < this.lastCommit) violate('commit monotonic', `${this.id} commit went from ${this.lastCommit} to ${st.commit}`);
    if (applied < this.lastApplied) violate('applied monotonic', `${this.id} applied went from ${this.lastApplied} to ${applied}`);
    if (applied > st.commit) violate('core assertion', `${this.id} applied ${applied} beyond its commit ${st.commit}`);
    this.lastCommit = st.commit;
    this.lastApplied = applied;
  }
}

function describeCrash(point: CrashPoint | null): string {
  switch (point) {
    case 'before-persist':
      return 'before persisting its Ready';
    case 'after-persist':
      return 'after persisting, before sending';
    case 'after-send':
      return 'after sending, before applying';
    case 'in-write':
      return 'with its write in flight (lost)';
    default:
      return 'while handling a Ready';
  }
}

function rethrow(err: Error): never {
  throw err;
}
