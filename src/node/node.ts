// RaftNode: drives the stepped Raft core (src/raft) with real storage, a real
// transport, a clock and a state machine, in the manner of etcd's raft node
// loop. Each Ready is handled by src/node/ready-handler.ts, the same code the
// simulator (test/sim) drives; this file owns what is around it: the tick
// timer, scheduling (one Ready at a time; proposals and messages that arrive
// while a write is in flight go out together in the next Ready: group commit),
// the ReplicatedNode API, fail-stop and graceful stop.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RaftCore } from '../raft/api.js';
import { RaftInvariantError } from '../raft/assert.js';
import { inConf } from '../raft/membership.js';
import {
  ProposalDroppedError,
  type ConfChange,
  type LogIndex,
  type Message,
  MessageRefusedError,
  type NodeId,
  type PersistentState,
  type RaftConfig,
  type Role,
  type Term,
  logIndex,
  term as asTerm,
} from '../raft/types.js';
import type { RaftStorage } from '../storage/api.js';
import type { PeerHello, Transport } from '../transport/api.js';
import {
  NotLeaderError,
  OutcomeUnknownError,
  type NodeStatus,
  type ReplicatedNode,
} from './api.js';
import type { Clock } from './clock.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { type BootstrapVotersRecord, settleBootstrapVoters } from './bootstrap-voters.js';
import { AddressBook, encodeMemberContext, isHttpUrl } from './members.js';
import { ReadyHandler, type ReadyEvents } from './ready-handler.js';
import { seedFor, seededRandom } from './random.js';
import type { StateMachine } from './state-machine.js';
import { Ticker } from './ticker.js';

export type RaftFactory = (config: RaftConfig, persisted: PersistentState) => RaftCore;

export interface InitialMember {
  id: NodeId;
  peerUrl: string;
  apiUrl?: string | null;
}

export interface RaftNodeOptions {
  id: NodeId;
  clusterId: string;
  /** The initial voters with their addresses (--peers); this node included. Only addresses are used once the node has state. */
  members: InitialMember[];
  /**
   * Where the cluster's bootstrap voters are recorded at the first start and read back at every
   * later one, so that --peers only gives addresses then (bootstrap-voters.ts). Without it (tests
   * that restart a node with the same members), the members' ids at every start.
   */
  bootstrapVoters?: BootstrapVotersRecord;
  /** This node's own API URL (shown in status, handed to joiners). */
  apiUrl: string | null;
  tickMs: number;
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  storage: RaftStorage;
  transport: Transport;
  stateMachine: StateMachine;
  logger: Logger;
  clock: Clock;
  /** Take a state machine snapshot and compact the log every this many applied entries. */
  snapshotEveryEntries: number;
  /** Entries kept behind a snapshot for slightly lagging followers. */
  snapshotRetainEntries?: number;
  /** How long a leader's entry-less Append may wait to be superseded (src/node/append-hold.ts); 0 sends at once. */
  appendHoldMs?: number;
  /** Seed of the PRNG handed to Raft (election jitter). */
  randomSeed?: number;
  /** Builds the core: `(c, p) => new Raft(c, p)` from src/raft/raft.ts. */
  createRaft: RaftFactory;
  /** Overrides of the remaining Raft settings. */
  raft?: Partial<Pick<RaftConfig, 'preVote' | 'checkQuorum' | 'leaseReads' | 'maxInflightAppends' | 'maxEntriesPerAppend' | 'maxBytesPerAppend' | 'maxCommittedEntriesPerReady'>>;
  /** Where to register the node's Prometheus metrics (the registry GET /metrics serves). */
  registry?: Registry;
  /** Tests: no tick timer; time moves only through tickNow(). */
  manualTicks?: boolean;
  /** A storage failure is fatal (we cannot know what is durable): called once, after the node stopped. Default: log only. */
  onFatal?: (err: Error) => void;
}

/** Limits, named: every bound of the node in one place. */
export const DEFAULT_SNAPSHOT_RETAIN_ENTRIES = 1_000;
/**
 * A commit notice waits this long for the next Append to carry it: longer than the gap between two
 * proposals of one busy client (~1 ms here), short beside a heartbeat (100 ms) and a watcher's patience.
 */
export const DEFAULT_APPEND_HOLD_MS = 2;
export const DEFAULT_MAX_INFLIGHT_APPENDS = 256;
export const DEFAULT_MAX_ENTRIES_PER_APPEND = 1_024;
export const DEFAULT_MAX_BYTES_PER_APPEND = 1 << 20;
export const DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY = 4_096;
/** How long stop() waits for in-flight proposals to finish before handing leadership over. */
export const STOP_DRAIN_MS = 2_000;

type RoleListener = (role: Role, leader: NodeId | null, term: Term) => void;
interface ConditionWaiter {
  check(): void;
}

export class RaftNode implements ReplicatedNode {
  readonly id: NodeId;
  readonly clusterId: string;
  private readonly opts: RaftNodeOptions;
  private readonly log: Logger;
  private readonly addresses = new AddressBook();
  private readonly roleListeners = new Set<RoleListener>();
  /** The last term in which a leader was seen (lockstep_raft_leader_changes_total counts each such term once). */
  private leaderSeenTerm: Term | null = null;
  private readonly conditions = new Set<ConditionWaiter>();
  private readonly ticker: Ticker;
  private raft: RaftCore | null = null;
  private handler: ReadyHandler | null = null;
  private readonly metrics: NodeMetrics | null;

  private readyRunning = false;
  private readyScheduled = false;
  private readyIdle: Promise<void> = Promise.resolve();
  private readyIdleResolve: (() => void) | null = null;
  private started = false;
  private stopping = false;
  private stopped = false;
  private fatal: Error | null = null;
  /** The member that refused this node as removed from the cluster (ids are never reused: it stays removed). */
  private removedBy: NodeId | null = null;
  /** Read request ids are never reused, not even across restarts (etcd #20418; docs/safety.md #3). */
  private readonly readIdPrefix: string;
  private readSeq = 0;

  /** Counters for tests and metrics. */
  readonly stats = { readies: 0, saves: 0, entriesSaved: 0, messagesSent: 0, snapshotsTaken: 0, snapshotsRestored: 0 };

  constructor(options: RaftNodeOptions) {
    if (!(options.snapshotEveryEntries >= 1)) throw new Error(`snapshotEveryEntries must be >= 1, got ${options.snapshotEveryEntries}`);
    if (!(options.electionTimeoutTicks > options.heartbeatIntervalTicks)) {
      throw new Error('electionTimeoutTicks must be greater than heartbeatIntervalTicks');
    }
    this.opts = options;
    this.id = options.id;
    this.clusterId = options.clusterId;
    this.log = options.logger;
    for (const m of options.members) {
      this.addresses.pinPeerUrl(m.id, m.peerUrl);
      if (m.apiUrl) this.addresses.learnAddress(m.id, { apiUrl: m.apiUrl });
    }
    if (options.apiUrl) this.addresses.learnAddress(this.id, { apiUrl: options.apiUrl });
    this.readIdPrefix = `${options.id}:${options.clock.wallMs().toString(36)}:${Math.random().toString(36).slice(2, 10)}:`;
    this.metrics = options.registry ? createNodeMetrics(options.registry, () => this.status()) : null;
    this.ticker = new Ticker(options.clock, options.tickMs, options.electionTimeoutTicks, (n) => this.onTicks(n));
  }

  /** Load persisted state, restore the state machine from its snapshot, start the transport and the ticks. */
  async start(): Promise<void> {
    if (this.started) throw new Error('RaftNode.start called twice');
    this.started = true;
    const o = this.opts;
    const persisted = await o.storage.load();
    const config: RaftConfig = {
      id: o.id,
      initialVoters: o.bootstrapVoters ? settleBootstrapVoters(o.bootstrapVoters, o.members.map((m) => m.id), persisted, this.log) : o.members.map((m) => m.id),
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatIntervalTicks: o.heartbeatIntervalTicks,
      random: seededRandom(o.randomSeed ?? seedFor(o.id, process.pid ^ Date.now())),
      preVote: o.raft?.preVote ?? true,
      checkQuorum: o.raft?.checkQuorum ?? true,
      leaseReads: o.raft?.leaseReads ?? false,
      maxInflightAppends: o.raft?.maxInflightAppends ?? DEFAULT_MAX_INFLIGHT_APPENDS,
      maxEntriesPerAppend: o.raft?.maxEntriesPerAppend ?? DEFAULT_MAX_ENTRIES_PER_APPEND,
      maxBytesPerAppend: o.raft?.maxBytesPerAppend ?? DEFAULT_MAX_BYTES_PER_APPEND,
      maxCommittedEntriesPerReady: o.raft?.maxCommittedEntriesPerReady ?? DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY,
    };
    const raft = o.createRaft(config, persisted);
    this.raft = raft;
    this.handler = new ReadyHandler(
      {
        id: o.id,
        raft,
        storage: o.storage,
        transport: o.transport,
        stateMachine: o.stateMachine,
        addresses: this.addresses,
        logger: this.log,
        clock: o.clock,
        snapshotEveryEntries: o.snapshotEveryEntries,
        retainEntries: () => o.snapshotRetainEntries ?? DEFAULT_SNAPSHOT_RETAIN_ENTRIES,
        appendHoldMs: o.appendHoldMs ?? DEFAULT_APPEND_HOLD_MS,
        events: this.readyEvents(),
      },
      persisted,
    );
    this.log.info(
      {
        term: persisted.hardState.term,
        commit: persisted.hardState.commit,
        snapshotIndex: persisted.snapshot?.meta.index ?? 0,
        entries: persisted.entries.length,
      },
      'node state loaded',
    );

    o.transport.onMessage((m) => this.onMessage(m) ?? undefined);
    o.transport.onSnapshotOffer?.((header) => this.snapshotOffer(header) ?? undefined);
    o.transport.onUnreachable((to) => this.withRaft((r) => r.reportUnreachable(to)));
    o.transport.onPeerDown?.((peer) => this.withRaft((r) => r.reportPeerDown(peer)));
    o.transport.onSnapshotStatus((to, ok) => this.withRaft((r) => r.reportSnapshot(to, ok)));
    o.transport.onPeerHello((hello) => this.onPeerHello(hello));
    o.transport.onRemovedPeer?.((peer) => this.removedPeerRefusal(peer) ?? undefined);
    o.transport.onRemovedFromCluster?.((by) => (this.removedBy ??= by));
    o.transport.setPeers(this.addresses.peerAddresses(this.id));
    await o.transport.start();
    if (!o.manualTicks) this.ticker.start();
    this.scheduleReady();
  }

  /** Tests with manualTicks: deliver `ticks` Raft ticks now. */
  tickNow(ticks = 1): void {
    this.onTicks(ticks);
  }

  // ---- inputs -------------------------------------------------------------

  private withRaft(fn: (raft: RaftCore) => void): void {
    if (!this.raft || this.stopped) return;
    try {
      fn(this.raft);
    } catch (err) {
      this.coreFailed(err);
      return;
    }
    this.scheduleReady();
  }

  /**
   * An exception from the core is a broken invariant (two leaders in one term, a
   * conflict below the commit index...): its state can no longer be trusted, and
   * carrying on could lose committed data. Fail-stop at once: the invariant is
   * logged at fatal and onFatal exits the process non-zero (issue 9 §6).
   */
  private coreFailed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.die(new Error(`raft core invariant broken: ${error.message}`, { cause: error }));
  }

  private onTicks(ticks: number): void {
    this.withRaft((r) => {
      for (let i = 0; i < ticks; i++) r.tick();
    });
    this.checkConditions();
  }

  /**
   * A peer announces a snapshot: taken only from the leader of our term, and only when it is ahead of
   * what we have committed (what the leader sends a follower that needs one); otherwise refused before
   * any byte is buffered. A leader that raced us (our term behind, its Heartbeat not yet in) is told
   * not-ok and sends it again.
   */
  private snapshotOffer(header: Extract<Message, { type: 'InstallSnapshot' }>): string | null {
    if (!this.raft || this.stopped) return 'node not running';
    const st = this.raft.status();
    if (header.from !== st.leader || header.term !== st.term) return `not from the leader (${st.leader ?? 'none known'} in term ${st.term})`;
    if (header.snapshot.meta.index <= st.commit) return `not needed: snapshot at ${header.snapshot.meta.index}, commit ${st.commit}`;
    return null;
  }

  /** Steps a peer's message; returns why it is refused (the transport then closes its connection). */
  private onMessage(message: Message): string | null {
    if (!this.raft || this.stopped) return null;
    if (message.to !== this.id) {
      // Misaddressed input is the peer's problem, not a broken invariant here.
      this.log.warn({ from: message.from, to: message.to, type: message.type }, 'message for another node refused');
      return `message for ${message.to} sent to ${this.id}`;
    }
    // A removed node is heard from by its campaigns, on a connection it opened while a member: closing
    // that connection sends it back to the hello, which tells it why.
    if (message.type === 'PreVote' || message.type === 'Vote') {
      const removed = this.removedPeerRefusal(message.from);
      if (removed !== null) return removed;
    }
    try {
      if (message.type === 'InstallSnapshot') {
        // Restoring data that does not decode would stop this node for good: refuse it before the core keeps it.
        const undecodable = this.opts.stateMachine.checkSnapshot?.(message.snapshot.data, message.snapshot.meta.index) ?? null;
        if (undecodable !== null) throw new MessageRefusedError(message.from, message.type, `snapshot data does not decode: ${undecodable}`);
      }
      this.raft.step(message);
    } catch (err) {
      if (err instanceof MessageRefusedError) {
        this.log.warn({ from: message.from, type: message.type, term: message.term, reason: err.message }, 'peer message refused');
        return err.message;
      }
      this.coreFailed(err);
      return null;
    }
    this.scheduleReady();
    return null;
  }

  /**
   * Why `peer` may no longer talk to this node: it was a member and its removal is applied here (a
   * removal not yet committed can still be undone), and ids are never reused. The removed node is told
   * so at every hello and logs it (as etcd answers ErrMemberRemoved); before, it ran on unseen, a
   * pre-candidate for ever, answering 503 with nothing in its log. Judged only while this node is
   * itself a member.
   */
  private removedPeerRefusal(peer: NodeId): string | null {
    if (!this.raft || this.stopped) return null;
    const { conf, appliedConf } = this.raft.status();
    if (!inConf(conf, this.id) || inConf(conf, peer) || !(appliedConf.removed ?? []).includes(peer)) return null;
    return `node ${peer} was removed from this cluster: stop it (to bring its machine back, clear its --data and add it under a new id with 'lockstep members add')`;
  }

  private onPeerHello(hello: PeerHello): void {
    if (hello.clusterId !== this.clusterId) {
      this.log.warn({ peer: hello.nodeId, clusterId: hello.clusterId }, 'peer from another cluster ignored');
      return;
    }
    // Learned only for a node already in the address book (its peer address came from --peers or a
    // replicated context), and only an http(s) URL. Before, every hello taught an address: strangers
    // dialing with a fresh node id and a 1 MiB apiUrl each grew the address book without bound (200
    // hellos: +240 MB, never freed), and a URL that does not parse was handed to whoever builds a
    // request to the leader from it. A member being added is learned from its config entry's context.
    if (this.addresses.address(hello.nodeId) === null) return;
    if (!isHttpUrl(hello.apiUrl)) {
      this.log.warn({ peer: hello.nodeId }, 'peer hello with an API URL that is not an http(s) URL ignored');
      return;
    }
    if (this.addresses.learnAddress(hello.nodeId, { apiUrl: hello.apiUrl })) {
      this.log.debug({ peer: hello.nodeId, apiUrl: hello.apiUrl }, 'learned peer api url');
    }
  }

  // ---- the Ready loop -----------------------------------------------------

  /** Coalesce: messages and proposals arriving in the same turn share one Ready. */
  private scheduleReady(): void {
    if (this.readyScheduled || this.readyRunning || this.stopped || !this.raft) return;
    this.readyScheduled = true;
    setImmediate(() => {
      this.readyScheduled = false;
      void this.runReadyLoop();
    });
  }

  /** Never two Ready handlings at once: the flag is only cleared when the loop has nothing left. */
  private async runReadyLoop(): Promise<void> {
    const { raft, handler } = this;
    if (this.readyRunning || !raft || !handler) return;
    this.readyRunning = true;
    this.readyIdle = new Promise((resolve) => (this.readyIdleResolve = resolve));
    try {
      while (!this.stopped && raft.hasReady()) {
        this.stats.readies++;
        if (!(await handler.handleOne())) break;
        this.checkConditions();
      }
    } catch (err) {
      this.die(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.readyRunning = false;
      this.readyIdleResolve?.();
      this.readyIdleResolve = null;
    }
  }

  /** What the Ready handler reports: stop once stop() began, stats, metrics, role listeners. */
  private readyEvents(): ReadyEvents {
    return {
      // A stop lets the current Ready finish its save, then sends and applies nothing more.
      stopAt: () => this.stopped,
      saved: (rd, ms) => {
        this.metrics?.saveSeconds.observe(ms / 1000);
        if (rd.entries.length > 0) this.metrics?.entriesPerSave.observe(rd.entries.length);
        this.stats.saves++;
        this.stats.entriesSaved += rd.entries.length;
      },
      restored: () => {
        this.stats.snapshotsRestored++;
        this.metrics?.snapshots.inc({ kind: 'restored' });
      },
      snapshotTaken: () => {
        this.stats.snapshotsTaken++;
        this.metrics?.snapshots.inc({ kind: 'taken' });
      },
      softState: (_role, leader, t) => {
        if (leader !== null && t !== this.leaderSeenTerm) {
          this.leaderSeenTerm = t;
          this.metrics?.leaderChanges.inc();
        }
      },
      roleChanged: (role, leader, t) => {
        for (const listener of [...this.roleListeners]) {
          try {
            listener(role, leader, t);
          } catch (err) {
            this.log.error({ err }, 'role listener threw');
          }
        }
      },
      appendSuperseded: () => this.metrics?.commitNoticesSuperseded.inc(),
      writeFailed: (err) => this.die(err),
    };
  }

  private die(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log.fatal({ err }, 'node stopped on a fatal error');
    this.stopped = true;
    this.ticker.stop();
    this.checkConditions();
    this.handler?.rejectAll(() => new OutcomeUnknownError(`node failed: ${err.message}`));
    this.opts.onFatal?.(err);
  }

  // ---- ReplicatedNode -----------------------------------------------------

  private requireLeader(): { raft: RaftCore; handler: ReadyHandler } {
    const { raft, handler } = this;
    if (!raft || !handler || this.stopping || this.stopped) throw new NotLeaderError(null);
    const st = raft.leadership();
    if (st.role !== 'leader') throw new NotLeaderError(st.leader);
    return { raft, handler };
  }

  private translate(err: unknown, raft: RaftCore): Error {
    if (err instanceof RaftInvariantError) this.coreFailed(err);
    // Dropped before it was appended (e.g. during a leadership transfer): surely not applied.
    if (err instanceof ProposalDroppedError) return new NotLeaderError(raft.status().leader);
    return err instanceof Error ? err : new Error(String(err));
  }

  async propose(data: Uint8Array, timeoutMs: number): Promise<{ index: LogIndex; result: unknown }> {
    const { raft, handler } = this.requireLeader();
    let at: { index: LogIndex; term: Term };
    try {
      at = raft.propose(data);
    } catch (err) {
      throw this.translate(err, raft);
    }
    const done = handler.proposals.add(at.index, at.term, timeoutMs);
    this.scheduleReady();
    if (this.metrics) {
      const { proposals: m, commitSeconds } = this.metrics;
      const proposedMs = performance.now();
      done.then(
        () => {
          m.inc({ outcome: 'applied' });
          commitSeconds.observe((performance.now() - proposedMs) / 1000);
        },
        (err: unknown) => m.inc({ outcome: err instanceof NotLeaderError ? 'not_leader' : 'outcome_unknown' }),
      );
    }
    return done;
  }

  private async proposeConf(change: ConfChange, timeoutMs: number): Promise<LogIndex> {
    const { raft, handler } = this.requireLeader();
    let at: { index: LogIndex; term: Term };
    try {
      at = raft.proposeConfChange(change);
    } catch (err) {
      if (err instanceof ProposalDroppedError) throw err; // another change in flight: the caller may retry
      throw this.translate(err, raft);
    }
    const done = handler.proposals.add(at.index, at.term, timeoutMs);
    this.scheduleReady();
    return (await done).index;
  }

  async readBarrier(timeoutMs: number): Promise<LogIndex> {
    const { raft, handler } = this.requireLeader();
    const requestId = this.readIdPrefix + (++this.readSeq).toString(36);
    const done = handler.reads.add(requestId, timeoutMs);
    try {
      raft.readIndex(requestId);
    } catch (err) {
      handler.reads.dropped(requestId, raft.status().leader);
      done.catch(() => {});
      throw this.translate(err, raft);
    }
    this.scheduleReady();
    return done;
  }

  leadershipConfirmedRecently(): boolean {
    if (!this.raft || this.stopped) return false;
    const st = this.raft.status();
    return (
      st.role === 'leader' &&
      st.ticksSinceQuorumContact !== null &&
      st.ticksSinceQuorumContact < this.opts.electionTimeoutTicks
    );
  }

  leaderHeardRecently(): boolean {
    if (!this.raft || this.stopped) return false;
    const st = this.raft.status();
    if (st.role === 'leader') return this.leadershipConfirmedRecently();
    return st.leader !== null && st.ticksSinceLeaderContact !== null && st.ticksSinceLeaderContact < this.opts.electionTimeoutTicks;
  }

  status(): NodeStatus {
    const st = this.raft?.status();
    const progress: NodeStatus['progress'] = st?.progress
      ? Object.fromEntries(
          Object.entries(st.progress).map(([id, p]) => [id, { matchIndex: p.match, reachable: id === this.id || p.recentActive }]),
        )
      : null;
    // Before start() the core does not exist yet: the bootstrap voters.
    const conf = st?.appliedConf ?? { voters: this.opts.members.map((m) => m.id), learners: [] };
    return {
      clusterId: this.clusterId,
      id: this.id,
      role: st?.role ?? 'follower',
      leader: st?.leader ?? null,
      term: st?.term ?? asTerm(0),
      commitIndex: st?.commit ?? logIndex(0),
      appliedIndex: this.appliedIndex(),
      conf,
      members: this.addresses.members(conf),
      removed: this.removedBy !== null || (conf.removed ?? []).includes(this.id),
      progress,
    };
  }

  leadership(): { role: Role; leader: NodeId | null; term: Term } {
    // Before start() the core does not exist yet: as status() says then.
    return this.raft?.leadership() ?? { role: 'follower', leader: null, term: asTerm(0) };
  }

  leaderApiUrl(): string | null {
    const leader = this.raft?.leadership().leader ?? null;
    if (!leader) return null;
    return this.addresses.address(leader)?.apiUrl ?? null;
  }

  /** Any member's API URL, if known. */
  apiUrlOf(id: NodeId): string | null {
    return this.addresses.address(id)?.apiUrl ?? null;
  }

  onRoleChange(listener: RoleListener): () => void {
    this.roleListeners.add(listener);
    return () => this.roleListeners.delete(listener);
  }

  /** Resolve once `predicate` holds, checked after every Ready and every tick; reject after timeoutMs. */
  private waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: ConditionWaiter = {
        check: () => {
          if (this.fatal) finish(this.fatal);
          else if (predicate()) finish(null);
        },
      };
      const timer = this.opts.clock.setTimer(() => finish(new OutcomeUnknownError(`${what} did not happen within ${Math.round(timeoutMs)} ms`)), timeoutMs);
      const finish = (err: Error | null): void => {
        timer.cancel();
        this.conditions.delete(waiter);
        if (err) reject(err);
        else resolve();
      };
      this.conditions.add(waiter);
    });
  }

  private checkConditions(): void {
    for (const c of [...this.conditions]) c.check();
  }

  /** The voter (not us) with the highest match index: the cheapest to hand leadership to. */
  private bestTransferee(): NodeId | null {
    const st = this.raft?.status();
    if (!st?.progress) return null;
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const v of st.conf.voters) {
      if (v === this.id) continue;
      const p = st.progress[v];
      // One that has not answered within an election timeout cannot take over: writes would stall for nothing.
      if (p && p.recentActive && p.match > bestMatch) {
        best = v;
        bestMatch = p.match;
      }
    }
    return best;
  }

  async transferLeadership(to: NodeId | null, timeoutMs: number): Promise<NodeId> {
    const { raft } = this.requireLeader();
    const target = to ?? this.bestTransferee();
    if (!target) throw new NotLeaderError(this.id); // alone: nobody to hand over to
    if (target === this.id) return this.id;
    if (!raft.status().conf.voters.includes(target)) throw new Error(`${target} is not a voter`);
    try {
      raft.transferLeadership(target);
    } catch (err) {
      throw this.translate(err, raft);
    }
    this.scheduleReady();
    await this.waitFor(() => raft.status().leader === target, timeoutMs, `leadership transfer to ${target}`);
    return target;
  }

  async addMember(member: { id: NodeId; peerUrl: string; apiUrl: string; voter: boolean }, timeoutMs: number): Promise<void> {
    const deadline = this.opts.clock.monotonicMs() + timeoutMs;
    const left = (): number => Math.max(1, deadline - this.opts.clock.monotonicMs());
    const { raft } = this.requireLeader();
    // The leader must reach the learner as soon as the change is appended.
    this.addresses.learnAddress(member.id, { peerUrl: member.peerUrl, apiUrl: member.apiUrl });
    this.opts.transport.setPeers(this.addresses.peerAddresses(this.id));
    const context = encodeMemberContext({ peerUrl: member.peerUrl, apiUrl: member.apiUrl });
    const conf = raft.status().appliedConf;
    if (conf.voters.includes(member.id)) return;
    if (!conf.learners.includes(member.id)) {
      await this.proposeConf({ kind: 'addLearner', node: member.id, context }, left());
    }
    if (!member.voter) return;
    // Promote only once caught up, so the new voter does not stall commits (Raft dissertation §4.2.1).
    await this.waitFor(
      () => {
        const st = this.raft?.status();
        const p = st?.progress?.[member.id];
        return !!st && !!p && p.match >= st.commit;
      },
      left(),
      `catch-up of ${member.id}`,
    );
    await this.proposeConf({ kind: 'addVoter', node: member.id, context }, left());
  }

  async removeMember(id: NodeId, timeoutMs: number): Promise<void> {
    const conf = this.requireLeader().raft.status().appliedConf;
    if (!inConf(conf, id)) return;
    await this.proposeConf({ kind: 'removeNode', node: id }, timeoutMs);
  }

  /** Applied index of the local state machine (for stale reads). */
  appliedIndex(): LogIndex {
    return this.handler?.applied() ?? logIndex(0);
  }

  /** The error the node died of, if it did. */
  failure(): Error | null {
    return this.fatal;
  }

  /**
   * Graceful stop: refuse new work, let in-flight proposals finish (bounded),
   * hand leadership over if leader (bounded), drain the Ready loop so that
   * everything handed to storage is durable, then close transport and storage.
   */
  async stop(options: { transferTimeoutMs?: number; drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const transferTimeoutMs = options.transferTimeoutMs ?? this.opts.electionTimeoutTicks * this.opts.tickMs * 2;
    if (this.raft && !this.stopped) {
      const proposals = this.handler?.proposals;
      if (proposals && proposals.size > 0) {
        await this.waitFor(() => proposals.size === 0, options.drainTimeoutMs ?? STOP_DRAIN_MS, 'drain').catch(() => {});
      }
      const st = this.raft.status();
      const target = st.role === 'leader' ? this.bestTransferee() : null;
      if (target) {
        const raft = this.raft;
        try {
          raft.transferLeadership(target);
          this.scheduleReady();
          await this.waitFor(() => raft.status().role !== 'leader', transferTimeoutMs, 'leadership hand-over');
          this.log.info({ to: target }, 'handed leadership over');
        } catch (err) {
          this.log.warn({ err, to: target }, 'leadership hand-over failed; stopping anyway');
        }
      }
    }
    this.ticker.stop();
    // No new Ready starts from here; the current one finishes its save (the
    // flush) and stops before sending or applying anything more.
    this.stopped = true;
    if (this.readyRunning) await this.readyIdle;
    this.handler?.rejectAll(() => new OutcomeUnknownError('node stopped'));
    await this.opts.transport.close().catch((err: unknown) => this.log.warn({ err }, 'transport close failed'));
    await this.opts.storage.close().catch((err: unknown) => this.log.warn({ err }, 'storage close failed'));
    this.log.info({ applied: this.appliedIndex() }, 'node stopped');
  }
}
