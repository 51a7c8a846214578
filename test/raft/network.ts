// A tiny synchronous test network for Raft unit tests: each Ready is handled
// in the node's own order (src/node/ready-order.ts, the list the production
// ReadyHandler walks), with an in-memory map as the disk and a queue as the
// wire; committed entries are recorded per node, and messages can be dropped,
// held or reordered by a filter. Synchronous (a write is durable at once, so
// 'await-persist' is nothing here) and deterministic: no timers, a seeded PRNG
// per node.

import { seededRandom } from '../../src/node/random.js';
import { readyOrder } from '../../src/node/ready-order.js';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import {
  type Entry,
  type Message,
  type NodeId,
  type PersistentState,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
  logIndex,
  nodeId,
  term,
} from '../../src/raft/types.js';

// The tree's one seeded PRNG (src/node/random.ts): test schedules use the generator that ships.
export { seededRandom };

/** Every message of a Ready, those that may go at once first (tests that deliver everything after persisting). */
export function allMessages(rd: Ready): Message[] {
  return [...rd.messages, ...rd.messagesAfterPersist];
}

export function emptyState(): PersistentState {
  return { hardState: { term: term(0), vote: null, commit: logIndex(0) }, snapshot: null, entries: [] };
}

export type Verdict = 'deliver' | 'drop' | 'hold';

export interface NetOptions {
  config?: Partial<RaftConfig>;
  seed?: number;
  /** Voters for the initial configuration; defaults to all ids. */
  voters?: string[];
}

const MAX_ROUNDS = 10_000;

export class Network {
  readonly nodes = new Map<string, Raft>();
  readonly stores = new Map<string, PersistentState>();
  readonly configs = new Map<string, RaftConfig>();
  /** Committed entries each node applied, in order (data entries and all others). */
  readonly applied = new Map<string, Entry[]>();
  readonly readStates = new Map<string, ReadState[]>();
  readonly droppedReads = new Map<string, string[]>();
  readonly readies = new Map<string, Ready[]>();
  /** Messages held back by the filter, for tests that reorder or replay them. */
  held: Message[] = [];
  /** Tell a snapshot's sender whether it arrived, as the transport does; off for tests that report by hand. */
  reportsSnapshots = true;
  /** Every message sent, in order. */
  sent: Message[] = [];
  private queue: Message[] = [];
  private down = new Set<string>();
  private cut = new Set<string>();
  filter: ((m: Message) => Verdict) | null = null;
  private readonly bootstrapVoters: string[];

  constructor(ids: string[], private readonly opts: NetOptions = {}) {
    this.bootstrapVoters = opts.voters ?? ids;
    let seed = opts.seed ?? 1;
    for (const id of ids) {
      const cfg: RaftConfig = {
        ...defaultRaftConfig(nodeId(id), (opts.voters ?? ids).map(nodeId), seededRandom(seed++)),
        ...opts.config,
      };
      this.add(id, cfg);
    }
  }

  /**
   * Add a node with a fresh (empty) disk, e.g. a new member. Like every node it is given the
   * bootstrap voters: the log holds only changes relative to them.
   */
  add(id: string, cfg?: RaftConfig): Raft {
    const config = cfg ?? {
      ...defaultRaftConfig(nodeId(id), this.bootstrapVoters.map(nodeId), seededRandom(this.nodes.size + 100)),
      ...this.opts.config,
    };
    this.configs.set(id, config);
    this.stores.set(id, emptyState());
    this.applied.set(id, []);
    this.readStates.set(id, []);
    this.droppedReads.set(id, []);
    this.readies.set(id, []);
    const r = new Raft(config, emptyState());
    this.nodes.set(id, r);
    return r;
  }

  node(id: string): Raft {
    const r = this.nodes.get(id);
    if (!r) throw new Error(`no node ${id}`);
    return r;
  }

  /** Simulate a crash and restart from what was persisted. */
  restart(id: string): Raft {
    const st = this.stores.get(id) as PersistentState;
    const persisted: PersistentState = structuredClone(st);
    const r = new Raft(this.configs.get(id) as RaftConfig, persisted);
    this.nodes.set(id, r);
    // The state machine restarts from the snapshot and replays.
    const snapIndex = st.snapshot?.meta.index ?? 0;
    this.applied.set(
      id,
      (this.applied.get(id) as Entry[]).filter((e) => e.index <= snapIndex),
    );
    return r;
  }

  isolate(id: string): void {
    this.down.add(id);
  }

  heal(): void {
    this.down.clear();
    this.cut.clear();
  }

  /** Drop messages from a to b (one direction). */
  cutLink(a: string, b: string): void {
    this.cut.add(`${a}->${b}`);
  }

  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.process();
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const r of this.nodes.values()) r.tick();
      this.process();
    }
  }

  /** Persist and send every Ready, deliver all messages, until quiet. */
  process(): void {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      this.drainReadies();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('network did not quiesce');
  }

  /** Handle every node's pending Ready without delivering the messages. */
  drainReadies(): void {
    let any = true;
    while (any) {
      any = false;
      for (const [id, r] of this.nodes) {
        if (r.hasReady()) {
          any = true;
          this.handleReady(id, r);
        }
      }
    }
  }

  handleReady(id: string, r: Raft): Ready {
    const rd = r.ready();
    this.readies.get(id)?.push(rd);
    for (const step of readyOrder(rd)) {
      switch (step.kind) {
        case 'send':
          for (const m of step.messages === 'now' ? rd.messages : rd.messagesAfterPersist) {
            this.sent.push(m);
            this.queue.push(m);
          }
          break;
        case 'persist':
          this.persist(id, rd);
          break;
        case 'apply':
          this.apply(id, rd);
          break;
        case 'advance':
          r.advance(rd);
          break;
        case 'await-persist': // durable at once
        case 'stop': // this network never crashes a node mid-Ready
          break;
      }
    }
    return rd;
  }

  private persist(id: string, rd: Ready): void {
    const st = this.stores.get(id) as PersistentState;
    if (rd.snapshot) {
      st.snapshot = rd.snapshot;
      st.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index;
      st.entries = st.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) st.hardState = { ...rd.hardState };
  }

  private apply(id: string, rd: Ready): void {
    const applied = this.applied.get(id) as Entry[];
    if (rd.snapshot) {
      // Stand-in for restoring the state machine: the snapshot data is the applied list.
      applied.length = 0;
      applied.push(...decodeApplied(rd.snapshot.data));
    }
    applied.push(...rd.committedEntries);
    this.readStates.get(id)?.push(...rd.readStates);
    this.droppedReads.get(id)?.push(...rd.droppedReads);
  }

  deliver(m: Message): void {
    if (this.down.has(m.from) || this.down.has(m.to) || this.cut.has(`${m.from}->${m.to}`)) return this.reportSnapshot(m, false);
    const verdict = this.filter ? this.filter(m) : 'deliver';
    if (verdict === 'drop') return this.reportSnapshot(m, false);
    if (verdict === 'hold') {
      this.held.push(m);
      return;
    }
    const r = this.nodes.get(m.to);
    if (r) r.step(m);
    this.reportSnapshot(m, r !== undefined);
  }

  /** Deliver one held message (bypassing the filter) and process. */
  release(m: Message): void {
    this.held = this.held.filter((x) => x !== m);
    const r = this.nodes.get(m.to);
    if (r) r.step(m);
    this.reportSnapshot(m, r !== undefined);
    this.process();
  }

  /**
   * As the transport does (node.ts onSnapshotStatus): the sender of an InstallSnapshot learns
   * whether it arrived. Without it a lost snapshot leaves the leader waiting in 'snapshot' forever.
   */
  private reportSnapshot(m: Message, ok: boolean): void {
    if (m.type === 'InstallSnapshot' && this.reportsSnapshots) this.nodes.get(m.from)?.reportSnapshot(m.to, ok);
  }

  /** Tick `id` alone until it campaigns and the election settles. */
  campaign(id: string): void {
    const r = this.node(id);
    const limit = 4 * (this.configs.get(id) as RaftConfig).electionTimeoutTicks;
    for (let i = 0; i < limit && r.status().role !== 'leader'; i++) {
      r.tick();
      this.process();
    }
  }

  leaders(): string[] {
    return [...this.nodes].filter(([id, r]) => !this.down.has(id) && r.status().role === 'leader').map(([id]) => id);
  }

  leader(): string {
    const ls = this.leaders();
    if (ls.length !== 1) throw new Error(`expected one leader, got [${ls.join(', ')}]`);
    return ls[0];
  }

  /** Propose on the leader and process until quiet; returns the index. */
  propose(text: string, on?: string): number {
    const r = this.node(on ?? this.leader());
    const { index } = r.propose(new TextEncoder().encode(text));
    this.process();
    return index;
  }

  /** Data of the normal entries applied on `id`, as strings. */
  appliedData(id: string): string[] {
    return (this.applied.get(id) as Entry[])
      .filter((e): e is Extract<Entry, { type: 'normal' }> => e.type === 'normal')
      .map((e) => new TextDecoder().decode(e.data));
  }

  /** A snapshot of `id` at its applied index, whose data is the applied list. */
  snapshotOf(id: string): Snapshot {
    const r = this.node(id);
    const st = r.status();
    const index = st.applied;
    const applied = (this.applied.get(id) as Entry[]).filter((e) => e.index <= index);
    const t = applied.length > 0 ? applied[applied.length - 1].term : term(0);
    const { conf, memberContext } = r.confAt(index);
    return { meta: { index, term: t, conf, memberContext }, data: encodeApplied(applied) };
  }
}

function encodeApplied(entries: Entry[]): Uint8Array {
  const plain = entries.map((e) => (e.type === 'normal' ? { ...e, data: Array.from(e.data) } : e));
  return new TextEncoder().encode(JSON.stringify(plain));
}

function decodeApplied(bytes: Uint8Array): Entry[] {
  const plain = JSON.parse(new TextDecoder().decode(bytes)) as Array<Record<string, unknown>>;
  return plain.map((e) => (e.type === 'normal' ? { ...e, data: Uint8Array.from(e.data as number[]) } : e)) as Entry[];
}

export { nodeId, term, logIndex };
export type { NodeId };
