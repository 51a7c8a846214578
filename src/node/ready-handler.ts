// The one place that handles the core's Ready, for the real node (RaftNode with
// LevelStorage and TCP) and for the simulator (test/sim, with the MemoryStorage
// twin and the simulated network, crashing at the stop points and inside writes). The ORDER of the steps is
// src/node/ready-order.ts (shared with the core's test network); this file says
// what each step does here: learn addresses from appended config entries (a new
// leader must reach a learner whose change is not committed yet), send, write
// through RaftStorage, restore and apply through StateMachine, resolve proposals
// by index AND term, serve reads whose index is applied, advance; then, if due,
// snapshot the state machine (durable first) and compact the core.
// It talks to the world only through RaftStorage, Transport and StateMachine.
import type { Logger } from 'pino';
import type { RaftCore } from '../raft/api.js';
import type { ConfChange, Entry, LogIndex, NodeId, PersistentState, Ready, Role, Snapshot, Term } from '../raft/types.js';
import { logIndex, term as asTerm } from '../raft/types.js';
import type { RaftStorage } from '../storage/api.js';
import type { Transport } from '../transport/api.js';
import { NotLeaderError } from './api.js';
import { isKnownConfChange } from '../raft/membership.js';
import type { AddressBook } from './members.js';
import type { Clock } from './clock.js';
import { AppendHold } from './append-hold.js';
import { PendingProposals, PendingReads } from './pending.js';
import { readyOrder, type StopPoint } from './ready-order.js';
import type { StateMachine } from './state-machine.js';


/** What the handler tells its owner; every member optional but stopAt. */
export interface ReadyEvents {
  /** Consulted at each stop point: true ends handling there, as a crash would; the Ready is then never advanced. */
  stopAt(point: StopPoint, rd: Ready): boolean;
  /** A synced write finished after `ms`. */
  saved?(rd: Ready, ms: number): void;
  applied?(entry: Entry, result: unknown): void;
  restored?(snapshot: Snapshot): void;
  /** Every soft state the core reports (after this Ready's messages went out), changed or not. */
  softState?(role: Role, leader: NodeId | null, term: Term): void;
  /** The role or leader changed (after this Ready's messages went out). */
  roleChanged?(role: Role, leader: NodeId | null, term: Term): void;
  snapshotTaken?(snapshot: Snapshot): void;
  /** The Ready was advanced: everything in it is done. */
  advanced?(rd: Ready): void;
  /** A held entry-less Append was not sent: a later Append to the same follower carries its commit (append-hold.ts). */
  appendSuperseded?(): void;
  /** An unsynced write failed after handling had moved on: the node cannot know what is durable. */
  writeFailed(err: Error): void;
}

export interface ReadyHandlerOptions {
  id: NodeId;
  raft: RaftCore;
  storage: RaftStorage;
  transport: Pick<Transport, 'send' | 'setPeers'>;
  stateMachine: StateMachine;
  /** Where members are reached; who is a member is the core's (status().appliedConf). */
  addresses: AddressBook;
  logger: Logger;
  /** Times the synced writes and the proposals' and reads' timeouts. */
  clock: Clock;
  /** Take a state machine snapshot and compact the log every this many applied entries. */
  snapshotEveryEntries: number;
  /** Entries kept behind a snapshot for slightly lagging followers (drawn per snapshot in the simulator). */
  retainEntries(): number;
  /** How long a leader's entry-less Append may wait for an Append that supersedes it (append-hold.ts); 0 sends at once. */
  appendHoldMs: number;
  events: ReadyEvents;
}

export class ReadyHandler {
  readonly proposals: PendingProposals;
  readonly reads: PendingReads;
  private readonly o: ReadyHandlerOptions;
  private readonly hold: AppendHold;
  private appliedIndex: LogIndex = logIndex(0);
  private appliedTerm: Term = asTerm(0);
  private lastSnapshotIndex: LogIndex = logIndex(0);
  private role: Role;
  private leader: NodeId | null;

  /** `persisted`: what the core was built from; its snapshot is restored into the state machine here. */
  constructor(options: ReadyHandlerOptions, persisted: PersistentState) {
    if (!(options.snapshotEveryEntries >= 1)) throw new Error(`snapshotEveryEntries must be >= 1, got ${options.snapshotEveryEntries}`);
    this.o = options;
    this.proposals = new PendingProposals(options.clock);
    this.reads = new PendingReads(options.clock);
    this.hold = new AppendHold(
      options.clock,
      options.appendHoldMs,
      (messages) => options.transport.send(messages),
      () => options.events.appendSuperseded?.(),
    );
    if (persisted.snapshot) {
      const meta = persisted.snapshot.meta;
      options.stateMachine.restore(persisted.snapshot.data, meta.index);
      options.addresses.learnContexts(meta.memberContext);
      this.appliedIndex = meta.index;
      this.appliedTerm = meta.term;
      this.lastSnapshotIndex = meta.index;
    }
    // Addresses from config entries still in the log, applied or not, so a
    // restarted node can reach members that joined after its snapshot.
    for (const e of persisted.entries) if (e.type === 'config') options.addresses.learnContext(e.change.node, e.change.context);
    const st = options.raft.status();
    this.role = st.role;
    this.leader = st.leader;
  }

  /** Index of the last entry applied to (or snapshot restored into) the state machine. */
  applied(): LogIndex {
    return this.appliedIndex;
  }

  /** Handle one Ready (the caller checked hasReady()). False: a stop point ended it; it was not advanced. */
  async handleOne(): Promise<boolean> {
    const { raft, storage, events } = this.o;
    const rd = raft.ready();
    this.learnAddresses(rd.entries);
    let saved: Promise<void> | null = null;
    let savedFrom = 0;
    for (const step of readyOrder(rd)) {
      switch (step.kind) {
        case 'send':
          this.send(step.messages === 'now' ? rd.messages : rd.messagesAfterPersist);
          break;
        case 'stop':
          if (events.stopAt(step.point, rd)) return false;
          break;
        case 'persist': {
          const write = { hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot };
          if (!rd.mustSync) {
            // Only the commit index changed: a lost commit index is re-learned from
            // the leader (etcd raft's MustSync), so it is written without an fsync and
            // not waited for. It stays ordered before every later save, and the next
            // synced save makes it durable. A failure is fatal like any other.
            storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, sync: false }).catch((err: unknown) => events.writeFailed(asError(err)));
          } else {
            savedFrom = this.o.clock.monotonicMs();
            saved = storage.save(write);
            saved.catch(() => {}); // awaited in 'await-persist'; an apply that throws first must not leave it unhandled
          }
          break;
        }
        case 'await-persist':
          await saved;
          events.saved?.(rd, Math.max(0, this.o.clock.monotonicMs() - savedFrom));
          break;
        case 'apply':
          if (rd.snapshot) this.restoreSnapshot(rd.snapshot);
          this.applyAndServe(rd);
          break;
        case 'advance':
          if (rd.softState) this.noteSoftState(rd.softState.role, rd.softState.leader);
          raft.advance(rd);
          break;
      }
    }
    // A leader that went through another term between two Readies (lost and
    // regained leadership) must not resolve old-term proposals as its own.
    const st = raft.leadership();
    this.proposals.rejectOtherTerms(st.role === 'leader' ? st.term : null, 'leadership changed hands; the command may or may not commit');
    events.advanced?.(rd);
    await this.maybeSnapshot();
    return true;
  }

  /** Fail everything waiting (the node stopped or died; the simulator crashed it). */
  rejectAll(proposalError: () => Error): void {
    this.hold.drop();
    this.proposals.rejectAll(proposalError);
    this.reads.rejectAll(() => new NotLeaderError(null));
  }

  private send(messages: Ready['messages']): void {
    if (messages.length > 0) this.hold.send(messages);
  }

  private learnAddresses(entries: Entry[]): void {
    let changed = false;
    for (const e of entries) {
      if (e.type === 'config' && e.change.context) {
        this.o.addresses.learnContext(e.change.node, e.change.context);
        changed = true;
      }
    }
    if (changed) this.updatePeers();
  }

  private updatePeers(): void {
    this.o.transport.setPeers(this.o.addresses.peerAddresses(this.o.id));
  }

  /** Apply the Ready's committed entries in order and serve its reads (once per Ready). */
  private applyAndServe(rd: Ready): void {
    for (const entry of rd.committedEntries) this.applyEntry(entry);
    for (const rs of rd.readStates) this.reads.confirmed(rs.requestId, rs.index, this.appliedIndex);
    this.reads.appliedUpTo(this.appliedIndex);
    for (const id of rd.droppedReads) this.reads.dropped(id, this.leader);
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    const meta = snapshot.meta;
    if (meta.index <= this.appliedIndex) {
      this.o.logger.warn({ index: meta.index, applied: this.appliedIndex }, 'ignoring snapshot that is not ahead of applied');
      return;
    }
    this.o.stateMachine.restore(snapshot.data, meta.index);
    this.o.addresses.learnContexts(meta.memberContext);
    this.updatePeers();
    this.appliedIndex = meta.index;
    this.appliedTerm = meta.term;
    this.lastSnapshotIndex = meta.index;
    this.proposals.coveredBySnapshot(meta.index);
    this.o.events.restored?.(snapshot);
    this.o.logger.info({ index: meta.index, term: meta.term, bytes: snapshot.data.length }, 'restored snapshot');
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.appliedIndex) {
      // Raft hands each committed entry out once; after a restore it starts above the snapshot.
      throw new Error(`entry ${entry.index} handed out again (applied ${this.appliedIndex})`);
    }
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`gap in applied entries: applied ${this.appliedIndex}, got ${entry.index}`);
    }
    let result: unknown = undefined;
    if (entry.type === 'normal') {
      const out = this.o.stateMachine.apply({ index: entry.index, term: entry.term, data: entry.data });
      if (out.unusable !== undefined) {
        this.o.logger.error({ index: entry.index, term: entry.term, reason: out.unusable }, 'committed entry could not be applied: a no-op on every replica');
      }
      result = out.result;
    } else if (entry.type === 'config') {
      this.applyConfChange(entry.index, entry.change);
    }
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    this.o.events.applied?.(entry, result);
    this.proposals.applied(entry.index, entry.term, result);
  }

  private applyConfChange(index: LogIndex, change: ConfChange): void {
    // The core moves its applied configuration at advance(); here only addresses and the log line.
    if (!isKnownConfChange(change)) {
      this.o.logger.error({ index, kind: String(change.kind), member: change.node }, 'committed configuration change of an unknown kind: a no-op on every replica');
      return;
    }
    this.o.addresses.learnContext(change.node, change.context);
    this.updatePeers();
    this.o.logger.info({ index, kind: change.kind, member: change.node }, 'membership changed');
    if (change.kind === 'removeNode' && change.node === this.o.id) {
      // Seen when this node led the removal, or heard of its commit before it was cut off; otherwise
      // the members it dials tell it (transport: 'this node was removed from the cluster').
      this.o.logger.error({ index }, 'this node was removed from the cluster: stop it');
    }
  }

  private noteSoftState(role: Role, leader: NodeId | null): void {
    const changed = role !== this.role || leader !== this.leader;
    const wasLeader = this.role === 'leader';
    this.role = role;
    this.leader = leader;
    const t = this.o.raft.status().term;
    this.o.events.softState?.(role, leader, t);
    if (!changed) return;
    this.o.logger.info({ role, leader, term: t }, role === 'leader' ? 'became leader' : 'role changed');
    if (wasLeader && role !== 'leader') {
      this.hold.drop(); // a deposed leader's Appends are stale
      // They may still commit under the next leader (docs/safety.md #15).
      this.proposals.rejectOtherTerms(null, 'leadership was lost; the command may or may not commit');
      this.reads.rejectUnconfirmed(() => new NotLeaderError(leader));
    }
    this.o.events.roleChanged?.(role, leader, t);
  }

  private async maybeSnapshot(): Promise<void> {
    const o = this.o;
    if (this.appliedIndex - this.lastSnapshotIndex < o.snapshotEveryEntries) return;
    // After advance(): the core's applied configuration is the one at appliedIndex.
    const conf = o.raft.status().appliedConf;
    const snapshot: Snapshot = {
      meta: { index: this.appliedIndex, term: this.appliedTerm, conf, memberContext: o.addresses.contexts(conf) },
      data: o.stateMachine.snapshot(),
    };
    // Durable first; the log is only compacted once the snapshot covering it is.
    // No storage.compact(index) here: saving the snapshot already drops the
    // entries it covers (src/storage/log-shape.ts planSnapshot), and an empty
    // compact write used to wedge LevelStorage's flush loop.
    await o.storage.save({ hardState: null, entries: [], snapshot });
    o.raft.compact(snapshot, o.retainEntries());
    this.lastSnapshotIndex = snapshot.meta.index;
    o.events.snapshotTaken?.(snapshot);
    o.logger.info({ index: snapshot.meta.index, bytes: snapshot.data.length }, 'took snapshot');
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
