// A member's message that cannot be right is refused before the core acts on
// it (src/raft/guard.ts: MessageRefusedError, nothing changed), and one that a
// correct member could send only in a race is ignored while a leader is
// heard (leader stickiness, Raft.stickyIgnores). Each case is one of issue
// 10's attacks, run as a member sending a bad message.
import { describe, expect, it } from 'vitest';
import { TERM_AHEAD_MAX } from '../../src/raft/guard.js';
import { MessageRefusedError, logIndex, nodeId, term, type Message } from '../../src/raft/types.js';
import { Network } from './network.js';

const n = nodeId;

/** A 3-node cluster with a as leader and one entry committed everywhere. */
function healthy(): Network {
  const net = new Network(['a', 'b', 'c']);
  net.campaign('a');
  net.propose('x');
  return net;
}

function snapshot(net: Network): Record<string, unknown> {
  return Object.fromEntries(['a', 'b', 'c'].map((id) => {
    const s = net.node(id).status();
    return [id, { term: s.term, role: s.role, leader: s.leader, commit: s.commit, lastIndex: s.lastIndex }];
  }));
}

function expectRefused(net: Network, m: Message, reason: RegExp): void {
  const before = snapshot(net);
  expect(() => net.node(m.to).step(m)).toThrow(MessageRefusedError);
  expect(() => net.node(m.to).step(m)).toThrow(reason);
  net.process();
  expect(snapshot(net)).toEqual(before);
}

/** The cluster still commits: a proposal on the leader reaches every node. */
function expectAvailable(net: Network, leader = 'a'): void {
  expect(net.leader()).toBe(leader);
  net.propose('after');
  for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['x', 'after']);
}

describe('messages that cannot be right are refused, and change nothing', () => {
  it('an AppendResp for an index beyond the leader\'s log (it would commit entries the leader does not have)', () => {
    const net = healthy();
    const last = net.node('a').status().lastIndex;
    const m: Message = { type: 'AppendResp', from: n('b'), to: n('a'), term: term(net.node('a').status().term), reject: false, index: logIndex(last + 5), rejectHint: logIndex(0), rejectHintTerm: term(0) };
    expectRefused(net, m, /beyond our last index/);
    // The follow-up: any write after it used to make the leader exit.
    expectAvailable(net);
  });

  it('a rejecting AppendResp for an index never sent', () => {
    const net = healthy();
    const m: Message = { type: 'AppendResp', from: n('c'), to: n('a'), term: term(net.node('a').status().term), reject: true, index: logIndex(1_000), rejectHint: logIndex(999), rejectHintTerm: term(0) };
    expectRefused(net, m, /beyond our last index/);
    expectAvailable(net);
  });

  it(`a term more than ${TERM_AHEAD_MAX} ahead (a Heartbeat at 2^50)`, () => {
    const net = healthy();
    for (const to of ['a', 'c']) {
      expectRefused(net, { type: 'Heartbeat', from: n('b'), to: n(to), term: term(2 ** 50), commit: logIndex(0), readContext: null }, /ahead of ours/);
      expectRefused(net, { type: 'Vote', from: n('b'), to: n(to), term: term(2 ** 50), lastLogIndex: logIndex(99), lastLogTerm: term(1), transfer: true }, /ahead of ours/);
    }
    expectAvailable(net);
  });

  it('a leader\'s message in our term from a node that is not its leader (two leaders in one term)', () => {
    const net = healthy();
    const t = term(net.node('a').status().term);
    // To the leader itself, and to a follower whose leader is a.
    expectRefused(net, { type: 'Heartbeat', from: n('b'), to: n('a'), term: t, commit: logIndex(0), readContext: null }, /in which we lead/);
    expectRefused(net, { type: 'Append', from: n('b'), to: n('c'), term: t, prevLogIndex: logIndex(0), prevLogTerm: term(0), entries: [], commit: logIndex(0) }, /whose leader is a/);
    expectRefused(
      net,
      { type: 'InstallSnapshot', from: n('b'), to: n('c'), term: t, snapshot: { meta: { index: logIndex(50), term: t, conf: { voters: [n('b')], learners: [] } }, data: new Uint8Array() } },
      /whose leader is a/,
    );
    expectAvailable(net);
  });

  it('TimeoutNow only from the current leader: from another member it is refused, no election', () => {
    const net = healthy();
    const t = term(net.node('a').status().term);
    for (let i = 0; i < 15; i++) {
      expectRefused(net, { type: 'TimeoutNow', from: n('b'), to: n('c'), term: t }, /whose leader is a/);
      net.tickAll(4);
    }
    expect(net.node('c').status().term).toBe(t);
    expectAvailable(net);
  });

  it('an Append from the leader that would overwrite a committed entry (a buggy leader)', () => {
    const net = healthy();
    // A second term, with its no-op and an entry committed.
    net.isolate('a');
    net.tickAll(30);
    net.heal();
    const leader = net.leader();
    const follower = ['b', 'c'].find((id) => id !== leader) as string;
    net.propose('y');
    const t = net.node(leader).status().term;
    expect(net.node(follower).status().commit).toBe(4);
    // Entries 1-3 at term 1: index 3 holds the second term's committed no-op.
    const m: Message = {
      type: 'Append', from: n(leader), to: n(follower), term: term(t), prevLogIndex: logIndex(0), prevLogTerm: term(0),
      entries: [1, 2, 3].map((i) => ({ index: logIndex(i), term: term(1), type: 'noop' as const })), commit: logIndex(0),
    };
    expectRefused(net, m, /overwrites committed entry 3/);
    expect(net.appliedData(follower)).toEqual(['x', 'y']);
  });
});

describe('leader stickiness: a member\'s higher term does not move nodes that hear a leader', () => {
  it('a Heartbeat at term + 100 from a member deposes neither the leader nor its followers', () => {
    const net = healthy();
    const t = net.node('a').status().term;
    for (const to of ['a', 'c']) {
      net.node(to).step({ type: 'Heartbeat', from: n('b'), to: n(to), term: term(t + 100), commit: logIndex(0), readContext: null });
      net.node(to).step({ type: 'Append', from: n('b'), to: n(to), term: term(t + 100), prevLogIndex: logIndex(0), prevLogTerm: term(0), entries: [], commit: logIndex(0) });
      net.node(to).step({ type: 'TimeoutNow', from: n('b'), to: n(to), term: term(t + 100) });
    }
    net.process();
    for (const id of ['a', 'b', 'c']) expect(net.node(id).status().term).toBe(t);
    expect(net.node('c').status().leader).toBe('a');
    expectAvailable(net);
  });

  it('heartbeats from a fake leader at a higher term do not stop writes: every follower keeps its leader', () => {
    const net = healthy();
    const t = net.node('a').status().term;
    for (let round = 0; round < 30; round++) {
      for (const to of ['a', 'c']) net.node(to).step({ type: 'Heartbeat', from: n('b'), to: n(to), term: term(t + 1 + round), commit: logIndex(0), readContext: null });
      net.tickAll(1);
    }
    expect(net.node('a').status().term).toBe(t);
    expectAvailable(net);
  });

  it('once no leader has been heard for an election timeout, a newer leader is followed', () => {
    const net = healthy();
    const t = net.node('a').status().term;
    net.isolate('a');
    net.tick('c', 10);
    net.node('c').step({ type: 'Heartbeat', from: n('b'), to: n('c'), term: term(t + 1), commit: logIndex(0), readContext: null });
    expect(net.node('c').status()).toMatchObject({ term: t + 1, leader: 'b' });
  });
});

describe('ticksSinceLeaderContact (what /readyz reads)', () => {
  it('stays under an election timeout while the leader is heard, fake higher-term heartbeats or not, and grows once it is cut off', () => {
    const net = healthy();
    const t = net.node('a').status().term;
    for (let i = 0; i < 30; i++) {
      net.node('c').step({ type: 'Heartbeat', from: n('b'), to: n('c'), term: term(t + 1 + i), commit: logIndex(0), readContext: null });
      net.tickAll(1);
    }
    expect(net.node('c').status().ticksSinceLeaderContact).toBeLessThan(10);
    expect(net.node('a').status().ticksSinceLeaderContact).toBeNull();
    net.isolate('a');
    net.tick('c', 9);
    expect(net.node('c').status().ticksSinceLeaderContact).toBeGreaterThanOrEqual(9);
  });
});

// Contract note 44: two higher-term messages a member may still send, kept as in etcd-io/raft
// because correct members need them. They cost an election (availability), never a committed
// entry: the vote still needs an up-to-date log, and a new leader still needs a quorum.
describe('what a buggy member can still do: force an election, never lose a committed entry', () => {
  /** One leader again after the forced election, every committed entry kept, and writes commit. */
  function expectRecovered(net: Network, t: number): void {
    net.tickAll(60);
    const leader = net.leader();
    expect(net.node(leader).status().term).toBeGreaterThan(t);
    net.propose('after', leader);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['x', 'after']);
  }

  it('a transfer-flagged Vote at a higher term moves a leader in lease, but a stale log gets no vote', () => {
    const net = healthy();
    const t = net.node('a').status().term;
    for (const to of ['a', 'c']) net.node(to).step({ type: 'Vote', from: n('b'), to: n(to), term: term(t + 1), lastLogIndex: logIndex(0), lastLogTerm: term(0), transfer: true });
    expect(net.node('a').status()).toMatchObject({ term: t + 1, role: 'follower' });
    // Both answered, both refused: b's claimed log is behind theirs.
    net.drainReadies();
    const answers = net.sent.filter((m) => m.type === 'VoteResp' && m.to === 'b' && m.term === t + 1);
    expect(answers).toHaveLength(2);
    expect(answers.every((m) => m.type === 'VoteResp' && m.reject)).toBe(true);
    expectRecovered(net, t);
  });

  it("a follower's AppendResp at a higher term deposes the leader (a member whose term rose must rejoin)", () => {
    const net = healthy();
    const t = net.node('a').status().term;
    const last = net.node('a').status().lastIndex;
    net.node('a').step({ type: 'AppendResp', from: n('b'), to: n('a'), term: term(t + 1), reject: false, index: logIndex(last), rejectHint: logIndex(0), rejectHintTerm: term(0) });
    expect(net.node('a').status()).toMatchObject({ term: t + 1, role: 'follower' });
    expectRecovered(net, t);
  });
});
