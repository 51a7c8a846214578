// The Raft core: a deterministic stepped value in the manner of etcd-io/raft
// (raft.go + rawnode.go). No timers, sockets, disk, clocks or randomness
// other than config.random; the caller drives it with tick/step/propose and
// handles each Ready (persist, then send, then apply) before advance().
//
// Section numbers refer to the Raft paper (Ongaro & Ousterhout 2014) and,
// where marked "dissertation", to Ongaro's PhD dissertation (2014).
// "#n" numbers a known failure of Raft lock services that this code guards against (the test named after it shows it).
//
// Caller contract (beyond src/raft/api.ts):
//  - ready() and advance(ready) strictly alternate; hasReady() is false while a Ready is out.
//    Stepping and ticking between them is fine (their output goes in the next Ready).
//  - Every node, including one that joins later, is given the cluster's bootstrap voters as
//    config.initialVoters: the log records only changes relative to them (a node restored from a
//    snapshot takes the configuration from SnapshotMeta.conf instead).
//  - The state machine restarts from the snapshot: committed entries after it are handed out
//    again in committedEntries after a restart.
//  - config.leaseReads is accepted but not implemented: every read takes the ReadIndex path.
//  - status().appliedConf is the configuration as of the applied index, for a SnapshotMeta taken
//    after advance() (confAt(index) gives it with the log's member contexts for any retained index);
//    compact() refuses a snapshot whose configuration disagrees with the log.

import type { RaftCore } from './api.js';
import { invariant } from './assert.js';
import { coalesceMessages } from './coalesce.js';
import { validateRaftConfig } from './config.js';
import { entryBytes } from './entry-size.js';
import { type GuardView, refusalOf } from './guard.js';
import { RaftLog } from './log.js';
import {
  type Membership,
  applyConfChange,
  confStateOf,
  isMember,
  memberContextOf,
  membershipFrom,
  sameConf,
} from './membership.js';
import { PeerProgress } from './progress.js';
import { majority, quorumValue, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type LogIndex,
  type Message,
  MessageRefusedError,
  type NodeId,
  NotLeaderError,
  type PersistentState,
  type Progress,
  ProposalDroppedError,
  type RaftConfig,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
  type Term,
  logIndex,
  term as toTerm,
} from './types.js';

export { defaultRaftConfig } from './config.js';

type InternalRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Distributes Omit over the Message union so each variant keeps its own fields. */
type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & { term?: Term } : never) : never;

export class Raft implements RaftCore {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  private term: Term;
  private vote: NodeId | null;
  private readonly log: RaftLog;
  private role: InternalRole = 'follower';
  private leader: NodeId | null = null;

  /** Membership at log.baseIndex; the one in force is this plus every config entry after it. */
  private baseMembership: Membership;
  /** Membership in force: the latest config entry in the log, committed or not (dissertation §4.1). */
  private membership: Membership;
  /** Index of the latest config entry in the log (0 if none after the base). */
  private lastConfIndex: LogIndex = logIndex(0);
  /** Membership as of log.applied: moved in advance() by the applied snapshot and config entries. */
  private appliedMembership: Membership;

  private electionElapsedTicks = 0;
  private heartbeatElapsedTicks = 0;
  private randomizedElectionTimeoutTicks = 0;
  /** Logical clock: ticks since construction. Used for quorum contact. */
  private nowTick = 0;

  private votes = new Map<string, boolean>();
  private progress = new Map<NodeId, PeerProgress>();
  private leadTransferee: NodeId | null = null;
  private readOnly = new ReadOnlyQueue();
  /** Reads that arrived before this leader committed an entry of its term (#2). */
  private readsAwaitingCommit: string[] = [];
  /**
   * Reads were recorded since the last heartbeat round: the next Ready starts one round for all of
   * them, carrying the newest one's id (an ack for it confirms every earlier one, read-only.ts),
   * instead of a round per read.
   */
  private readRoundDue = false;
  /**
   * The latest PreVote left unanswered because we still followed a live leader (inLease). If that
   * leader is then reported down (reportPeerDown), it is answered: the member that noticed first
   * need not wait for its next election timeout because we noticed a moment later.
   */
  private heldPreVote: Extract<Message, { type: 'PreVote' }> | null = null;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private droppedReads: string[] = [];
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | null = null;
  /** What refusalOf (src/raft/guard.ts) reads: live views of our state, built once. */
  private readonly guard: GuardView;

  constructor(config: RaftConfig, persisted: PersistentState) {
    validateRaftConfig(config);
    this.cfg = config;
    this.id = config.id;
    const hs = persisted.hardState;
    this.term = hs.term;
    this.vote = hs.vote;
    this.log = new RaftLog(persisted.snapshot, persisted.entries, hs.commit);
    this.baseMembership = persisted.snapshot
      ? membershipFrom(persisted.snapshot.meta.conf, persisted.snapshot.meta.memberContext)
      : membershipFrom({ voters: config.initialVoters, learners: [] });
    this.membership = this.baseMembership;
    this.appliedMembership = this.baseMembership; // applied starts at the snapshot (RaftLog)
    this.recomputeMembership();
    this.prevHard = { term: this.term, vote: this.vote, commit: this.log.commit };
    this.becomeFollower(this.term, null);
    this.prevSoft = this.softState();
    const raft = this;
    this.guard = {
      get term() {
        return raft.term;
      },
      get role() {
        return raft.role;
      },
      get leader() {
        return raft.leader;
      },
      get lastIndex() {
        return raft.log.lastIndex();
      },
      get commit() {
        return raft.log.commit;
      },
      matchTerm: (index, t) => this.log.matchTerm(index, t),
      findConflict: (entries) => this.log.findConflict(entries),
    };
  }

  // ---------------------------------------------------------------- clock

  tick(): void {
    this.nowTick++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsedTicks++;
    if (this.promotable() && this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      this.campaign(this.cfg.preVote ? 'pre' : 'normal');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsedTicks++;
    this.electionElapsedTicks++;
    // Check-quorum (#9, dissertation §6.2): a leader cut off from a quorum stops believing it leads.
    if (this.cfg.checkQuorum && this.ticksSinceQuorumContact() >= this.cfg.electionTimeoutTicks) {
      this.becomeFollower(this.term, null);
      return;
    }
    if (this.electionElapsedTicks >= this.cfg.electionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      // Dissertation §3.10: a transfer that has not completed within an election timeout is aborted.
      if (this.leadTransferee !== null) this.leadTransferee = null;
    }
    if (this.heartbeatElapsedTicks >= this.cfg.heartbeatIntervalTicks) {
      this.heartbeatElapsedTicks = 0;
      // Re-send the newest pending read's context so reads survive a lost heartbeat.
      this.broadcastHeartbeat(this.readOnly.lastRequestId());
      this.readRoundDue = false;
    }
  }

  private resetRandomizedElectionTimeout(): void {
    const min = this.cfg.electionTimeoutTicks;
    const r = this.cfg.random();
    invariant(r >= 0 && r < 1, () => `config.random returned ${r}, outside [0, 1)`);
    // §5.2: randomized in [min, 2*min) so that split votes are rare.
    this.randomizedElectionTimeoutTicks = min + Math.floor(r * min);
  }

  /** The randomized election timeout now in force (for tests and the simulator). */
  electionTimeoutNowTicks(): number {
    return this.randomizedElectionTimeoutTicks;
  }

  // ---------------------------------------------------------------- roles

  /**
   * Whether this node may campaign. A voter of its latest configuration may. So may a node that
   * an uncommitted change removed from the configuration it was a voter of: dissertation §4.2.2,
   * "a server that is not part of its own latest configuration should still start new elections,
   * as it might still be needed until the Cnew entry is committed" (Figure 4.6). It then campaigns
   * in its latest configuration without counting its own vote (voteResult counts only voters), and
   * if it wins it commits the change with its no-op and steps down (afterLeaderCommit).
   * Simulator finding F3, test/sim/FINDINGS.md.
   */
  private promotable(): boolean {
    if (this.membership.voters.has(this.id)) return true;
    if (this.lastConfIndex <= this.log.commit) return false;
    return this.membershipAt(this.lastConfIndex - 1).m.voters.has(this.id);
  }

  private setTerm(t: Term): void {
    invariant(t >= this.term, () => `term must never decrease: ${this.term} -> ${t}`);
    if (t > this.term) {
      this.term = t;
      this.vote = null;
    }
  }

  private becomeFollower(t: Term, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.setTerm(t);
    this.role = 'follower';
    this.leader = leader;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.leadTransferee = null;
    if (wasLeader) {
      this.progress.clear();
      // §6.4: reads waiting here can no longer be confirmed; the caller fails them.
      this.droppedReads.push(...this.readsAwaitingCommit, ...this.readOnly.drain());
      this.readsAwaitingCommit = [];
      this.readRoundDue = false;
    }
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Dissertation §9.6: a pre-candidate does not bump its term or vote.
    this.role = 'pre-candidate';
    this.leader = null;
    this.votes.clear();
    this.electionElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a candidate');
    this.setTerm(toTerm(this.term + 1));
    this.vote = this.id;
    this.role = 'candidate';
    this.leader = null;
    this.votes.clear();
    this.electionElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.leader = this.id;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.leadTransferee = null;
    this.progress.clear();
    this.syncProgress();
    // §8 and #2: a new leader appends a no-op of its term; until it commits, the leader does not
    // know which entries are committed, so reads and membership changes wait for it.
    this.appendAsLeader([{ term: this.term, index: logIndex(0), type: 'noop' }]);
    this.broadcastAppend();
  }

  private campaign(kind: 'pre' | 'normal' | 'transfer'): void {
    if (!this.promotable()) return;
    if (kind === 'pre') {
      this.becomePreCandidate();
    } else {
      this.becomeCandidate();
    }
    this.votes.set(this.id, true);
    if (this.tallyAndAct()) return;
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const v of this.membership.voters) {
      if (v === this.id) continue;
      if (kind === 'pre') {
        this.send({ type: 'PreVote', to: v, term: toTerm(this.term + 1), lastLogIndex, lastLogTerm });
      } else {
        this.send({ type: 'Vote', to: v, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' });
      }
    }
  }

  /** Count votes; move on if the election is decided. Returns true if the role changed. */
  private tallyAndAct(): boolean {
    const result = voteResult(this.membership.voters, this.votes);
    if (result === 'won') {
      if (this.role === 'pre-candidate') this.campaign('normal');
      else this.becomeLeader();
      return true;
    }
    if (result === 'lost') {
      this.becomeFollower(this.term, null);
      return true;
    }
    return false;
  }

  /**
   * #8, dissertation §4.2.3: a node that heard from a live leader within the
   * minimum election timeout ignores vote requests, so a rejoining or removed
   * server cannot depose a healthy leader.
   */
  private inLease(): boolean {
    if (this.role === 'leader') return true;
    return this.leader !== null && this.electionElapsedTicks < this.cfg.electionTimeoutTicks;
  }

  /**
   * Leader stickiness (dissertation §4.2.3, §9.6; etcd-io/raft with checkQuorum): while we have heard
   * from a leader within the election timeout, or lead with a quorum heard, a higher term from anyone
   * but that leader does not move us when it comes on a message a correct member would not send us
   * now: a leader's message (one member's Heartbeat at term + 100 must not depose a healthy leader or
   * stop its followers), or an answer to a request we did not make. A real newer leader is heard
   * once the lease runs out (a leader that lost its quorum steps down by check-quorum). Still let
   * through: a leader's own followers' answers at a higher term (a member whose term rose while cut
   * off must be able to rejoin, as in etcd), and transfer votes. Vote requests: see step().
   */
  private stickyIgnores(m: Message): boolean {
    if (m.term <= this.term || !this.cfg.checkQuorum || !this.inLease() || m.from === this.leader) return false;
    switch (m.type) {
      case 'Append':
      case 'Heartbeat':
      case 'InstallSnapshot':
      case 'TimeoutNow':
      case 'PreVoteResp':
      case 'VoteResp':
        return true;
      case 'AppendResp':
      case 'HeartbeatResp':
        return this.role !== 'leader';
      default:
        return false;
    }
  }

  // ---------------------------------------------------------------- messages

  private send(m: Outgoing): void {
    // Every caller passes a fresh object literal, so it is completed in place:
    // a spread copy per message showed in the leader's CPU profile (~2% self).
    const msg = m as Outgoing & { from: NodeId; term: Term };
    msg.from = this.id;
    if (msg.term === undefined) msg.term = this.term;
    this.msgs.push(msg as Message);
  }

  step(m: Message): void {
    invariant(m.to === this.id, () => `message for ${m.to} stepped into ${this.id}`);
    if (m.from === this.id) return;
    const refusal = refusalOf(m, this.guard);
    if (refusal !== null) throw new MessageRefusedError(m.from, m.type, refusal);
    if (this.stickyIgnores(m)) return;

    // Vote requests are answered whatever our configuration says of the candidate (dissertation §4.1:
    // "servers process incoming RPC requests without consulting their current configurations"; etcd-io/raft
    // does the same). Our configuration may be stale: a node that is a learner or unknown here can be a
    // voter in a newer configuration, and the only electable one (simulator finding F3). A removed server
    // is kept from disrupting a working cluster by the lease check below (#7, #8, dissertation §4.2.3) and
    // by pre-vote, not by its absence from our configuration.
    if (m.term > this.term) {
      if (m.type === 'Vote' || m.type === 'PreVote') {
        const transfer = m.type === 'Vote' && m.transfer;
        if (!transfer && this.inLease()) {
          if (m.type === 'PreVote') this.heldPreVote = m;
          return;
        }
      }
      if (m.type === 'PreVote') {
        // Pre-vote requests carry the candidate's next term; answering them never changes ours.
      } else if (m.type === 'PreVoteResp' && !m.reject) {
        // A granted pre-vote is answered at the future term; it is not a reason to move.
      } else {
        const fromLeader = m.type === 'Append' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot';
        const elapsed = this.electionElapsedTicks;
        this.becomeFollower(m.term, fromLeader ? m.from : null);
        if (m.type === 'Vote') {
          // Figure 2: only a granted vote resets the election timer (handleVoteRequest does that).
          // A hopeless candidate's higher term must not keep the electable nodes from timing out
          // (simulator finding F2, test/sim/FINDINGS.md).
          this.electionElapsedTicks = elapsed;
        }
      }
    } else if (m.term < this.term) {
      if (m.type === 'Append' || m.type === 'Heartbeat') {
        // A stale leader (e.g. one partitioned away) learns of the newer term from our answer and steps
        // down; without this, a node whose term rose while cut off could never rejoin.
        this.send({
          type: 'AppendResp',
          to: m.from,
          reject: true,
          index: logIndex(0),
          rejectHint: logIndex(0),
          rejectHintTerm: toTerm(0),
        });
      } else if (m.type === 'PreVote' || m.type === 'Vote') {
        // §5.1: the reply carries our term, so a candidate that fell behind catches up.
        this.send({ type: m.type === 'PreVote' ? 'PreVoteResp' : 'VoteResp', to: m.from, reject: true });
      }
      return;
    }

    if (m.type === 'Vote' || m.type === 'PreVote') {
      this.handleVoteRequest(m);
      return;
    }

    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  /** Answers a vote or pre-vote request; returns whether it was granted. */
  private handleVoteRequest(m: Extract<Message, { type: 'Vote' | 'PreVote' }>): boolean {
    const isPre = m.type === 'PreVote';
    // §5.2: at most one vote per term; a pre-vote for a future term promises nothing.
    const canVote =
      this.vote === m.from || (this.vote === null && this.leader === null) || (isPre && m.term > this.term);
    // §5.4.1 election restriction (#6).
    const upToDate = this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    // Two pre-candidates that grant each other both become candidates of the same term and split
    // the vote: a full election timeout lost, and the term moved twice. So a pre-candidate grants
    // another's pre-vote only if that one's log is strictly newer (we could not win against it) or,
    // with equal logs, its id is lower (the peer-down turn order's rule). Two pre-candidates never
    // grant each other; a pre-vote binds nobody, so this costs no safety.
    const yields =
      !isPre || this.role !== 'pre-candidate' || m.from < this.id || this.log.isNewer(m.lastLogIndex, m.lastLogTerm);
    const grant = canVote && upToDate && yields;
    const respType = isPre ? 'PreVoteResp' : 'VoteResp';
    if (grant) {
      if (!isPre) {
        // Persisted in the same Ready as this response (#4).
        this.vote = m.from;
        this.electionElapsedTicks = 0;
      }
      this.send({ type: respType, to: m.from, term: m.term, reject: false });
    } else {
      this.send({ type: respType, to: m.from, reject: true });
    }
    return grant;
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'Append':
        this.electionElapsedTicks = 0;
        this.leader = m.from;
        this.handleAppend(m);
        break;
      case 'Heartbeat':
        this.electionElapsedTicks = 0;
        this.leader = m.from;
        this.handleHeartbeat(m);
        break;
      case 'InstallSnapshot':
        this.electionElapsedTicks = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        break;
      case 'TimeoutNow':
        // Only the leader hands leadership over (refusalOf refuses one from another known leader);
        // one from a node we do not know leads is ignored.
        if (m.from !== this.leader) break;
        // Dissertation §3.10: campaign at once, skipping pre-vote, flagged so voters ignore their lease.
        this.campaign('transfer');
        break;
      default:
        break;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'Append':
      case 'Heartbeat':
      case 'InstallSnapshot':
        // §5.2: a leader of our term exists.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        break;
      case 'PreVoteResp':
        if (this.role !== 'pre-candidate') break;
        this.votes.set(m.from, !m.reject);
        this.tallyAndAct();
        break;
      case 'VoteResp':
        if (this.role !== 'candidate') break;
        this.votes.set(m.from, !m.reject);
        this.tallyAndAct();
        break;
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr) pr.lastContactTick = this.nowTick;
    switch (m.type) {
      case 'AppendResp':
        if (pr) this.handleAppendResp(m, pr);
        break;
      case 'HeartbeatResp':
        if (pr) this.handleHeartbeatResp(m, pr);
        break;
      case 'Append':
      case 'Heartbeat':
      case 'InstallSnapshot':
        invariant(false, () => `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- follower side

  private handleAppend(m: Extract<Message, { type: 'Append' }>): void {
    if (m.prevLogIndex < this.log.commit) {
      if (m.prevLogIndex + m.entries.length <= this.log.commit) {
        // Everything up to commit is settled; tell the leader where we are.
        this.sendAppendResp(m.from, this.log.commit);
        return;
      }
      // It starts below our commit and reaches past it (a merged Append, coalesce.ts, whose first
      // part we already had). Entries up to our commit are committed, so every leader's log holds
      // them as ours (Leader Completeness): go on from our commit with the rest. Dropping the whole
      // Append, as etcd-io/raft does, would drop the new entries with the old.
      const skip = this.log.commit - m.prevLogIndex;
      m = { ...m, prevLogIndex: this.log.commit, prevLogTerm: m.entries[skip - 1].term, entries: m.entries.slice(skip) };
    }
    if (this.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
      const lastNewIndex = logIndex(m.prevLogIndex + m.entries.length);
      // #6: truncate only at a real conflict; entries we already have are left alone, so a stale or
      // reordered Append (a prefix of what we hold) never removes anything.
      const conflict = this.log.findConflict(m.entries);
      if (conflict !== 0) {
        invariant(conflict > this.log.commit, () => `conflict at committed index ${conflict} (commit ${this.log.commit})`);
        const fresh = m.entries.slice(conflict - m.entries[0].index);
        const truncated = this.log.append(fresh);
        this.afterLogAppend(fresh, truncated);
      }
      // #6: commit = min(leaderCommit, index of last new entry): beyond it our log may still differ.
      this.log.commitTo(logIndex(Math.min(m.commit, lastNewIndex)));
      this.sendAppendResp(m.from, lastNewIndex);
      return;
    }
    // §5.3 fast backtracking: point the leader at the last index whose term could match.
    const hintIndex = this.log.findConflictByTerm(logIndex(Math.min(m.prevLogIndex, this.log.lastIndex())), m.prevLogTerm);
    this.send({
      type: 'AppendResp',
      to: m.from,
      reject: true,
      index: m.prevLogIndex,
      rejectHint: hintIndex,
      rejectHintTerm: this.log.term(hintIndex) ?? toTerm(0),
    });
  }

  private sendAppendResp(to: NodeId, index: LogIndex): void {
    this.send({ type: 'AppendResp', to, reject: false, index, rejectHint: logIndex(0), rejectHintTerm: toTerm(0) });
  }

  private handleHeartbeat(m: Extract<Message, { type: 'Heartbeat' }>): void {
    // The leader sends min(our match, its commit), so this never passes entries we might not share.
    this.log.commitTo(logIndex(Math.min(m.commit, this.log.lastIndex())));
    this.send({ type: 'HeartbeatResp', to: m.from, readContext: m.readContext });
  }

  private handleSnapshot(m: Extract<Message, { type: 'InstallSnapshot' }>): void {
    const meta = m.snapshot.meta;
    if (meta.index <= this.log.commit) {
      // §7: never roll back committed state with an older snapshot.
      this.sendAppendResp(m.from, this.log.commit);
      return;
    }
    this.log.restore(m.snapshot);
    this.baseMembership = membershipFrom(meta.conf, meta.memberContext);
    this.recomputeMembership();
    this.sendAppendResp(m.from, this.log.lastIndex());
  }

  // ---------------------------------------------------------------- leader side

  propose(data: Uint8Array): { index: LogIndex; term: Term } {
    this.checkCanPropose();
    const [e] = this.appendAsLeader([{ term: this.term, index: logIndex(0), type: 'normal', data }]);
    this.broadcastAppend();
    return { index: e.index, term: e.term };
  }

  proposeConfChange(change: ConfChange): { index: LogIndex; term: Term } {
    this.checkCanPropose();
    // Safety rules for single-server changes (dissertation §4.1 and its errata; #7):
    //  1. At most one uncommitted change: two could produce disjoint majorities.
    //  2. None before this leader has committed an entry of its term: an uncommitted change from a
    //     previous leader may still win elsewhere, and ours, based on a different old configuration,
    //     could then form a majority disjoint from it.
    if (this.lastConfIndex > this.log.commit) {
      throw new ProposalDroppedError(`a configuration change (index ${this.lastConfIndex}) is still uncommitted`);
    }
    if (this.log.term(this.log.commit) !== this.term) {
      throw new ProposalDroppedError('the leader has not yet committed an entry of its term');
    }
    const m = this.membership;
    if (change.kind !== 'removeNode' && m.removed.has(change.node)) {
      // Node ids are forever (docs/safety.md #10): under its old id, a node back with an empty disk could vote twice in one term.
      throw new ProposalDroppedError(`${change.node} was removed from the cluster, and a node id is never reused: add the node under a new id`);
    }
    switch (change.kind) {
      case 'addVoter':
        if (m.voters.has(change.node)) throw new ProposalDroppedError(`${change.node} is already a voter`);
        break;
      case 'addLearner':
        if (m.voters.has(change.node)) throw new ProposalDroppedError(`${change.node} is a voter; demotion is not supported`);
        if (m.learners.has(change.node)) throw new ProposalDroppedError(`${change.node} is already a learner`);
        break;
      case 'removeNode':
        if (!isMember(m, change.node)) throw new ProposalDroppedError(`${change.node} is not a member`);
        if (m.voters.has(change.node) && m.voters.size === 1) {
          throw new ProposalDroppedError('cannot remove the last voter');
        }
        break;
    }
    const [e] = this.appendAsLeader([{ term: this.term, index: logIndex(0), type: 'config', change }]);
    this.broadcastAppend();
    return { index: e.index, term: e.term };
  }

  private checkCanPropose(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== null) {
      throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
    }
    if (!this.membership.voters.has(this.id)) {
      throw new ProposalDroppedError('this leader is being removed from the cluster');
    }
  }

  /** Assign indexes, append, and apply any config entry (effective on append, dissertation §4.1). */
  private appendAsLeader(ents: Entry[]): Entry[] {
    let next = this.log.lastIndex() + 1;
    const stamped = ents.map((e) => stamp(e, this.term, logIndex(next++)));
    this.log.append(stamped);
    // #4: our own copy counts toward commit only once persisted (see advance()).
    this.afterLogAppend(stamped, false);
    return stamped;
  }

  readIndex(requestId: string): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.readOnly.has(requestId) || this.readsAwaitingCommit.includes(requestId)) {
      // #3 (etcd #20418): a request id is never reused.
      throw new Error(`read request id ${requestId} is already pending`);
    }
    // #2 (etcd #7331): until the no-op of this term commits, our commit index may be stale.
    if (this.log.term(this.log.commit) !== this.term) {
      this.readsAwaitingCommit.push(requestId);
      return;
    }
    // Lease reads (config.leaseReads) are not implemented: every read takes the ReadIndex path,
    // which is always safe (it only costs a heartbeat round).
    this.startRead(requestId);
  }

  private startRead(requestId: string): void {
    const voters = this.membership.voters;
    if (voters.size === 1 && voters.has(this.id)) {
      this.readStates.push({ requestId, index: this.log.commit });
      return;
    }
    this.readOnly.add(requestId, this.log.commit, this.id);
    this.readRoundDue = true;
  }

  /** One heartbeat round for every read recorded since the last one (readRoundDue). */
  private startDueReadRound(): void {
    if (!this.readRoundDue) return;
    this.readRoundDue = false;
    const newest = this.readOnly.lastRequestId();
    if (this.role === 'leader' && newest !== null) this.broadcastHeartbeat(newest);
  }

  private readConfirmed = (acks: ReadonlySet<NodeId>): boolean => {
    let n = 0;
    for (const v of this.membership.voters) if (acks.has(v)) n++;
    return n >= majority(this.membership.voters.size);
  };

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (to === this.id) return;
    if (!this.membership.voters.has(to)) {
      throw new ProposalDroppedError(`cannot transfer leadership to ${to}: not a voter`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The transfer is aborted if it has not completed within an election timeout (see tickLeader).
    this.electionElapsedTicks = 0;
    const pr = this.progress.get(to) as PeerProgress;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'TimeoutNow', to });
    else this.sendAppend(to, true);
  }

  private handleAppendResp(m: Extract<Message, { type: 'AppendResp' }>, pr: PeerProgress): void {
    if (m.reject) {
      const hint = m.rejectHintTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm) : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused(this.cfg.maxInflightAppends);
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') {
        pr.becomeReplicate();
      } else if (pr.state === 'snapshot' && pr.match >= this.log.baseIndex) {
        // Caught up past the compaction point: plain Appends can continue from here (§7).
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      if (this.maybeCommit()) {
        if (this.role !== 'leader') return;
        this.broadcastAppend();
      } else {
        this.sendAppends(m.from, wasPaused);
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.send({ type: 'TimeoutNow', to: m.from });
      }
    } else if (wasPaused && !pr.isPaused(this.cfg.maxInflightAppends)) {
      this.sendAppends(m.from, false);
    }
  }

  private handleHeartbeatResp(m: Extract<Message, { type: 'HeartbeatResp' }>, pr: PeerProgress): void {
    // A live follower: let a stalled probe go again, and unstick a full pipeline whose acks were lost
    // (simulator finding F1, test/sim/FINDINGS.md).
    const windowFull = pr.state === 'replicate' && pr.isPaused(this.cfg.maxInflightAppends);
    pr.probeSent = false;
    if (windowFull) pr.freeFirstOne();
    // A follower still behind gets an Append at `next` (empty if everything was sent): if Appends or
    // their acks were lost, its reject resets the pipeline from match (etcd-io/raft does the same).
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
    if (m.readContext !== null) {
      const done = this.readOnly.recvAck(m.from, m.readContext, this.readConfirmed);
      this.readStates.push(...done);
    }
  }

  /** Send as many Appends as the follower's flow control allows. */
  private sendAppends(to: NodeId, sendIfEmpty: boolean): void {
    if (!this.sendAppend(to, sendIfEmpty)) return;
    const pr = this.progress.get(to) as PeerProgress;
    // Pipelining (bounded by maxInflightAppends in 'replicate'; 'probe' stops after one).
    while (pr.state === 'replicate' && this.sendAppend(to, false)) {
      // keep going
    }
  }

  /** One Append (or InstallSnapshot) to `to`, if its flow control allows. Returns true if sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused(this.cfg.maxInflightAppends)) return false;
    const prevLogIndex = logIndex(pr.next - 1);
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) {
      // §7: what the follower needs next has been compacted away.
      const snap = this.log.snapshot;
      invariant(snap !== null && snap.meta.index >= this.log.baseIndex, 'log compacted without a snapshot to send');
      this.send({ type: 'InstallSnapshot', to, snapshot: snap });
      pr.becomeSnapshot(snap.meta.index);
      return true;
    }
    const entries = this.batchFrom(pr.next);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'Append', to, prevLogIndex, prevLogTerm, entries, commit: this.log.commit });
    pr.sentAppend(logIndex(prevLogIndex + entries.length), entries.length);
    return true;
  }

  /** Entries from `from`, at most maxEntriesPerAppend and maxBytesPerAppend (but at least one). */
  private batchFrom(from: LogIndex): Entry[] {
    const candidates = this.log.slice(from, from + this.cfg.maxEntriesPerAppend);
    let bytes = 0;
    let n = 0;
    for (const e of candidates) {
      bytes += entryBytes(e);
      if (n > 0 && bytes > this.cfg.maxBytesPerAppend) break;
      n++;
    }
    return candidates.slice(0, n);
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) this.sendAppends(id, true);
  }

  private broadcastHeartbeat(readContext: string | null): void {
    for (const [id, pr] of this.progress) {
      // Never tell a follower a commit index beyond what it is known to share with us.
      const commit = logIndex(Math.min(pr.match, this.log.commit));
      this.send({ type: 'Heartbeat', to: id, commit, readContext });
    }
  }

  /** The leader's own durable index counts as its match (#4). */
  private matchOf(id: NodeId): number {
    if (id === this.id) return this.log.persistedIndex;
    return this.progress.get(id)?.match ?? 0;
  }

  private maybeCommit(): boolean {
    if (this.role !== 'leader') return false;
    const idx = logIndex(quorumValue([...this.membership.voters].map((v) => this.matchOf(v))));
    // §5.4.2, Figure 8 (#1): only entries of the current term commit by counting replicas.
    if (idx <= this.log.commit || this.log.term(idx) !== this.term) return false;
    this.log.commitTo(idx);
    this.afterLeaderCommit();
    return true;
  }

  private afterLeaderCommit(): void {
    if (this.readsAwaitingCommit.length > 0 && this.log.term(this.log.commit) === this.term) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const id of waiting) this.startRead(id);
    }
    // Dissertation §4.2.2: a leader removed from the configuration steps down once the change commits.
    if (!this.membership.voters.has(this.id) && this.lastConfIndex <= this.log.commit) {
      // Hand over quickly: the most caught-up voter campaigns at once rather than after a timeout.
      let best: NodeId | null = null;
      for (const v of this.membership.voters) {
        if (best === null || this.matchOf(v) > this.matchOf(best)) best = v;
      }
      if (best !== null && this.matchOf(best) === this.log.lastIndex()) this.send({ type: 'TimeoutNow', to: best });
      this.becomeFollower(this.term, null);
    }
  }

  private ticksSinceQuorumContact(): number {
    const voters = [...this.membership.voters];
    if (voters.length === 0) return 0;
    const last = voters.map((v) => (v === this.id ? this.nowTick : (this.progress.get(v)?.lastContactTick ?? -Infinity)));
    return this.nowTick - quorumValue(last);
  }

  // ---------------------------------------------------------------- membership

  private afterLogAppend(ents: Entry[], truncated: boolean): void {
    if (truncated && this.lastConfIndex >= ents[0].index) {
      // Dissertation §4.1: a configuration entry that is truncated takes its configuration with it.
      this.recomputeMembership();
      return;
    }
    let changed = false;
    for (const e of ents) {
      if (e.type === 'config') {
        this.membership = applyConfChange(this.membership, e.change);
        this.lastConfIndex = e.index;
        changed = true;
      }
    }
    if (changed) this.onMembershipChanged();
  }

  /** Membership as of `index` (>= baseIndex). */
  private membershipAt(index: number): { m: Membership; lastConfIndex: LogIndex } {
    invariant(index >= this.log.baseIndex, () => `membership at ${index} is below the compaction point ${this.log.baseIndex}`);
    let m = this.baseMembership;
    let lastConfIndex = logIndex(0);
    for (let i = this.log.baseIndex + 1; i <= index; i++) {
      const e = this.log.entry(i) as Entry;
      if (e.type === 'config') {
        m = applyConfChange(m, e.change);
        lastConfIndex = e.index;
      }
    }
    return { m, lastConfIndex };
  }

  private recomputeMembership(): void {
    const { m, lastConfIndex } = this.membershipAt(this.log.lastIndex());
    this.membership = m;
    this.lastConfIndex = lastConfIndex;
    this.onMembershipChanged();
  }

  private onMembershipChanged(): void {
    if (this.role === 'leader') {
      this.syncProgress();
      if (this.leadTransferee !== null && !this.membership.voters.has(this.leadTransferee)) this.leadTransferee = null;
      // The quorum may have shrunk: pending commits and reads may now be decided.
      this.readStates.push(...this.readOnly.recheck(this.readConfirmed));
      if (this.maybeCommit() && this.role === 'leader') this.broadcastAppend();
    } else if ((this.role === 'candidate' || this.role === 'pre-candidate') && !this.promotable()) {
      this.becomeFollower(this.term, null);
    }
  }

  private syncProgress(): void {
    const m = this.membership;
    for (const id of [...m.voters, ...m.learners]) {
      if (id === this.id) continue;
      const existing = this.progress.get(id);
      if (existing) existing.learner = m.learners.has(id);
      else this.progress.set(id, new PeerProgress(logIndex(this.log.lastIndex() + 1), m.learners.has(id), this.nowTick));
    }
    for (const id of [...this.progress.keys()]) {
      if (!isMember(m, id) || id === this.id) this.progress.delete(id);
    }
  }

  /** Configuration and member contexts as of `index` (>= first retained index - 1), for building SnapshotMeta. */
  confAt(index: LogIndex): { conf: ConfState; memberContext: Record<string, Uint8Array> } {
    const { m } = this.membershipAt(index);
    return { conf: confStateOf(m), memberContext: memberContextOf(m) };
  }

  // ---------------------------------------------------------------- snapshots

  compact(snapshot: Snapshot, retainEntries: number): void {
    invariant(Number.isInteger(retainEntries) && retainEntries >= 0, `retainEntries must be a non-negative integer`);
    const { index, term: t } = snapshot.meta;
    invariant(index <= this.log.applied, () => `snapshot at ${index} is beyond applied ${this.log.applied}`);
    if (index < this.log.baseIndex) return; // older than what we already compacted to
    invariant(this.log.term(index) === t, () => `snapshot term ${t} at ${index} does not match the log`);
    invariant(
      sameConf(snapshot.meta.conf, confStateOf(this.membershipAt(index).m)),
      () => `snapshot configuration at ${index} does not match the log's`,
    );
    this.log.keepSnapshot(snapshot);
    const cutoff = logIndex(Math.max(0, index - retainEntries));
    if (cutoff > this.log.baseIndex) {
      this.baseMembership = this.membershipAt(cutoff).m;
      this.log.compactTo(cutoff);
    }
  }

  reportUnreachable(to: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.progress.get(to);
    if (pr && pr.state === 'replicate') pr.becomeProbe();
  }

  /**
   * The transport says `peer`'s process is likely gone (its connection closed and a new one was
   * refused). If `peer` is our leader, we stop taking it for live (no lease: we answer pre-votes and
   * votes again, and report no leader) and campaign early with a pre-vote instead of waiting out the
   * election timeout. Only with pre-vote and check-quorum, which keep a wrong hint harmless:
   * a pre-vote moves no term, and members that still hear the leader refuse it (leader stickiness,
   * #8), so a healthy leader is never disrupted; a leader that really lost its quorum steps down by
   * check-quorum as before. A silent partition sends no hint and waits for the timeout as before.
   *
   * To keep the members that all noticed at once from splitting the vote, they go in turn: the
   * lowest id among the remaining voters campaigns now, the next after at least one full tick (two
   * tick boundaries), and so on. One whose log is behind loses its pre-vote, and the next in turn
   * wins a tick later. A member that grants a held pre-vote here lets that candidate go first.
   * Members that notice a tick or more apart can still cross pre-votes and split the vote; that
   * costs an election timeout, as without the hint.
   */
  reportPeerDown(peer: NodeId): void {
    if (!this.cfg.preVote || !this.cfg.checkQuorum) return;
    if (this.role !== 'follower' || this.leader !== peer) return;
    this.leader = null;
    const held = this.heldPreVote;
    this.heldPreVote = null;
    const grantedHeld = held !== null && held.term > this.term && this.handleVoteRequest(held);
    if (!this.promotable()) return;
    const turnOrder = [...this.membership.voters].filter((v) => v !== peer).sort();
    const turn = turnOrder.indexOf(this.id);
    if (turn === 0 && !grantedHeld) {
      this.campaign('pre');
      return;
    }
    // A node promotable only by the removal rule (not a voter of its latest configuration) goes last,
    // and so does one that just granted another's pre-vote.
    const ticksToWait = 1 + (turn === -1 || grantedHeld ? turnOrder.length : turn);
    this.electionElapsedTicks = Math.max(this.electionElapsedTicks, this.randomizedElectionTimeoutTicks - ticksToWait);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.role !== 'leader') return;
    const pr = this.progress.get(to);
    if (!pr || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = logIndex(0);
    pr.becomeProbe();
    // Wait for the follower's answer or the next heartbeat response before probing again.
    pr.probeSent = true;
  }

  // ---------------------------------------------------------------- Ready

  leadership(): { role: Role; leader: NodeId | null; term: Term } {
    return { role: this.softState().role, leader: this.leader, term: this.term };
  }

  private softState(): SoftState {
    let role: Role = this.role;
    if (role === 'follower' && this.membership.learners.has(this.id)) role = 'learner';
    return { role, leader: this.leader };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.commit };
  }

  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const soft = this.softState();
    const hard = this.hardState();
    return (
      soft.role !== this.prevSoft.role ||
      soft.leader !== this.prevSoft.leader ||
      !sameHard(hard, this.prevHard) ||
      this.log.hasReady() ||
      this.msgs.length > 0 ||
      this.readRoundDue ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0
    );
  }

  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance() of the previous Ready');
    this.startDueReadRound();
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged = soft.role !== this.prevSoft.role || soft.leader !== this.prevSoft.leader;
    const hardChanged = !sameHard(hard, this.prevHard);
    const { entries, snapshot, committedEntries } = this.log.takeReady(this.cfg.maxCommittedEntriesPerReady);
    const termOrVoteChanged = hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
    const { now, afterPersist } = splitBySendTime(coalesceMessages(this.msgs, this.cfg), termOrVoteChanged || snapshot !== null ? null : this.prevHard.term);
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      snapshot,
      entries,
      messages: now,
      messagesAfterPersist: afterPersist,
      committedEntries,
      readStates: this.readStates,
      droppedReads: this.droppedReads,
      // Commit-only changes need not be synced (a lost commit index is re-learned from the leader).
      mustSync: snapshot !== null || entries.length > 0 || termOrVoteChanged,
    };
    this.prevSoft = soft;
    this.prevHard = hard;
    this.msgs = [];
    this.readStates = [];
    this.droppedReads = [];
    this.outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() called with a Ready that is not the outstanding one');
    this.outstanding = null;
    this.log.acknowledge(rd);
    if (rd.snapshot !== null) this.appliedMembership = membershipFrom(rd.snapshot.meta.conf, rd.snapshot.meta.memberContext);
    for (const e of rd.committedEntries) {
      if (e.type === 'config') this.appliedMembership = applyConfChange(this.appliedMembership, e.change);
    }
    // #4: the leader's own entries count toward commit only now that they are durable.
    if (this.role === 'leader' && this.maybeCommit() && this.role === 'leader') this.broadcastAppend();
  }

  // ---------------------------------------------------------------- status

  status(): RaftStatus {
    const soft = this.softState();
    let progress: Record<string, Progress> | null = null;
    if (this.role === 'leader') {
      progress = {};
      for (const [id, pr] of this.progress) progress[id] = pr.view(this.nowTick, this.cfg.electionTimeoutTicks);
      progress[this.id] = {
        match: this.log.persistedIndex,
        next: logIndex(this.log.lastIndex() + 1),
        state: 'replicate',
        inflight: 0,
        recentActive: true,
        learner: false,
      };
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: soft.role,
      leader: this.leader,
      commit: this.log.commit,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      conf: confStateOf(this.membership),
      appliedConf: confStateOf(this.appliedMembership),
      progress,
      ticksSinceQuorumContact: this.role === 'leader' ? this.ticksSinceQuorumContact() : null,
      // A follower's election clock restarts whenever its leader is heard (stepFollower).
      ticksSinceLeaderContact: this.role !== 'leader' && this.leader !== null ? this.electionElapsedTicks : null,
      leadTransferee: this.leadTransferee,
    };
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * Which messages may go out before their Ready's write is durable (etcd-io/raft's
 * msgsAfterAppend split). A leader may send its new entries to followers in
 * parallel with writing them to its own disk (dissertation §10.2.1; etcd's raft
 * node does): it stays safe because the leader counts its own copy towards commit
 * only once persisted (RaftLog.persistedIndex, advanced in advance(); #4).
 *
 * Only Append and Heartbeat qualify, and only at `durableTerm`: the term already
 * durable before this Ready, null when this Ready changes term or vote or installs
 * a snapshot. A message at a term that is not yet durable could, after a crash,
 * let the same term produce a second, different entry at the same index (a single
 * voter with a learner campaigns, leads and appends in one Ready). Everything
 * else (votes, responses, TimeoutNow, InstallSnapshot) waits for the write.
 */
function splitBySendTime(msgs: Message[], durableTerm: Term | null): { now: Message[]; afterPersist: Message[] } {
  const now: Message[] = [];
  const afterPersist: Message[] = [];
  for (const m of msgs) {
    const early = durableTerm !== null && m.term === durableTerm && (m.type === 'Append' || m.type === 'Heartbeat');
    (early ? now : afterPersist).push(m);
  }
  return { now, afterPersist };
}

/**
 * `e` with this term and index, as a new object literal: `{ ...e, term, index }` cost over a
 * microsecond per proposed entry on Node 20 (spreading a fresh object), a literal ~50 ns.
 */
function stamp(e: Entry, term: Term, index: LogIndex): Entry {
  switch (e.type) {
    case 'normal':
      return { term, index, type: 'normal', data: e.data };
    case 'noop':
      return { term, index, type: 'noop' };
    case 'config':
      return { term, index, type: 'config', change: e.change };
  }
}
