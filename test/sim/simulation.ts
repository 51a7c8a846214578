// One simulated run: a pure function of (seed, options). A chaos phase
// (nemesis: partitions, crashes, restarts, crashes inside Ready handling,
// lossy/duplicating/reordering network, membership changes, leadership
// transfers) is followed by a heal phase in which the network is fair and
// every node is up, where liveness is checked. Safety is checked at every step.

import type { Entry, Message, NodeId, Ready, Role } from '../../src/raft/types.js';
import { StorageInvariantError } from '../../src/storage/log-shape.js';
import { MessageRefusedError, nodeId } from '../../src/raft/types.js';
import { PeerMessageError, checkMessage } from '../../src/transport/validate.js';
import { CORRUPT_PROBABILITY, corrupt } from './corrupt.js';
import { encodeProposal } from '../../src/locks/codec.js';
import { Checker, type LeaderView } from './checker.js';
import { LockChecker } from './lock-checker.js';
import { LockClient } from './lock-client.js';
import { LockSimStateMachine } from './lock-state-machine.js';
import { LogRegistry } from './log-registry.js';
import { CHAOTIC_NETWORK, FAIR_NETWORK, SimNetwork } from './network.js';
import { CRASH_POINTS, SimNode, type CrashPoint, type CrashPolicy, type NodeHooks, type RaftTuning } from './node.js';
import {
  ADDED_NODES_MAX,
  CATCH_UP_BOUND_TICKS,
  CLIENT,
  LIVENESS_BOUND_TICKS,
  MAX_ENTRIES_PER_APPEND_CHOICES,
  MAX_INFLIGHT_APPENDS_CHOICES,
  NEMESIS,
  PEER_DOWN,
  raftTuning,
  SNAPSHOT_EVERY_ENTRIES,
} from './params.js';
import { PARTITION_KINDS, partition } from './partitions.js';
import { Prng } from './prng.js';
import type { RaftConstructor } from './raft-factory.js';
import { SimStore } from './store.js';
import { Trace } from './trace.js';
import { InvariantViolation, violate, type Property } from './violation.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Steps (ticks) of the chaos phase; the heal phase runs after them. */
  steps: number;
  /**
   * What every node applies: 'kv' (default) the command-id list only; 'locks'
   * also a real LockMachine fed meaningful lock proposals, with the lock
   * invariants checked on every applied state (lock-checker.ts).
   */
  machine?: SimMachine;
  trace?: boolean;
  /**
   * Members send corrupted messages during the chaos phase (corrupt.ts): each one passes the
   * transport's checks and the core's guard as on a real node, and is dropped (its connection closed)
   * when refused; anything else thrown is a crash and fails the run.
   */
  corruptMessages?: boolean;
  /**
   * The leader's process dies with its connections closing, and members are told (reportPeerDown);
   * wrong hints about a live leader too (params.ts PEER_DOWN).
   */
  peerDownFaults?: boolean;
  /** Print each trace line as it happens (the CLI). */
  echo?: (line: string) => void;
  /**
   * How long a leader holds entry-less Appends (src/node/append-hold.ts), in ms of a node's clock
   * (SIM_CLOCK_MS_PER_TICK per step). Unset: drawn per node start. 0 for the seeds pinned before the
   * hold existed (findings.test.ts), so they replay the runs that found their bugs.
   */
  appendHoldMs?: number;
}

export type SimMachine = 'kv' | 'locks';
export const SIM_MACHINES: readonly SimMachine[] = ['kv', 'locks'];

export interface SimFailure {
  property: Property;
  message: string;
  step: number;
}

export interface SimStats {
  stepsRun: number;
  leadersElected: number;
  committed: number;
  acknowledged: number;
  readsServed: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  /** Re-adds of a removed id the leader refused (it must refuse every one). */
  readdsRefused: number;
  transfers: number;
  snapshotsRestored: number;
  delivered: number;
  dropped: number;
  livenessTicks: number | null;
  /** 'locks' runs: entries applied to a LockMachine (over all nodes) and fencing tokens granted. */
  lockApplies: number;
  lockGrants: number;
  /** corruptMessages runs: corrupted messages refused by the transport's checks or the core's guard, and those stepped. */
  corruptRefused: number;
  corruptStepped: number;
  /** peerDownFaults runs: leaders killed with their connections closing, and reportPeerDown calls made (true and wrong hints). */
  leaderKills: number;
  peerDownReports: number;
  /** Entry-less Appends a leader held and then dropped for a later Append (src/node/append-hold.ts). */
  appendsSuperseded: number;
}

export interface SimResult {
  seed: number;
  nodes: number;
  steps: number;
  machine: SimMachine;
  peerDownFaults: boolean;
  corruptMessages: boolean;
  failure: SimFailure | null;
  stats: SimStats;
  trace: string[];
}

const encoder = new TextEncoder();
const textDecoder = new TextDecoder();

interface PendingRead {
  node: string;
  /** Commands acknowledged (applied anywhere) before the read was issued. */
  ackedBefore: number;
  issuedStep: number;
}

function isExpectedRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'not_leader' || code === 'proposal_dropped';
}

export class Simulation {
  private readonly rng: Prng;
  private readonly netRng: Prng;
  private readonly nemesisRng: Prng;
  private readonly clientRng: Prng;
  /** Whether a crash before persisting strikes inside the write instead (a fork: other draws keep their schedules). */
  private readonly writeCrashRng: Prng;
  /** Whether the nemesis asks the leader to add a removed id again (it must refuse). */
  private readonly readdRng: Prng;
  /** Ids whose removal some node applied, at the removal's index: no entry after it may add the id again. */
  private readonly removedAt = new Map<NodeId, number>();
  private readonly network: SimNetwork;
  private readonly registry = new LogRegistry();
  private readonly checker = new Checker();
  private readonly nodes = new Map<string, SimNode>();
  private readonly trace: Trace;
  private readonly initialVoters: NodeId[];
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly tuning: RaftTuning;
  private readonly machine: SimMachine;
  /** null: each node draws its own at each start. */
  private readonly appendHoldMs: number | null;
  /** 'locks' runs only. */
  private readonly lockClient: LockClient | null = null;
  private readonly lockChecker: LockChecker | null = null;
  /** The highest index whose first application the lock client has learned from. */
  private lockLearnedIndex = 0;
  /** Nodes that crashed inside Ready handling and come back at a given step. */
  private readonly quickRestarts = new Map<string, number>();
  private readonly reads = new Map<string, PendingRead>();
  private step = 0;
  private commandSeq = 0;
  private readSeq = 0;
  private addedNodes = 0;
  private healStep: number | null = null;
  private probe: { id: string; label: string; node: string; term: number } | null = null;
  private readonly stats: SimStats = {
    stepsRun: 0,
    leadersElected: 0,
    committed: 0,
    acknowledged: 0,
    readsServed: 0,
    appendsSuperseded: 0,
    crashes: 0,
    partitions: 0,
    confChanges: 0,
    readdsRefused: 0,
    transfers: 0,
    snapshotsRestored: 0,
    delivered: 0,
    dropped: 0,
    livenessTicks: null,
    lockApplies: 0,
    lockGrants: 0,
    corruptRefused: 0,
    corruptStepped: 0,
    leaderKills: 0,
    peerDownReports: 0,
  };
  /** corruptMessages runs only (a fork consumes nothing, so other runs keep their schedules). */
  private readonly corruptRng: Prng | null;
  /** peerDownFaults runs only, likewise. */
  private readonly peerDownRng: Prng | null;
  /** Hints on their way: each member notices a closed connection at its own step. */
  private peerDownHints: Array<{ node: NodeId; incarnation: number; peer: NodeId; atStep: number }> = [];

  constructor(
    private readonly options: SimOptions,
    private readonly Raft: RaftConstructor,
  ) {
    if (options.nodes < 1 || options.nodes > 9) throw new Error(`nodes must be in 1..9, got ${options.nodes}`);
    this.rng = new Prng(options.seed);
    this.netRng = this.rng.fork('network');
    this.nemesisRng = this.rng.fork('nemesis');
    this.clientRng = this.rng.fork('client');
    this.writeCrashRng = this.rng.fork('write-crash');
    this.corruptRng = options.corruptMessages ? this.rng.fork('corrupt') : null;
    this.peerDownRng = options.peerDownFaults ? this.rng.fork('peer-down') : null;
    // Its own stream: asking to re-add a removed id leaves every other schedule of a seed as it was.
    this.readdRng = this.rng.fork('re-add');
    this.network = new SimNetwork(this.netRng);
    this.network.faults = CHAOTIC_NETWORK;
    this.trace = new Trace(options.trace ?? false, options.echo ?? null);
    // Safety must hold with and without pre-vote and check-quorum; vary them by seed.
    const flags = this.rng.fork('flags');
    this.preVote = flags.chance(0.75);
    this.checkQuorum = flags.chance(0.75);
    this.tuning = raftTuning(
      this.preVote,
      this.checkQuorum,
      flags.pick(MAX_INFLIGHT_APPENDS_CHOICES),
      flags.pick(MAX_ENTRIES_PER_APPEND_CHOICES),
    );
    this.machine = options.machine ?? 'kv';
    this.appendHoldMs = options.appendHoldMs ?? null;
    if (this.machine === 'locks') {
      this.lockClient = new LockClient(this.rng.fork('lock-client'));
      this.lockChecker = new LockChecker();
    }
    this.initialVoters = Array.from({ length: options.nodes }, (_, i) => nodeId(`n${i + 1}`));
    for (const id of this.initialVoters) this.addNode(id, this.initialVoters);
  }

  private log(text: string): void {
    this.trace.add(this.step, text);
  }

  private addNode(id: NodeId, initialVoters: readonly NodeId[]): SimNode {
    if (this.nodes.has(id)) throw new Error(`node id ${id} reused`);
    const node = new SimNode(
      id,
      initialVoters,
      new SimStore(id, this.registry),
      this.Raft,
      this.tuning,
      this.rng.fork(`node:${id}`),
      this.hooks,
      SNAPSHOT_EVERY_ENTRIES,
      this.machine === 'locks' ? (node) => new LockSimStateMachine(node) : undefined,
      this.appendHoldMs,
    );
    this.nodes.set(id, node);
    node.start();
    return node;
  }

  private readonly hooks: NodeHooks = {
    send: (m: Message) => this.network.send(m, this.step),
    applied: (node, e) => {
      const term = node.raft ? node.raft.status().term : 0;
      this.checker.observeApplied(node.id, e, term, this.leaderViews());
      if (this.lockChecker) this.observeLockApplied(node, e);
      const removedAt = e.type === 'config' ? this.removedAt.get(e.change.node) : undefined;
      if (e.type === 'config' && e.change.kind !== 'removeNode' && removedAt !== undefined && e.index > removedAt) {
        violate('node ids are forever', `${node.id} applied ${e.change.kind} ${e.change.node} at index ${e.index}, an id removed at index ${removedAt}`);
      }
      if (e.type === 'config' && e.change.kind === 'removeNode') {
        // A lagging or restarted node applies the same entries later: the first index seen is the one.
        if (removedAt === undefined) this.removedAt.set(e.change.node, e.index);
        const removed = this.nodes.get(e.change.node);
        if (removed && !removed.retired) {
          removed.crash(`removed from the cluster at index ${e.index}`);
          removed.retired = true;
        }
      }
    },
    restored: (node, snapshot) => {
      this.stats.snapshotsRestored++;
      this.checker.observeRestore(node.id, snapshot, node.sm.commands(), node.sm.commandIndexes());
      if (this.lockChecker) {
        const sm = node.sm as LockSimStateMachine;
        this.lockChecker.observeRestore(node.id, `${node.id}#${node.incarnation}`, snapshot.meta.index, sm.locks().snapshot());
      }
    },
    started: (node) => {
      if (!this.lockChecker) return;
      const sm = node.sm as LockSimStateMachine;
      // A restarted node's state: what it persisted, which must equal what every node held at that index.
      this.lockChecker.observeStart(node.id, `${node.id}#${node.incarnation}`, node.applied(), sm.locks().snapshot());
    },
    appendSuperseded: () => {
      this.stats.appendsSuperseded++;
    },
    readServed: (node, requestId) => {
      const read = this.reads.get(requestId);
      if (!read) violate('linearizable read', `${node.id} served read ${requestId} that nobody issued (or twice)`);
      this.reads.delete(requestId);
      if (read.node !== node.id) violate('linearizable read', `read ${requestId} issued at ${read.node} served at ${node.id}`);
      for (let k = 0; k < read.ackedBefore; k++) {
        const command = this.checker.acked[k];
        if (!node.sm.has(command)) {
          violate(
            'linearizable read',
            `${node.id} served read ${requestId} (issued at step ${read.issuedStep}) at applied index ${node.applied()} without ${command}, acknowledged before the read was issued`,
          );
        }
      }
      this.stats.readsServed++;
      this.log(`${node.id} read ${requestId} served at applied=${node.applied()}`);
    },
    acknowledged: (node, index) => {
      const command = node.sm.commandAt(index);
      if (command === null) {
        violate('acknowledged after apply', `${node.id} answered the proposal at ${index} before applying it (applied ${node.applied()})`);
      }
      this.checker.acknowledge(command);
    },
    readDropped: (_node, requestId) => {
      this.reads.delete(requestId);
    },
    trace: (text) => this.log(text),
  };

  /** Lock invariants on the state `node` holds after applying `e`; the client learns from each index's first application. */
  private observeLockApplied(node: SimNode, e: Entry): void {
    const index = e.index;
    const sm = node.sm as LockSimStateMachine;
    // No-op and config entries do not reach the lock machine.
    const output = e.type === 'normal' ? sm.lastApplied() : null;
    // Keyed by incarnation: a restarted node replays from its persisted snapshot, its token sequence restarts there.
    this.lockChecker!.observeApplied(node.id, `${node.id}#${node.incarnation}`, index, sm.locks().snapshot(), output);
    this.stats.lockApplies++;
    if (index > this.lockLearnedIndex) {
      this.lockLearnedIndex = index;
      if (output) {
        this.lockClient!.learn(output.events);
        if (this.trace.enabled) this.log(`${node.id} lock ${index}: ${JSON.stringify(output.result)}`);
      }
    }
  }

  private upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private leaderViews(): LeaderView[] {
    const views: LeaderView[] = [];
    for (const n of this.nodes.values()) {
      if (!n.raft) continue;
      const st = n.raft.status();
      if (st.role === 'leader') views.push({ id: n.id, term: st.term, store: n.store });
    }
    return views;
  }

  /** The leader of the highest term among up nodes, if any. */
  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (!n.raft) continue;
      const st = n.raft.status();
      if (st.role === 'leader' && st.term > bestTerm) {
        best = n;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private members(): NodeId[] {
    return [...this.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
  }

  async run(): Promise<SimResult> {
    const chaosSteps = this.options.steps;
    let failure: SimFailure | null = null;
    try {
      for (this.step = 1; this.step <= chaosSteps; this.step++) await this.oneStep(true);
      this.healAll();
      const livenessDeadline = this.step + LIVENESS_BOUND_TICKS;
      while (this.stats.livenessTicks === null) {
        if (this.step > livenessDeadline) {
          violate(
            'liveness',
            `no leader committed a fresh proposal within ${LIVENESS_BOUND_TICKS} ticks of the heal at step ${this.healStep}: ${this.describeNodes()}`,
          );
        }
        await this.oneStep(false);
        this.step++;
      }
      await this.catchUpAndCheckAcknowledged();
    } catch (err) {
      failure = {
        property: err instanceof InvariantViolation ? err.property : err instanceof StorageInvariantError ? 'storage invariant' : 'core assertion',
        message: !(err instanceof Error)
          ? String(err)
          : err instanceof InvariantViolation
            ? err.message
            : err instanceof StorageInvariantError
              ? `storage invariant: ${err.message}`
              : `${err.name}: ${err.message}`,
        step: this.step,
      };
      this.log(`FAILURE ${failure.message}`);
    }
    this.stats.stepsRun = this.step;
    this.stats.committed = this.checker.committedCount();
    this.stats.acknowledged = this.checker.acked.length;
    this.stats.lockGrants = this.lockChecker?.grants ?? 0;
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      steps: this.options.steps,
      machine: this.machine,
      peerDownFaults: this.peerDownRng !== null,
      corruptMessages: this.corruptRng !== null,
      failure,
      stats: this.stats,
      trace: this.trace.lines,
    };
  }

  /** One line per node's state, for liveness failures. */
  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => {
        if (n.retired) return `${n.id}: removed`;
        if (!n.raft) return `${n.id}: down`;
        const st = n.raft.status();
        return `${n.id}: ${st.role} term=${st.term} leader=${st.leader ?? '-'} commit=${st.commit} applied=${n.applied()} last=${st.lastIndex} voters=[${st.conf.voters}] learners=[${st.conf.learners}]`;
      })
      .join('; ');
  }

  private healAll(): void {
    this.healStep = this.step;
    this.network.heal();
    this.network.faults = FAIR_NETWORK;
    this.log(
      `HEAL: network fair, partitions healed, all nodes up (pre-vote=${this.preVote}, check-quorum=${this.checkQuorum}, ` +
        `inflight=${this.tuning.maxInflightAppends}, entries/append=${this.tuning.maxEntriesPerAppend})`,
    );
    for (const n of this.nodes.values()) if (!n.up && !n.retired) n.start();
  }

  private async oneStep(chaos: boolean): Promise<void> {
    if (chaos) this.nemesis();
    this.clients(chaos);
    this.deliver();
    for (const n of this.upNodes()) n.tick();
    for (const n of this.upNodes()) {
      await n.drainReadies(chaos ? this.crashPolicy : null);
      if (!n.up && !n.retired) {
        this.stats.crashes++;
        this.quickRestarts.set(n.id, this.step + 1 + this.nemesisRng.int(NEMESIS.quickRestartStepsMax));
      }
    }
    for (const view of this.leaderViews()) {
      if (this.checker.observeLeader(view)) {
        this.stats.leadersElected++;
        this.log(`LEADER ${view.id} term=${view.term}`);
      }
    }
    if (!chaos) this.checkLiveness();
  }

  /**
   * Crashes inside Ready handling: rarely at random, and more often at the
   * moments where persist-before-send and commit rules matter — right after a
   * node sent a granted vote, right after it became leader, and right after a leader advanced its commit
   * (before its followers hear of it).
   */
  private readonly crashPolicy: CrashPolicy = (node, rd, role) => {
    const point = this.crashPoint(node, rd, role);
    // Half the crashes before persisting come once the handler asked for the write, before it is
    // durable: MemoryStorage loses it, and whatever the handler did meanwhile (applied, sent) stands.
    if (point === 'before-persist' && this.writeCrashRng.chance(NEMESIS.inWriteShare)) return 'in-write';
    // A follower acknowledging entries, its write in flight: the ack must not have gone yet (#4).
    const acksEntries = rd.entries.length > 0 && rd.messagesAfterPersist.some((m) => m.type === 'AppendResp' && !m.reject);
    if (point === null && acksEntries && this.writeCrashRng.chance(NEMESIS.crashInWriteAckingEntries)) return 'in-write';
    return point;
  };

  private crashPoint(node: SimNode, rd: Ready, role: Role): CrashPoint | null {
    const rng = this.nemesisRng;
    const grantsVote = rd.messagesAfterPersist.some((m) => m.type === 'VoteResp' && !m.reject);
    if (grantsVote && rng.chance(NEMESIS.crashAfterVoteGrant)) return rng.pick(CRASH_POINTS);
    // A leader that persisted its no-op but never sent it: an entry of its term nobody else has (Figure 8 (b)).
    if (rd.softState?.role === 'leader' && rng.chance(NEMESIS.crashAfterElected)) return 'after-persist';
    const commitAdvanced = role === 'leader' && rd.hardState !== null && rd.hardState.commit > node.store.hardState.commit;
    if (commitAdvanced && rng.chance(NEMESIS.crashAfterLeaderCommit)) return rng.pick(CRASH_POINTS);
    return rng.chance(NEMESIS.crashDuringReadyPerNode) ? rng.pick(CRASH_POINTS) : null;
  }

  private deliver(): void {
    for (const ev of this.network.takeDue(this.step)) {
      const m = ev.message;
      const desc = `${m.type} ${m.from}->${m.to} t${m.term}`;
      const target = this.nodes.get(m.to);
      const reason = ev.kind === 'drop' ? ev.reason : !target || !target.raft ? 'down' : null;
      if (reason !== null) {
        this.stats.dropped++;
        this.log(`drop (${reason}) ${desc}`);
        this.reportToSender(m, reason === 'random' ? 'lost' : 'unreachable');
        continue;
      }
      this.stats.delivered++;
      if (this.corruptRng && this.healStep === null && this.corruptRng.chance(CORRUPT_PROBABILITY)) {
        this.deliverCorrupted(m, target!.raft!);
        continue;
      }
      if (this.trace.enabled) this.log(`deliver ${desc}${describeMessage(m)}`);
      try {
        target!.raft!.step(m);
      } catch (err) {
        // After corrupted messages, a correct one may be refused too: a stray Heartbeat at term t made its
        // receiver take the sender for t's leader, and the real leader of t is then refused (the receiver
        // moves on at its next election). Without corruption, a refusal of a correct message is a bug.
        if (!(this.corruptRng && err instanceof MessageRefusedError)) throw err;
        this.stats.corruptRefused++;
        this.log(`refuse ${desc}: ${err.message}`);
        this.reportToSender(m, 'unreachable');
        continue;
      }
      this.reportToSender(m, 'delivered');
    }
  }

  /** A corrupted copy of `m` instead of `m`, handled as a real node handles it. */
  private deliverCorrupted(m: Message, raft: NonNullable<SimNode['raft']>): void {
    const raw = corrupt(m, this.corruptRng!);
    let refusal: string | null = null;
    try {
      const checked = checkMessage(raw);
      if (checked.to !== m.to || checked.from !== m.from) throw new PeerMessageError('addressing changed on its connection');
      raft.step(checked);
    } catch (err) {
      if (!(err instanceof PeerMessageError || err instanceof MessageRefusedError)) throw err;
      refusal = err.message;
    }
    if (refusal === null) {
      this.stats.corruptStepped++;
      this.log(`deliver corrupted ${JSON.stringify(raw).slice(0, 160)}`);
      // The sender's transport wrote what its core gave it, whatever the wire made of it: a snapshot
      // stream that was written whole is reported sent (peer-link.ts), or its sender would wait forever.
      this.reportToSender(m, 'delivered');
      return;
    }
    // The receiver closed the connection: the sender's transport reports it unreachable.
    this.stats.corruptRefused++;
    this.log(`refuse corrupted ${m.type} ${m.from}->${m.to}: ${refusal}`);
    this.reportToSender(m, 'unreachable');
  }

  /**
   * What a real transport tells the core about its sends: a refused connection
   * (peer down, partitioned) is reported unreachable; a snapshot stream reports
   * its outcome. A message lost silently (random drop) is reported as nothing,
   * except a snapshot, whose stream would fail.
   */
  private reportToSender(m: Message, outcome: 'delivered' | 'lost' | 'unreachable'): void {
    const sender = this.nodes.get(m.from)?.raft;
    if (!sender) return;
    if (outcome === 'unreachable') sender.reportUnreachable(m.to);
    if (m.type === 'InstallSnapshot') sender.reportSnapshot(m.to, outcome === 'delivered');
  }

  private nemesis(): void {
    const rng = this.nemesisRng;
    if (!this.network.isPartitioned() && rng.chance(NEMESIS.partition)) {
      const leader = this.currentLeader();
      const desc = partition(this.network, rng, rng.pick(PARTITION_KINDS), this.members(), leader ? leader.id : null);
      if (desc) {
        this.stats.partitions++;
        this.log(desc);
      }
    } else if (this.network.isPartitioned() && rng.chance(NEMESIS.heal)) {
      this.network.heal();
      this.log('partition healed');
    }
    for (const n of this.nodes.values()) {
      if (n.up && rng.chance(NEMESIS.crashPerNode)) {
        this.stats.crashes++;
        n.crash('nemesis');
      } else if (!n.up && !n.retired) {
        const quickAt = this.quickRestarts.get(n.id);
        if (quickAt === undefined ? rng.chance(NEMESIS.restartPerDownNode) : quickAt <= this.step) {
          this.quickRestarts.delete(n.id);
          n.start();
        }
      }
    }
    if (this.peerDownRng) this.peerDownFaults(this.peerDownRng);
    if (rng.chance(NEMESIS.confChange)) this.changeMembership();
    if (rng.chance(NEMESIS.transfer)) {
      const leader = this.currentLeader();
      if (leader) {
        const voters = leader.raft!.status().conf.voters.filter((v) => v !== leader.id);
        if (voters.length > 0) {
          const to = rng.pick(voters);
          this.stats.transfers++;
          this.log(`TRANSFER ${leader.id} -> ${to}`);
          try {
            leader.raft!.transferLeadership(to);
          } catch (err) {
            if (!isExpectedRefusal(err)) throw err;
          }
        }
      }
    }
  }

  /**
   * kill -9 of the leader: it crashes and every up member whose link with it is not cut is told, each
   * at its own step (reportPeerDown); a partitioned member hears nothing, as over a silent network.
   * Or a wrong hint: one member is told while the leader lives. Then the hints that are due.
   */
  private peerDownFaults(rng: Prng): void {
    const leader = this.currentLeader();
    if (leader && rng.chance(PEER_DOWN.killLeader)) {
      this.stats.leaderKills++;
      this.stats.crashes++;
      leader.crash('kill -9: its connections close');
      for (const n of this.upNodes()) {
        if (this.network.isBlocked(leader.id, n.id) || this.network.isBlocked(n.id, leader.id)) continue;
        this.peerDownHints.push({ node: n.id, incarnation: n.incarnation, peer: leader.id, atStep: this.step + 1 + rng.int(PEER_DOWN.noticeStepsMax) });
      }
    } else if (leader && rng.chance(PEER_DOWN.wrongHint)) {
      const others = this.upNodes().filter((n) => n !== leader);
      if (others.length > 0) this.peerDownHints.push({ node: rng.pick(others).id, incarnation: -1, peer: leader.id, atStep: this.step });
    }
    const due = this.peerDownHints.filter((h) => h.atStep <= this.step);
    this.peerDownHints = this.peerDownHints.filter((h) => h.atStep > this.step);
    for (const h of due) {
      const n = this.nodes.get(h.node);
      // A hint is for the incarnation that had the connection (-1: a wrong hint, to whoever runs now).
      if (!n?.raft || (h.incarnation !== -1 && h.incarnation !== n.incarnation)) continue;
      this.stats.peerDownReports++;
      this.log(`${h.node} told ${h.peer} is down${h.incarnation === -1 ? ' (wrong hint: it lives)' : ''}`);
      n.raft.reportPeerDown(h.peer);
    }
  }

  /** Add a learner under a new id, promote it, remove a voter: one change at a time. */
  private changeMembership(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    const raft = leader.raft!;
    if (this.removedAt.size > 0 && this.readdRng.chance(0.5)) {
      // The leader must refuse it; should it take it, the apply hook reports the violation.
      const node = this.readdRng.pick([...this.removedAt.keys()]);
      try {
        const at = raft.proposeConfChange({ kind: this.readdRng.chance(0.5) ? 'addLearner' : 'addVoter', node });
        this.log(`CONF re-add of removed ${node} taken at ${leader.id} index=${at.index}`);
        return;
      } catch (err) {
        if (!isExpectedRefusal(err)) throw err;
        this.stats.readdsRefused++;
      }
    }
    const conf = raft.status().conf;
    const rng = this.nemesisRng;
    let change: { kind: 'addVoter' | 'addLearner' | 'removeNode'; node: NodeId } | null = null;
    if (conf.learners.length > 0) {
      change = { kind: 'addVoter', node: conf.learners[0] };
    } else if (conf.voters.length > this.options.nodes) {
      change = { kind: 'removeNode', node: rng.pick(conf.voters) };
    } else if (this.addedNodes < ADDED_NODES_MAX) {
      change = { kind: 'addLearner', node: nodeId(`n${this.options.nodes + this.addedNodes + 1}`) };
    }
    if (!change) return;
    try {
      const at = raft.proposeConfChange(change);
      this.stats.confChanges++;
      this.log(`CONF ${change.kind} ${change.node} proposed at ${leader.id} index=${at.index} term=${at.term}`);
      if (change.kind === 'addLearner') {
        this.addedNodes++;
        // A joining node is configured with the cluster's bootstrap voters, as a
        // real deployment's initial-cluster setting: the bootstrap membership is
        // not in the log, so a joiner replaying the log from index 1 needs it as
        // its base. It is not among them, so it never campaigns until promoted.
        this.addNode(change.node, this.initialVoters);
      }
    } catch (err) {
      if (!isExpectedRefusal(err)) throw err;
      this.log(`CONF ${change.kind} ${change.node} refused at ${leader.id}: ${(err as Error).message}`);
    }
  }

  private clients(chaos: boolean): void {
    const rng = this.clientRng;
    const proposing = chaos || this.stats.livenessTicks === null;
    if (proposing && rng.chance(CLIENT.propose)) {
      const id = `c${++this.commandSeq}`;
      if (this.lockClient) {
        const proposal = this.lockClient.next(this.step);
        this.propose(`${id} (${proposal.command.type})`, encodeProposal(proposal));
      } else {
        this.propose(id);
      }
    }
    if (rng.chance(CLIENT.read)) this.read();
  }

  private propose(command: string, data: Uint8Array = encoder.encode(command)): { node: SimNode; term: number } | null {
    const leaders = this.upNodes().filter((n) => n.raft!.status().role === 'leader');
    if (leaders.length === 0) return null;
    const node = this.clientRng.pick(leaders);
    try {
      const at = node.propose(data);
      this.log(`propose ${command} at ${node.id} index=${at.index} term=${at.term}`);
      return { node, term: at.term };
    } catch (err) {
      if (!isExpectedRefusal(err)) throw err;
      return null;
    }
  }

  private read(): void {
    const leaders = this.upNodes().filter((n) => n.raft!.status().role === 'leader');
    if (leaders.length === 0) return;
    const node = this.clientRng.pick(leaders);
    const requestId = `r${++this.readSeq}`;
    this.reads.set(requestId, { node: node.id, ackedBefore: this.checker.acked.length, issuedStep: this.step });
    try {
      node.read(requestId);
      this.log(`read ${requestId} at ${node.id} (acknowledged so far: ${this.checker.acked.length})`);
    } catch (err) {
      this.reads.delete(requestId);
      if (!isExpectedRefusal(err)) throw err;
    }
  }

  /** Heal phase: keep a fresh probe proposal in flight at the current leader until one commits. */
  private checkLiveness(): void {
    if (this.stats.livenessTicks !== null) return;
    if (this.probe && this.checker.isAcked(this.probe.id)) {
      this.stats.livenessTicks = this.step - this.healStep!;
      this.log(`LIVE: probe ${this.probe.label} committed ${this.stats.livenessTicks} ticks after the heal`);
      return;
    }
    const holder = this.probe ? this.nodes.get(this.probe.node) : undefined;
    const stillValid = holder?.raft && holder.raft.status().role === 'leader' && holder.raft.status().term === this.probe!.term;
    if (!stillValid) {
      this.probe = null;
      const label = `p${++this.commandSeq}`;
      const data: Uint8Array = this.lockClient ? encodeProposal(this.lockClient.probe(this.step, `probe-${label}`)) : encoder.encode(label);
      // What the checker acknowledges is the entry's text (fingerprint.ts commandId): in 'locks' runs, the encoded proposal's.
      const id = this.lockClient ? textDecoder.decode(data) : label;
      const proposed = this.propose(label, data);
      if (proposed) this.probe = { id, label, node: proposed.node.id, term: proposed.term };
    }
  }

  /** After liveness: every member catches up to the leader's commit and holds every acknowledged command. */
  private async catchUpAndCheckAcknowledged(): Promise<void> {
    const deadline = this.step + CATCH_UP_BOUND_TICKS;
    for (;;) {
      const leader = this.currentLeader();
      if (leader) {
        const st = leader.raft!.status();
        const members = [...st.conf.voters, ...st.conf.learners].map((id) => this.nodes.get(id)).filter((n) => n?.up) as SimNode[];
        // A new leader's commit index may lag what is already committed until an entry of its own term
        // commits (§5.4.2, §8, docs/safety.md #2): compare against it only then (sim finding F4, FINDINGS.md).
        const commitKnown = leader.store.termAt(st.commit) === st.term;
        if (commitKnown && members.every((n) => n.applied() >= st.commit)) {
          for (const n of members) {
            for (const command of this.checker.acked) {
              if (!n.sm.has(command)) {
                violate('acknowledged not lost', `${n.id} applied up to ${n.applied()} without acknowledged ${command}`);
              }
            }
          }
          this.log(`CONVERGED: ${members.length} members applied ${st.commit}; ${this.checker.acked.length} acknowledged commands present`);
          return;
        }
      }
      if (this.step > deadline) {
        violate('liveness', `members did not catch up with the leader within ${CATCH_UP_BOUND_TICKS} ticks: ${this.describeNodes()}`);
      }
      await this.oneStep(false);
      this.step++;
    }
  }
}

function describeMessage(m: Message): string {
  switch (m.type) {
    case 'Append':
      return ` prev=${m.prevLogIndex}/${m.prevLogTerm} n=${m.entries.length} commit=${m.commit}`;
    case 'AppendResp':
      return m.reject ? ` reject=${m.index} hint=${m.rejectHint}` : ` ok=${m.index}`;
    case 'Vote':
    case 'PreVote':
      return ` last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'VoteResp':
    case 'PreVoteResp':
      return m.reject ? ' reject' : ' grant';
    case 'InstallSnapshot':
      return ` snap=${m.snapshot.meta.index}/${m.snapshot.meta.term}`;
    case 'Heartbeat':
      return ` commit=${m.commit}`;
    default:
      return '';
  }
}

export function runSimulation(options: SimOptions, Raft: RaftConstructor): Promise<SimResult> {
  return new Simulation(options, Raft).run();
}
