// Test doubles for the node loop: a Raft core whose Readies the test scripts,
// a storage whose saves the test completes by hand, a transport that records.
import pino from 'pino';
import type { ManualClock } from '../../../src/node/clock.js';
import type { RaftCore } from '../../../src/raft/api.js';
import { applyConfChange, confStateOf, membershipFrom } from '../../../src/raft/membership.js';
import {
  NotLeaderError,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type Message,
  type NodeId,
  type PersistentState,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
  type Term,
  logIndex,
  nodeId,
  term,
} from '../../../src/raft/types.js';
import type { RaftStorage, StorageWrite } from '../../../src/storage/api.js';
import type { PeerHello, Transport } from '../../../src/transport/api.js';
import type { Applied, AppliedCommand, StateMachine } from '../../../src/node/state-machine.js';

export const silentLogger = pino({ level: 'silent' });

/** A scripted core: the test decides roles, commits and read states; the node only sees the RaftCore seam. */
export class FakeRaft implements RaftCore {
  role: Role = 'leader';
  leader: NodeId | null;
  term: Term = term(1);
  commit: LogIndex = logIndex(0);
  applied: LogIndex = logIndex(0);
  log: Entry[] = [];
  ticks = 0;
  stepped: Message[] = [];
  compacted: { index: number; retain: number }[] = [];
  readRequests: string[] = [];
  transfers: NodeId[] = [];
  ticksSinceQuorumContact: number | null = 0;
  ticksSinceLeaderContact: number | null = 0;
  /** As the real core: the configuration as of the applied index (snapshot, then applied config entries). */
  appliedConf: ConfState;
  private pending = this.empty();
  /** Whether the pending hard state changes term or vote (a commit-only change need not be synced). */
  private termOrVoteChanged = false;
  /** The term of the last hard state handed out (persisted before the next Ready, as the node loop does). */
  private durableTerm: Term;

  constructor(
    readonly id: NodeId,
    readonly peers: NodeId[],
    readonly persisted: PersistentState,
  ) {
    this.leader = id;
    this.term = term(Math.max(1, persisted.hardState.term));
    this.durableTerm = persisted.hardState.term;
    this.applied = persisted.snapshot?.meta.index ?? logIndex(0);
    this.log = [...persisted.entries];
    this.appliedConf = persisted.snapshot?.meta.conf ?? { voters: [id, ...peers], learners: [] };
  }

  private empty(): Ready {
    return {
      softState: null,
      hardState: null,
      snapshot: null,
      entries: [],
      messages: [],
      messagesAfterPersist: [],
      committedEntries: [],
      readStates: [],
      droppedReads: [],
      mustSync: false,
    };
  }
  private lastIndex(): number {
    return this.log.length ? this.log[this.log.length - 1].index : this.applied;
  }

  tick(): void {
    this.ticks++;
  }
  step(message: Message): void {
    this.stepped.push(message);
  }
  propose(data: Uint8Array): { index: LogIndex; term: Term } {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    const e: Entry = { type: 'normal', index: logIndex(this.lastIndex() + 1), term: this.term, data };
    this.append(e);
    return { index: e.index, term: e.term };
  }
  proposeConfChange(change: ConfChange): { index: LogIndex; term: Term } {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    const e: Entry = { type: 'config', index: logIndex(this.lastIndex() + 1), term: this.term, change };
    this.append(e);
    return { index: e.index, term: e.term };
  }
  /** Append as if replicated: the entry and an Append message to each peer go out in the next Ready. */
  append(e: Entry): void {
    this.log = this.log.filter((x) => x.index < e.index);
    this.log.push(e);
    this.pending.entries.push(e);
    for (const to of this.peers) {
      this.pending.messages.push({
        type: 'Append',
        from: this.id,
        to,
        term: this.term,
        prevLogIndex: logIndex(e.index - 1),
        prevLogTerm: term(0),
        entries: [e],
        commit: this.commit,
      });
    }
  }
  /** Any message, handed out in the next Ready to be sent once it is durable. */
  pendingMessage(m: Message): void {
    this.pending.messagesAfterPersist.push(m);
  }
  /** Commit up to `index`: those entries are handed out in the next Ready. */
  commitTo(index: number): void {
    for (const e of this.log) if (e.index > this.commit && e.index <= index) this.pending.committedEntries.push(e);
    this.commit = logIndex(index);
    this.pending.hardState = { term: this.term, vote: this.id, commit: this.commit } satisfies HardState;
  }
  setRole(role: Role, leader: NodeId | null, newTerm?: number): void {
    this.role = role;
    this.leader = leader;
    if (newTerm !== undefined) this.term = term(newTerm);
    this.pending.softState = { role, leader } satisfies SoftState;
    this.pending.hardState = { term: this.term, vote: null, commit: this.commit };
    this.termOrVoteChanged = true;
  }
  giveSnapshot(snapshot: Snapshot): void {
    this.pending.snapshot = snapshot;
  }
  readIndex(requestId: string): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    this.readRequests.push(requestId);
  }
  confirmRead(requestId: string, index: number): void {
    this.pending.readStates.push({ requestId, index: logIndex(index) } satisfies ReadState);
  }
  dropRead(requestId: string): void {
    this.pending.droppedReads.push(requestId);
  }
  transferLeadership(to: NodeId): void {
    this.transfers.push(to);
  }
  compact(snapshot: Snapshot, retainEntries: number): void {
    this.compacted.push({ index: snapshot.meta.index, retain: retainEntries });
  }
  reportUnreachable(): void {}
  reportPeerDown(): void {}
  reportSnapshot(): void {}
  hasReady(): boolean {
    const p = this.pending;
    return !!(p.softState || p.hardState || p.snapshot || p.entries.length || p.messages.length || p.messagesAfterPersist.length || p.committedEntries.length || p.readStates.length || p.droppedReads.length);
  }
  ready(): Ready {
    const rd = this.pending;
    // As the real core: a hard state whose only change is the commit index need not be synced.
    rd.mustSync = !!((rd.hardState && this.termOrVoteChanged) || rd.entries.length || rd.snapshot);
    // As the real core: only Appends and Heartbeats at the term already durable may go before the
    // write; a Ready that changes the term or vote holds even those back until it is durable.
    const durableTerm = this.termOrVoteChanged || rd.snapshot ? null : this.durableTerm;
    if (rd.hardState) this.durableTerm = rd.hardState.term;
    const early = (m: Message): boolean => m.term === durableTerm && (m.type === 'Append' || m.type === 'Heartbeat');
    rd.messagesAfterPersist = [...rd.messages.filter((m) => !early(m)), ...rd.messagesAfterPersist];
    rd.messages = rd.messages.filter(early);
    this.termOrVoteChanged = false;
    this.pending = this.empty();
    return rd;
  }
  advance(rd: Ready): void {
    const last = rd.committedEntries.at(-1);
    if (last) this.applied = last.index;
    if (rd.snapshot) {
      this.applied = rd.snapshot.meta.index;
      this.appliedConf = rd.snapshot.meta.conf;
    }
    for (const e of rd.committedEntries) {
      if (e.type === 'config') this.appliedConf = confStateOf(applyConfChange(membershipFrom(this.appliedConf), e.change));
    }
  }
  leadership(): { role: Role; leader: NodeId | null; term: Term } {
    const { role, leader, term } = this.status();
    return { role, leader, term };
  }
  status(): RaftStatus {
    const voters = [this.id, ...this.peers];
    return {
      id: this.id,
      term: this.term,
      vote: null,
      role: this.role,
      leader: this.leader,
      commit: this.commit,
      applied: this.applied,
      firstIndex: logIndex(1),
      lastIndex: logIndex(this.lastIndex()),
      conf: { voters, learners: [] },
      appliedConf: this.appliedConf,
      progress:
        this.role === 'leader'
          ? Object.fromEntries(voters.map((v) => [v, { match: this.commit, next: logIndex(this.commit + 1), state: 'replicate' as const, inflight: 0, recentActive: true, learner: false }]))
          : null,
      ticksSinceQuorumContact: this.role === 'leader' ? this.ticksSinceQuorumContact : null,
      ticksSinceLeaderContact: this.role !== 'leader' && this.leader !== null ? this.ticksSinceLeaderContact : null,
      leadTransferee: null,
    };
  }
}

interface Deferred {
  write: StorageWrite;
  resolve(): void;
  reject(err: Error): void;
}

/** Storage whose saves complete only when the test says so (or at once with autoResolve). */
export class ControlledStorage implements RaftStorage {
  autoResolve = false;
  saves: StorageWrite[] = [];
  inFlight: Deferred[] = [];
  compactedTo: number[] = [];
  closed = false;
  constructor(private readonly persisted: PersistentState = { hardState: { term: term(0), vote: null, commit: logIndex(0) }, snapshot: null, entries: [] }) {}
  async load(): Promise<PersistentState> {
    return this.persisted;
  }
  save(write: StorageWrite): Promise<void> {
    this.saves.push(write);
    if (this.autoResolve) return Promise.resolve();
    return new Promise((resolve, reject) => this.inFlight.push({ write, resolve, reject }));
  }
  /** Complete the oldest save in flight. */
  completeOne(): void {
    const d = this.inFlight.shift();
    if (!d) throw new Error('no save in flight');
    d.resolve();
  }
  failOne(err: Error): void {
    const d = this.inFlight.shift();
    if (!d) throw new Error('no save in flight');
    d.reject(err);
  }
  async compact(upTo: LogIndex): Promise<void> {
    this.compactedTo.push(upTo);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export class RecordingTransport implements Transport {
  sent: Message[] = [];
  peers = new Map<NodeId, string>();
  started = false;
  closed = false;
  private messageHandler: (m: Message) => void = () => {};
  private helloHandler: (h: PeerHello) => void = () => {};
  async start(): Promise<void> {
    this.started = true;
  }
  send(messages: Message[]): void {
    this.sent.push(...messages);
  }
  onMessage(handler: (message: Message) => void): void {
    this.messageHandler = handler;
  }
  onUnreachable(): void {}
  onSnapshotStatus(): void {}
  onPeerHello(handler: (hello: PeerHello) => void): void {
    this.helloHandler = handler;
  }
  setPeers(peers: Map<NodeId, string>): void {
    this.peers = new Map(peers);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  deliver(m: Message): void {
    this.messageHandler(m);
  }
  hello(h: PeerHello): void {
    this.helloHandler(h);
  }
}

/** A key-value state machine: commands are JSON {key, value}; the result is the previous value. */
export class KvMachine implements StateMachine<string | null, never> {
  data = new Map<string, string>();
  applied: LogIndex = logIndex(0);
  appliedCommands: AppliedCommand[] = [];
  apply(command: AppliedCommand): Applied<string | null, never> {
    const { key, value } = JSON.parse(new TextDecoder().decode(command.data)) as { key: string; value: string };
    const prev = this.data.get(key) ?? null;
    this.data.set(key, value);
    this.applied = command.index;
    this.appliedCommands.push(command);
    return { result: prev, events: [] };
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data]));
  }
  restore(data: Uint8Array, index: LogIndex): void {
    this.data = new Map(JSON.parse(new TextDecoder().decode(data)) as [string, string][]);
    this.applied = index;
  }
  appliedIndex(): LogIndex {
    return this.applied;
  }
}

export const kv = (key: string, value: string): Uint8Array => new TextEncoder().encode(JSON.stringify({ key, value }));
export { nodeId };

/**
 * Await `action` while moving `clock` forward `stepMs` per turn of the event loop: timeouts behind
 * the injected clock (a stop's hand-over and drain, a proposal's deadline) fire without real waiting.
 */
export async function whileAdvancing<T>(clock: ManualClock, action: Promise<T>, stepMs = 1): Promise<T> {
  let done = false;
  const finished = action.finally(() => {
    done = true;
  });
  finished.catch(() => {}); // the caller gets the rejection from the return below
  while (!done) {
    await settle(1);
    if (!done) clock.advance(stepMs);
  }
  return finished;
}

/** Let the node's setImmediate-scheduled Ready loop and promise callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
