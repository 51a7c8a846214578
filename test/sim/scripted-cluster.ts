// A scripted cluster for minimal scenarios (FINDINGS.md): the same SimNode,
// SimStore and Checker as the random simulator, but the test decides what the
// network loses. Messages are delivered in send order, one hop per step.

import type { Message, NodeId } from '../../src/raft/types.js';
import { nodeId } from '../../src/raft/types.js';
import { Checker, type LeaderView } from './checker.js';
import { LogRegistry } from './log-registry.js';
import { SimNode, type CrashPoint, type NodeHooks } from './node.js';
import { raftTuning, SNAPSHOT_EVERY_ENTRIES } from './params.js';
import { Prng } from './prng.js';
import type { RaftConstructor } from './raft-factory.js';
import { SimStore } from './store.js';
import { Trace } from './trace.js';

const encoder = new TextEncoder();

export class ScriptedCluster {
  readonly nodes = new Map<string, SimNode>();
  readonly checker = new Checker();
  readonly trace: Trace;
  /** Return true to lose a message silently (no unreachable report). */
  dropIf: (m: Message) => boolean = () => false;
  /** Crash this node at this point of its next Ready handling. */
  crashNext: { node: string; at: CrashPoint } | null = null;
  step = 0;
  private queue: Message[] = [];
  private readonly registry = new LogRegistry();

  constructor(
    Raft: RaftConstructor,
    size: number,
    seed = 1,
    trace = false,
  ) {
    this.trace = new Trace(trace);
    const rng = new Prng(seed);
    const voters: NodeId[] = Array.from({ length: size }, (_, i) => nodeId(`n${i + 1}`));
    const hooks: NodeHooks = {
      send: (m) => this.queue.push(m),
      applied: (node, e) => this.checker.observeApplied(node.id, e, node.raft ? node.raft.status().term : 0, this.leaderViews()),
      restored: (node, snapshot) => this.checker.observeRestore(node.id, snapshot, node.sm.commands(), node.sm.commandIndexes()),
      readServed: () => {},
      readDropped: () => {},
      trace: (text) => this.trace.add(this.step, text),
    };
    for (const id of voters) {
      const node = new SimNode(id, voters, new SimStore(id, this.registry), Raft, raftTuning(true, true), rng.fork(id), hooks, SNAPSHOT_EVERY_ENTRIES);
      this.nodes.set(id, node);
      node.start();
    }
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  private leaderViews(): LeaderView[] {
    const views: LeaderView[] = [];
    for (const n of this.nodes.values()) {
      const st = n.raft?.status();
      if (st && st.role === 'leader') views.push({ id: n.id, term: st.term, store: n.store });
    }
    return views;
  }

  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes.values()) {
      const st = n.raft?.status();
      if (st?.role === 'leader' && (!best || st.term > best.raft!.status().term)) best = n;
    }
    return best;
  }

  async runSteps(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.oneStep();
  }

  /** Run until `done` or `maxSteps`; returns whether `done` held. */
  async runUntil(done: () => boolean, maxSteps: number): Promise<boolean> {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      await this.oneStep();
    }
    return done();
  }

  propose(command: string): void {
    const leader = this.leader();
    if (!leader) throw new Error('no leader to propose to');
    leader.propose(encoder.encode(command));
  }

  private async oneStep(): Promise<void> {
    this.step++;
    const due = this.queue;
    this.queue = [];
    for (const m of due) {
      const target = this.nodes.get(m.to)?.raft;
      if (!target || this.dropIf(m)) {
        this.trace.add(this.step, `drop ${m.type} ${m.from}->${m.to}`);
        continue;
      }
      this.trace.add(this.step, `deliver ${m.type} ${m.from}->${m.to} t${m.term}`);
      target.step(m);
    }
    for (const n of this.nodes.values()) n.tick();
    for (const n of this.nodes.values()) {
      if (!n.raft) continue;
      const crash = this.crashNext?.node === n.id ? this.crashNext.at : null;
      if (crash && n.raft.hasReady()) this.crashNext = null;
      await n.drainReadies(crash ? () => crash : null);
    }
    for (const v of this.leaderViews()) this.checker.observeLeader(v);
  }
}
