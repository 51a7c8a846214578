// An in-memory, single-node twin of ReplicatedNode: propose applies straight
// to a LockMachine at increasing indexes; it leads unless a test says
// otherwise (setRole), so forwarding and no-leader paths can be driven too.

import { LockMachine } from '../../src/locks/machine.js';
import { type NodeStatus, NotLeaderError, OutcomeUnknownError, type ReplicatedNode } from '../../src/node/api.js';
import { logIndex, type LogIndex, nodeId, type NodeId, type Role, term, type Term } from '../../src/raft/types.js';
import { EventDispatcher } from '../../src/server/dispatcher.js';
import type { LockMachineView } from '../../src/server/machine-view.js';

export class MemoryNode implements ReplicatedNode {
  readonly id: NodeId;
  /** What the node applies through, as the real node does (src/cli/commands/serve.ts). */
  readonly dispatcher: EventDispatcher;
  role: Role = 'leader';
  leader: NodeId | null;
  currentTerm: Term = term(1);
  /** What leadershipConfirmedRecently() answers while leader (tests turn it off: docs/safety.md #13). */
  confirmed = true;
  /** The leader's API URL, when a test points this node at another server. */
  leaderUrl: string | null = null;
  /** When set, the next propose applies and then rejects with OutcomeUnknownError (leadership lost after append). */
  failNextAfterApply = false;
  readonly proposals: Uint8Array[] = [];
  /**
   * Entries committed before this leader's term that it has not applied yet (a
   * leader that has just taken over): the next read barrier applies them, once
   * `barrierGate` (when set) settles; a gate that rejects fails the barrier.
   */
  readonly unapplied: Uint8Array[] = [];
  barrierGate: Promise<void> | null = null;
  private index = 0;
  private readonly listeners = new Set<(role: Role, leader: NodeId | null, t: Term) => void>();
  members: { id: NodeId; peerUrl: string; apiUrl: string | null; voter: boolean }[];

  constructor(
    id = 'n1',
    readonly machine = new LockMachine(),
  ) {
    this.dispatcher = new EventDispatcher(machine);
    this.id = nodeId(id);
    this.leader = this.id;
    this.members = [{ id: this.id, peerUrl: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:2', voter: true }];
  }

  async propose(data: Uint8Array, _timeoutMs: number): Promise<{ index: LogIndex; result: unknown }> {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    this.proposals.push(data);
    this.index += 1;
    const { result } = this.dispatcher.apply({ index: logIndex(this.index), term: this.currentTerm, data });
    if (this.failNextAfterApply) {
      this.failNextAfterApply = false;
      throw new OutcomeUnknownError('leadership lost after append');
    }
    return { index: logIndex(this.index), result };
  }

  async readBarrier(_timeoutMs: number): Promise<LogIndex> {
    if (this.barrierGate !== null) await this.barrierGate;
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    for (const data of this.unapplied.splice(0)) {
      this.index += 1;
      this.dispatcher.apply({ index: logIndex(this.index), term: this.currentTerm, data });
    }
    return logIndex(this.index);
  }

  leadershipConfirmedRecently(): boolean {
    return this.role === 'leader' && this.confirmed;
  }

  /** Members the leader has not heard from (status().progress reachable false): a test plays them down. */
  readonly unreachable = new Set<string>();
  /** What status().removed says (a test plays a node removed from the cluster). */
  removed = false;
  /** What leaderHeardRecently() answers while not leader (a test cuts a follower off from its leader). */
  leaderHeard = true;
  leaderHeardRecently(): boolean {
    return this.role === 'leader' ? this.confirmed : this.leaderHeard && this.status().leader !== null;
  }

  status(): NodeStatus {
    return {
      clusterId: 'memory',
      id: this.id,
      role: this.role,
      leader: this.leader,
      term: this.currentTerm,
      commitIndex: logIndex(this.index),
      appliedIndex: logIndex(this.index),
      conf: { voters: this.members.filter((m) => m.voter).map((m) => m.id), learners: this.members.filter((m) => !m.voter).map((m) => m.id) },
      members: this.members.map((m) => ({ ...m })),
      removed: this.removed,
      progress: this.role === 'leader' ? Object.fromEntries(this.members.map((m) => [m.id, { matchIndex: logIndex(this.index), reachable: !this.unreachable.has(m.id) }])) : null,
    };
  }

  leadership(): { role: Role; leader: NodeId | null; term: Term } {
    return { role: this.role, leader: this.leader, term: this.currentTerm };
  }

  leaderApiUrl(): string | null {
    return this.role === 'leader' ? null : this.leaderUrl;
  }

  onRoleChange(listener: (role: Role, leader: NodeId | null, t: Term) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Test hook: change role/leader and notify like the real node does. */
  setRole(role: Role, leader: string | null, leaderUrl: string | null = null): void {
    if (role === 'leader') this.currentTerm = term(this.currentTerm + 1);
    this.role = role;
    this.leader = leader === null ? null : nodeId(leader);
    this.leaderUrl = leaderUrl;
    for (const listener of this.listeners) listener(role, this.leader, this.currentTerm);
  }

  async transferLeadership(to: NodeId | null, _timeoutMs: number): Promise<NodeId> {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    const target = to ?? this.members.find((m) => m.id !== this.id)?.id ?? null;
    // As RaftNode.transferLeadership: alone, it has nobody to hand over to.
    if (target === null) throw new NotLeaderError(this.id);
    // As RaftNode.transferLeadership: only a voter can be handed leadership.
    if (this.members.find((m) => m.id === target)?.voter !== true) throw new Error(`${target} is not a voter`);
    this.setRole('follower', target);
    return target;
  }

  async addMember(member: { id: NodeId; peerUrl: string; apiUrl: string; voter: boolean }, _timeoutMs: number): Promise<void> {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    // As RaftNode.addMember: a member already there is left as it is, a learner asked to vote is promoted.
    const existing = this.members.find((m) => m.id === member.id);
    if (existing === undefined) this.members.push({ ...member });
    else if (member.voter) existing.voter = true;
  }

  async removeMember(id: NodeId, _timeoutMs: number): Promise<void> {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    // As the Raft core: a configuration without voters could never elect a leader again.
    const voters = this.members.filter((m) => m.voter);
    if (voters.length === 1 && voters[0].id === id) throw new Error('cannot remove the last voter');
    this.members = this.members.filter((m) => m.id !== id);
  }
}

// The real machine must satisfy the server's view of it.
const _machineFits: (m: LockMachine) => LockMachineView = (m) => m;
void _machineFits;
