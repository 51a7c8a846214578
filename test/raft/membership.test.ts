import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { applyConfChange, confStateOf, membershipFrom, REMOVED_IDS_MAX } from '../../src/raft/membership.js';
import { MEMBERS_MAX } from '../../src/transport/limits.js';
import { DEFAULT_ELECTION_TIMEOUT_TICKS, defaultRaftConfig } from '../../src/raft/config.js';
import { type Entry, type Message, ProposalDroppedError } from '../../src/raft/types.js';
import { Network, emptyState, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('dissertation §4.1 single-server membership changes', () => {
  it('conf takes a change when it is appended; appliedConf only once the entry is applied, and from a snapshot', () => {
    const r = new Raft(defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1)), emptyState());
    for (let i = 0; i < 30 && r.status().role !== 'leader'; i++) r.tick();
    r.advance(r.ready()); // the no-op: persisted, so committed
    r.advance(r.ready()); // ... and applied
    r.proposeConfChange({ kind: 'addLearner', node: nodeId('l') });
    const inForce = { voters: [nodeId('a')], learners: [nodeId('l')] };
    expect(r.status().conf).toEqual(inForce);
    expect(r.status().appliedConf).toEqual({ voters: ['a'], learners: [] });
    r.advance(r.ready()); // persisted: committed, not yet applied
    expect(r.status().commit).toBe(2);
    expect(r.status().appliedConf).toEqual({ voters: ['a'], learners: [] });
    const rd = r.ready();
    expect(rd.committedEntries.map((e) => e.type)).toEqual(['config']);
    r.advance(rd);
    expect(r.status().appliedConf).toEqual(inForce);
    // A restart from a snapshot at 2 starts from the snapshot's configuration.
    const snap = { meta: { index: logIndex(2), term: r.status().term, conf: inForce }, data: new Uint8Array() };
    r.compact(snap, 0);
    const again = new Raft(defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1)), {
      hardState: { term: r.status().term, vote: nodeId('a'), commit: logIndex(2) },
      snapshot: snap,
      entries: [],
    });
    expect(again.status().appliedConf).toEqual(inForce);
  });

  it('adds a voter, which catches up and then counts toward the quorum', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.add('d');
    net.node('a').proposeConfChange({ kind: 'addVoter', node: nodeId('d'), context: enc('d-addr') });
    net.process();
    net.tickAll(3);
    expect(net.node('a').status().conf.voters).toEqual(['a', 'b', 'c', 'd']);
    expect(net.node('d').status().conf.voters).toEqual(['a', 'b', 'c', 'd']);
    expect(net.appliedData('d')).toEqual(['x']);
    // With 4 voters the quorum is 3: a alone plus one follower cannot commit.
    net.isolate('c');
    net.isolate('d');
    net.node('a').propose(enc('y'));
    net.process();
    expect(net.appliedData('a')).toEqual(['x']);
    net.heal();
    net.tickAll(2);
    expect(net.appliedData('a')).toEqual(['x', 'y']);
    // The context travels with the member and into snapshots.
    expect(new TextDecoder().decode(net.node('a').confAt(net.node('a').status().applied).memberContext.d)).toBe('d-addr');
  });

  it('a learner receives entries but neither votes nor counts; addVoter promotes it', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const l = net.add('l');
    net.node('a').proposeConfChange({ kind: 'addLearner', node: nodeId('l') });
    net.process();
    net.tickAll(3);
    net.propose('x');
    net.tickAll(1);
    expect(net.appliedData('l')).toEqual(['x']);
    expect(l.status().role).toBe('learner');
    expect(net.node('a').status().progress?.l.learner).toBe(true);
    // A learner never campaigns.
    net.isolate('a');
    net.tick('l', 100);
    expect(l.status().role).toBe('learner');
    expect(net.sent.some((m) => m.from === 'l' && (m.type === 'PreVote' || m.type === 'Vote'))).toBe(false);
    net.heal();
    net.tickAll(3);
    // Learners do not count toward the quorum: b and c down means no commit.
    net.isolate('b');
    net.isolate('c');
    net.node('a').propose(enc('y'));
    net.tickAll(2);
    expect(net.appliedData('a')).toEqual(['x']);
    net.heal();
    net.tickAll(3);
    // Promotion.
    net.node(net.leader()).proposeConfChange({ kind: 'addVoter', node: nodeId('l') });
    net.process();
    net.tickAll(3);
    expect(l.status().role).toBe('follower');
    expect(net.node('a').status().conf).toEqual({ voters: ['a', 'b', 'c', 'l'], learners: [] });
  });

  it('removes a follower, which then cannot disrupt the cluster', () => {
    const net = new Network(['a', 'b', 'c'], { config: { preVote: false } });
    net.campaign('a');
    net.node('a').proposeConfChange({ kind: 'removeNode', node: nodeId('c') });
    // c does not hear of its removal.
    net.isolate('c');
    net.process();
    net.tickAll(2);
    expect(net.node('a').status().conf.voters).toEqual(['a', 'b']);
    net.tick('c', 60);
    expect(net.node('c').status().term).toBeGreaterThan(1);
    net.heal();
    net.tickAll(30);
    // #7, #8: a and b hear from the leader, so c's vote requests are ignored (dissertation §4.2.3) and nobody moves term.
    expect(net.node('a').status().role).toBe('leader');
    expect(net.node('b').status().term).toBe(1);
  });

  it('removing the leader: it keeps replicating, steps down once the change commits, and the rest elect', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.node('a').proposeConfChange({ kind: 'removeNode', node: nodeId('a') });
    net.process();
    net.tickAll(2);
    expect(net.node('a').status().role).toBe('follower');
    expect(net.node('b').status().conf.voters).toEqual(['b', 'c']);
    for (let i = 0; i < 50 && net.leaders().length === 0; i++) net.tickAll();
    const leader = net.leader();
    expect(['b', 'c']).toContain(leader);
    net.propose('after');
    expect(net.appliedData(leader === 'b' ? 'c' : 'b')).toEqual(['after']);
    // The removed node never campaigns.
    net.tick('a', 100);
    expect(net.node('a').status().role).toBe('follower');
  });

  it('at most one uncommitted change, and none before the term no-op commits (#7)', () => {
    const net = new Network(['a', 'b', 'c']);
    net.filter = (m) => (m.type === 'AppendResp' ? 'hold' : 'deliver');
    net.campaign('a');
    const a = net.node('a');
    expect(() => a.proposeConfChange({ kind: 'addLearner', node: nodeId('l') })).toThrow(/not yet committed an entry of its term/);
    net.filter = null;
    for (const m of [...net.held]) net.release(m);
    net.filter = (m) => (m.type === 'AppendResp' ? 'hold' : 'deliver');
    a.proposeConfChange({ kind: 'addLearner', node: nodeId('l') });
    net.process();
    expect(() => a.proposeConfChange({ kind: 'addLearner', node: nodeId('m') })).toThrow(ProposalDroppedError);
    net.filter = null;
    for (const m of [...net.held]) net.release(m);
    expect(() => a.proposeConfChange({ kind: 'addLearner', node: nodeId('m') })).not.toThrow();
  });

  it('rejects invalid changes', () => {
    const net = new Network(['a']);
    net.campaign('a');
    const a = net.node('a');
    expect(() => a.proposeConfChange({ kind: 'addVoter', node: nodeId('a') })).toThrow(/already a voter/);
    expect(() => a.proposeConfChange({ kind: 'removeNode', node: nodeId('zz') })).toThrow(/not a member/);
    expect(() => a.proposeConfChange({ kind: 'removeNode', node: nodeId('a') })).toThrow(/last voter/);
  });

  it('a configuration takes effect when appended and is rolled back if its entry is truncated', () => {
    const r = new Raft(defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)), emptyState());
    const conf: Entry = { term: term(1), index: logIndex(2), type: 'config', change: { kind: 'addVoter', node: nodeId('d') } };
    r.step({
      type: 'Append', from: nodeId('a'), to: nodeId('b'), term: term(1), prevLogIndex: logIndex(0), prevLogTerm: term(0),
      entries: [{ term: term(1), index: logIndex(1), type: 'noop' }, conf], commit: logIndex(1),
    });
    // Appended, not committed, already in force.
    expect(r.status().commit).toBe(1);
    expect(r.status().conf.voters).toEqual(['a', 'b', 'c', 'd']);
    r.advance(r.ready());
    // An election timeout without a (from a's) heartbeat: b no longer holds a's lease (leader stickiness).
    for (let i = 0; i < 10; i++) r.tick();
    // A new leader overwrites index 2: the configuration goes with it.
    r.step({
      type: 'Append', from: nodeId('c'), to: nodeId('b'), term: term(2), prevLogIndex: logIndex(1), prevLogTerm: term(1),
      entries: [{ term: term(2), index: logIndex(2), type: 'noop' }], commit: logIndex(1),
    });
    expect(r.status().conf.voters).toEqual(['a', 'b', 'c']);
  });

  // Dissertation §4.1: requests are processed without consulting the configuration, which may be stale
  // here (x may be a voter in entries we have not received: simulator finding F3). A removed server is
  // kept out by the lease (§4.2.3, #8) and by the election restriction, not by its absence from our config.
  it('vote requests from non-members are ignored while a leader is heard, and answered by the usual rules otherwise', () => {
    const mk = () => {
      const r = new Raft(defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)), emptyState());
      r.step({
        type: 'Append', from: nodeId('a'), to: nodeId('b'), term: term(1), prevLogIndex: logIndex(0), prevLogTerm: term(0),
        entries: [{ term: term(1), index: logIndex(1), type: 'noop' }], commit: logIndex(1),
      });
      r.advance(r.ready());
      return r;
    };
    const vote = (lastIdx: number, lastTerm: number): Message => ({
      type: 'Vote', from: nodeId('x'), to: nodeId('b'), term: term(9), lastLogIndex: logIndex(lastIdx), lastLogTerm: term(lastTerm), transfer: false,
    });
    const preVote: Message = { type: 'PreVote', from: nodeId('x'), to: nodeId('b'), term: term(9), lastLogIndex: logIndex(1), lastLogTerm: term(1) };
    // Within the lease: ignored, the term does not move.
    let r = mk();
    r.step(vote(9, 9));
    r.step(preVote);
    expect(r.status().term).toBe(1);
    expect(r.hasReady()).toBe(false);
    // No leader heard for an election timeout: a stale log is refused, an up-to-date one granted.
    r = mk();
    for (let i = 0; i < DEFAULT_ELECTION_TIMEOUT_TICKS; i++) r.tick();
    r.step(vote(0, 0));
    expect(allMessages(r.ready()).find((m) => m.type === 'VoteResp')).toMatchObject({ to: 'x', reject: true });
    r = mk();
    for (let i = 0; i < DEFAULT_ELECTION_TIMEOUT_TICKS; i++) r.tick();
    r.step(vote(1, 1));
    expect(allMessages(r.ready()).find((m) => m.type === 'VoteResp')).toMatchObject({ to: 'x', reject: false, term: 9 });
    expect(r.status().vote).toBe('x');
  });

  it('a snapshot carries the configuration and member contexts', () => {
    const net = new Network(['a', 'b']);
    net.campaign('a');
    net.add('c');
    net.node('a').proposeConfChange({ kind: 'addLearner', node: nodeId('c'), context: enc('c-addr') });
    net.process();
    net.tickAll(2);
    const snap = net.snapshotOf('a');
    expect(snap.meta.conf).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    expect(new TextDecoder().decode(snap.meta.memberContext?.c)).toBe('c-addr');
    // A snapshot whose configuration disagrees with the log is refused.
    expect(() => net.node('a').compact({ ...snap, meta: { ...snap.meta, conf: { voters: ['a'].map(nodeId), learners: [] } } }, 0)).toThrow(/configuration/);
  });
  it('node ids are forever (#10): a removed id is remembered, in snapshots too, and is never added again', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    a.proposeConfChange({ kind: 'removeNode', node: nodeId('c') });
    net.process();
    net.tickAll(2);
    expect(a.status().appliedConf).toEqual({ voters: ['a', 'b'], learners: [], removed: ['c'] });
    expect(net.node('b').status().appliedConf.removed).toEqual(['c']);
    for (const kind of ['addLearner', 'addVoter'] as const) {
      expect(() => a.proposeConfChange({ kind, node: nodeId('c') })).toThrow(/c was removed from the cluster, and a node id is never reused/);
    }
    // The snapshot carries it, and a node restarted from it still refuses the id.
    const snap = net.snapshotOf('a');
    expect(snap.meta.conf.removed).toEqual(['c']);
    const again = new Raft(defaultRaftConfig(nodeId('a'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)), {
      hardState: { term: a.status().term, vote: nodeId('a'), commit: snap.meta.index },
      snapshot: snap,
      entries: [],
    });
    expect(again.status().appliedConf.removed).toEqual(['c']);
    expect(again.status().conf.removed).toEqual(['c']);
    // A new id is fine.
    expect(() => a.proposeConfChange({ kind: 'addLearner', node: nodeId('c2') })).not.toThrow();
  });

  it('removed ids: removal order kept, the oldest forgotten past REMOVED_IDS_MAX (which a peer\'s snapshot check allows); adds from older logs still apply', () => {
    expect(REMOVED_IDS_MAX).toBeLessThanOrEqual(MEMBERS_MAX);
    let m = membershipFrom({ voters: [nodeId('a')], learners: [] });
    for (let i = 0; i <= REMOVED_IDS_MAX; i++) {
      m = applyConfChange(m, { kind: 'addLearner', node: nodeId(`x${i}`) });
      m = applyConfChange(m, { kind: 'removeNode', node: nodeId(`x${i}`) });
    }
    const removed = confStateOf(m).removed!;
    expect(removed).toHaveLength(REMOVED_IDS_MAX);
    expect(removed[0]).toBe('x1');
    expect(removed.at(-1)).toBe(`x${REMOVED_IDS_MAX}`);
    expect(confStateOf(membershipFrom(confStateOf(m))).removed).toEqual(removed);
    // Removing a non-member remembers nothing; an add found in a log written before ids were
    // remembered makes the node a member again, on every replica alike.
    expect(confStateOf(applyConfChange(membershipFrom({ voters: [nodeId('a')], learners: [] }), { kind: 'removeNode', node: nodeId('zz') })).removed).toBeUndefined();
    const back = applyConfChange(m, { kind: 'addVoter', node: nodeId('x5') });
    expect(back.voters.has(nodeId('x5'))).toBe(true);
    expect(back.removed.has(nodeId('x5'))).toBe(false);
  });
});
