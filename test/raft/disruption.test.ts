import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import type { Message } from '../../src/raft/types.js';
import { Network, emptyState, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

describe('dissertation §9.6 pre-vote', () => {
  it('a partitioned pre-candidate does not bump its term', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.tickAll(100);
    const c = net.node('c').status();
    expect(c.term).toBe(1);
    expect(c.role).toBe('pre-candidate');
    expect(net.sent.some((m) => m.from === 'c' && m.type === 'Vote')).toBe(false);
  });

  it('a rejoining node does not disrupt a stable leader', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.tickAll(100);
    net.heal();
    net.tickAll(20);
    expect(net.leader()).toBe('a');
    expect(net.node('a').status().term).toBe(1);
    expect(net.node('c').status().leader).toBe('a');
  });

  it('pre-vote is granted only to an up-to-date log and only when no leader was heard recently', () => {
    const mk = () =>
      new Raft(defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(3)), {
        hardState: { term: term(1), vote: null, commit: logIndex(0) },
        snapshot: null,
        entries: [{ term: term(1), index: logIndex(1), type: 'noop' }],
      });
    const preVote = (lastIdx: number, lastTerm: number): Message => ({
      type: 'PreVote', from: nodeId('c'), to: nodeId('b'), term: term(2), lastLogIndex: logIndex(lastIdx), lastLogTerm: term(lastTerm),
    });
    const resp = (r: Raft) => allMessages(r.ready()).find((m) => m.type === 'PreVoteResp');
    // No leader heard: granted to an up-to-date log, at the candidate's future term, without moving our term.
    let r = mk();
    r.step(preVote(1, 1));
    expect(resp(r)).toMatchObject({ reject: false, term: 2 });
    expect(r.status().term).toBe(1);
    expect(r.status().vote).toBe(null);
    // Out-of-date log: rejected.
    r = mk();
    r.step(preVote(0, 0));
    expect(resp(r)).toMatchObject({ reject: true });
    // A leader was heard just now: ignored altogether.
    r = mk();
    r.step({ type: 'Heartbeat', from: nodeId('a'), to: nodeId('b'), term: term(1), commit: logIndex(0), readContext: null });
    r.advance(r.ready());
    r.step(preVote(1, 1));
    expect(allMessages(r.ready()).find((m) => m.type === 'PreVoteResp')).toBeUndefined();
  });
});

describe('dissertation §4.2.3 disruptive servers (#8)', () => {
  const follower = () => {
    const r = new Raft({ ...defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(3)), preVote: false }, emptyState());
    r.step({ type: 'Heartbeat', from: nodeId('a'), to: nodeId('b'), term: term(1), commit: logIndex(0), readContext: null });
    r.advance(r.ready());
    return r;
  };
  const vote = (t: number, transfer: boolean): Message => ({
    type: 'Vote', from: nodeId('c'), to: nodeId('b'), term: term(t), lastLogIndex: logIndex(5), lastLogTerm: term(5), transfer,
  });

  it('a Vote within the minimum election timeout of hearing from the leader is ignored', () => {
    const r = follower();
    r.step(vote(5, false));
    expect(r.status().term).toBe(1);
    expect(r.hasReady()).toBe(false);
  });

  it('the same Vote is considered after an election timeout without the leader', () => {
    const r = follower();
    for (let i = 0; i < 10; i++) r.tick();
    r.step(vote(5, false));
    expect(r.status().term).toBe(5);
    expect(allMessages(r.ready()).find((m) => m.type === 'VoteResp')).toMatchObject({ reject: false });
  });

  it('a Vote flagged as a leadership transfer is considered at once', () => {
    const r = follower();
    r.step(vote(5, true));
    expect(r.status().term).toBe(5);
    expect(r.status().vote).toBe('c');
  });

  it('without pre-vote, a node that rejoins with a higher term cannot win with a stale log and the cluster recovers', () => {
    const net = new Network(['a', 'b', 'c'], { config: { preVote: false } });
    net.campaign('a');
    net.isolate('c');
    net.propose('x');
    net.tickAll(60);
    expect(net.node('c').status().term).toBeGreaterThan(1);
    net.heal();
    net.tickAll(80);
    expect(net.leaders()).toHaveLength(1);
    expect(net.leader()).not.toBe('c');
    expect(net.appliedData('c')).toEqual(['x']);
  });
});

describe('dissertation §6.2 check-quorum (#9)', () => {
  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.tick('a', 9);
    expect(net.node('a').status().role).toBe('leader');
    expect(net.node('a').status().ticksSinceQuorumContact).toBe(9);
    net.tick('a', 1);
    expect(net.node('a').status().role).toBe('follower');
    expect(net.node('a').status().leader).toBe(null);
  });

  it('a leader that hears from one follower of two stays', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.tick('a', 50);
    expect(net.node('a').status().role).toBe('leader');
    expect(net.node('a').status().ticksSinceQuorumContact).toBeLessThanOrEqual(1);
  });

  it('without check-quorum a cut-off leader stays leader (the behaviour the option prevents)', () => {
    const net = new Network(['a', 'b', 'c'], { config: { checkQuorum: false } });
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.tick('a', 50);
    expect(net.node('a').status().role).toBe('leader');
  });
});
