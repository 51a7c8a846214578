import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import { Network, emptyState, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

describe('§5.2 leader election', () => {
  it('a single voter elects itself and commits its no-op', () => {
    const net = new Network(['a']);
    net.campaign('a');
    expect(net.leader()).toBe('a');
    const st = net.node('a').status();
    expect(st.term).toBe(1);
    expect(st.commit).toBe(1);
    expect(net.applied.get('a')?.map((e) => e.type)).toEqual(['noop']);
  });

  it('three nodes elect exactly one leader, whose no-op commits everywhere', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    expect(net.leader()).toBe('a');
    net.tickAll(2);
    for (const id of ['a', 'b', 'c']) {
      expect(net.node(id).status().commit).toBe(1);
      expect(net.node(id).status().leader).toBe('a');
    }
  });

  it('randomized election timeouts fall in [min, 2*min)', () => {
    const min = 10;
    const seen = new Set<number>();
    for (let seed = 1; seed < 200; seed++) {
      const r = new Raft({ ...defaultRaftConfig(nodeId('a'), [nodeId('a'), nodeId('b')], seededRandom(seed)), electionTimeoutTicks: min }, emptyState());
      const t = r.electionTimeoutNowTicks();
      expect(t).toBeGreaterThanOrEqual(min);
      expect(t).toBeLessThan(2 * min);
      seen.add(t);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('elections with all nodes ticking converge on one leader', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], { seed: seed * 7 });
      for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll();
      expect(net.leaders()).toHaveLength(1);
    }
  });

  it('two followers that start pre-votes at once do not split the vote: the lower id goes on, the term moves by one', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.isolate('a');
    // Both reach their election timeouts before either hears from the other (a busy machine, or a
    // dead leader noticed by each at a slightly different moment).
    for (const id of ['b', 'c']) {
      const r = net.node(id);
      for (let i = 0; i < 100 && r.status().role !== 'pre-candidate'; i++) r.tick();
      expect(r.status().role).toBe('pre-candidate');
    }
    net.process();
    expect(net.leaders()).toEqual(['b']);
    expect(net.node('b').status().term).toBe(2);
    expect(net.node('c').status()).toMatchObject({ role: 'follower', term: 2, leader: 'b' });
  });

  it('a node grants at most one vote per term', () => {
    const r = new Raft({ ...defaultRaftConfig(nodeId('a'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)), preVote: false }, emptyState());
    const vote = (from: string) =>
      r.step({ type: 'Vote', from: nodeId(from), to: nodeId('a'), term: term(1), lastLogIndex: logIndex(0), lastLogTerm: term(0), transfer: false });
    vote('b');
    vote('c');
    const rd = r.ready();
    const resps = allMessages(rd).filter((m) => m.type === 'VoteResp');
    expect(resps.map((m) => [m.to, m.type === 'VoteResp' && m.reject])).toEqual([
      ['b', false],
      ['c', true],
    ]);
    // #4: the granted vote is in the same Ready as the hard state that records it.
    expect(rd.hardState).toEqual({ term: 1, vote: 'b', commit: 0 });
    expect(rd.mustSync).toBe(true);
  });
});

describe('Figure 2 election timer', () => {
  it('a rejected higher-term Vote does not reset the election timer (sim finding F2)', () => {
    const r = new Raft({ ...defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(5)), preVote: false }, {
      hardState: { term: term(1), vote: null, commit: logIndex(0) },
      snapshot: null,
      entries: [{ term: term(1), index: logIndex(1), type: 'noop' }],
    });
    for (let i = 0; i < 5; i++) r.tick();
    // A hopeless candidate (empty log) at a higher term.
    r.step({ type: 'Vote', from: nodeId('c'), to: nodeId('b'), term: term(7), lastLogIndex: logIndex(0), lastLogTerm: term(0), transfer: false });
    expect(r.status().term).toBe(7);
    expect(allMessages(r.ready()).find((m) => m.type === 'VoteResp')).toMatchObject({ reject: true });
    const remaining = r.electionTimeoutNowTicks() - 5;
    for (let i = 0; i < remaining - 1; i++) r.tick();
    expect(r.status().role).toBe('follower');
    r.tick();
    expect(r.status().role).toBe('candidate');
  });
});

describe('§5.4.1 election restriction', () => {
  it('a vote is denied to a candidate whose log is out of date', () => {
    let deniedSomewhere = false;
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network(['a', 'b', 'c'], { config: { preVote: false }, seed });
      net.campaign('a');
      net.propose('x');
      // c misses an entry that a and b hold, then the leader dies.
      net.isolate('c');
      net.propose('y');
      net.heal();
      net.isolate('a');
      for (let i = 0; i < 100 && net.leaders().length === 0; i++) {
        net.node('b').tick();
        net.node('c').tick();
        net.process();
      }
      // Only b can win: c's log lacks a committed entry (§5.4.1).
      expect(net.leader()).toBe('b');
      deniedSomewhere ||= net.sent.some((m) => m.type === 'VoteResp' && m.from === 'b' && m.to === 'c' && m.reject);
    }
    expect(deniedSomewhere).toBe(true);
  });

  it('voters compare last term before last index', () => {
    const r = new Raft({ ...defaultRaftConfig(nodeId('a'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)), preVote: false }, {
      hardState: { term: term(2), vote: null, commit: logIndex(0) },
      snapshot: null,
      entries: [
        { term: term(1), index: logIndex(1), type: 'noop' },
        { term: term(2), index: logIndex(2), type: 'noop' },
      ],
    });
    // Longer log but older last term: denied.
    r.step({ type: 'Vote', from: nodeId('b'), to: nodeId('a'), term: term(3), lastLogIndex: logIndex(5), lastLogTerm: term(1), transfer: false });
    // Shorter log with newer last term: granted.
    r.step({ type: 'Vote', from: nodeId('c'), to: nodeId('a'), term: term(4), lastLogIndex: logIndex(1), lastLogTerm: term(3), transfer: false });
    const resps = allMessages(r.ready()).filter((m) => m.type === 'VoteResp');
    expect(resps.map((m) => [m.to, m.type === 'VoteResp' && m.reject])).toEqual([
      ['b', true],
      ['c', false],
    ]);
  });
});
