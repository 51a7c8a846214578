import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import { RaftInvariantError } from '../../src/raft/assert.js';
import { RaftLog } from '../../src/raft/log.js';
import { NotLeaderError } from '../../src/raft/types.js';
import { Network, emptyState, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('persist before you speak (#4)', () => {
  it('the leader counts its own entries only once handed out and advanced', () => {
    const r = new Raft(defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1)), emptyState());
    for (let i = 0; i < 30 && r.status().role !== 'leader'; i++) r.tick();
    expect(r.status().role).toBe('leader');
    expect(r.status().commit).toBe(0);
    const rd = r.ready();
    expect(rd.entries.map((e) => e.type)).toEqual(['noop']);
    // Not yet persisted: not committed, even though a single voter is its own quorum.
    expect(r.status().commit).toBe(0);
    expect(rd.committedEntries).toEqual([]);
    r.advance(rd);
    expect(r.status().commit).toBe(1);
    r.propose(enc('x'));
    expect(r.status().commit).toBe(1);
    const rd2 = r.ready();
    expect(rd2.committedEntries.map((e) => e.index)).toEqual([1]);
    r.advance(rd2);
    expect(r.status().commit).toBe(2);
  });

  it('with five voters and two follower acks, the leader\'s unpersisted copy is not counted', () => {
    const net = new Network(['a', 'b', 'c', 'd', 'e']);
    net.campaign('a');
    net.isolate('d');
    net.isolate('e');
    const a = net.node('a');
    a.propose(enc('x'));
    // Deliver followers' acks before the leader advances its own Ready.
    const rd = a.ready();
    for (const m of allMessages(rd)) net.node(m.to).step(m);
    for (const id of ['b', 'c']) {
      const frd = net.node(id).ready();
      net.node(id).advance(frd);
      for (const m of allMessages(frd)) a.step(m);
    }
    expect(a.status().commit).toBe(1);
    a.advance(rd);
    expect(a.status().commit).toBe(2);
  });

  it('a candidate asks for votes only in the Ready that persists its new term and self-vote', () => {
    const net = new Network(['a', 'b', 'c'], { config: { preVote: false } });
    const a = net.node('a');
    for (let i = 0; i < 30 && !a.hasReady(); i++) a.tick();
    const rd = a.ready();
    // The Ready says so itself: a vote request depends on the term and self-vote it persists.
    expect(rd.messages).toEqual([]);
    expect(rd.messagesAfterPersist.some((m) => m.type === 'Vote')).toBe(true);
    expect(rd.hardState).toMatchObject({ term: 1, vote: 'a' });
    expect(rd.mustSync).toBe(true);
  });
});

describe('the Ready says which messages wait for its write (etcd-io/raft msgsAfterAppend)', () => {
  it("a leader's Appends and Heartbeats at its durable term may go at once; a vote grant and an append ack wait", () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    const b = net.node('b');
    a.propose(enc('x'));
    const rd = a.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.messages.map((m) => m.type)).toEqual(['Append', 'Append']);
    expect(rd.messagesAfterPersist).toEqual([]);
    for (const m of rd.messages) net.node(m.to).step(m);
    a.advance(rd);
    // The follower's ack depends on the entry it is about to persist.
    const brd = b.ready();
    expect(brd.entries).toHaveLength(1);
    expect(brd.messages).toEqual([]);
    expect(brd.messagesAfterPersist.map((m) => m.type)).toEqual(['AppendResp']);
    b.advance(brd);
    a.tick();
    expect(a.ready().messages.every((m) => m.type === 'Heartbeat')).toBe(true);
    // A vote grant depends on the vote it persists.
    const c = net.node('c');
    c.advance(c.ready());
    c.step({ type: 'Vote', from: nodeId('b'), to: nodeId('c'), term: term(7), lastLogIndex: logIndex(9), lastLogTerm: term(7), transfer: true });
    const crd = c.ready();
    expect(crd.hardState).toMatchObject({ term: 7, vote: 'b' });
    expect(crd.messages).toEqual([]);
    expect(crd.messagesAfterPersist).toMatchObject([{ type: 'VoteResp', reject: false }]);
  });

  it('a leader elected, appending in the Ready that persists its new term holds even its Appends back', () => {
    // One voter and a learner: campaign, win and append the no-op in one Ready.
    const cfg = { ...defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1)), preVote: false };
    const r = new Raft(cfg, {
      hardState: { term: term(5), vote: null, commit: logIndex(2) },
      snapshot: null,
      entries: [
        { term: term(1), index: logIndex(1), type: 'noop' },
        { term: term(1), index: logIndex(2), type: 'config', change: { kind: 'addLearner', node: nodeId('l') } },
      ],
    });
    r.advance(r.ready());
    for (let i = 0; i < 60 && r.status().role !== 'leader'; i++) r.tick();
    expect(r.status()).toMatchObject({ role: 'leader', term: 6 });
    const rd = r.ready();
    expect(rd.hardState).toMatchObject({ term: 6, vote: 'a' });
    expect(rd.entries.map((e) => e.type)).toEqual(['noop']);
    expect(rd.messages).toEqual([]);
    expect(rd.messagesAfterPersist.some((m) => m.type === 'Append' && m.to === 'l')).toBe(true);
  });

  it('ready() and advance() strictly alternate', () => {
    const r = new Raft(defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1)), emptyState());
    for (let i = 0; i < 30 && r.status().role !== 'leader'; i++) r.tick();
    const rd = r.ready();
    expect(r.hasReady()).toBe(false);
    expect(() => r.ready()).toThrow(/before advance/);
    r.advance(rd);
    expect(() => r.advance(rd)).toThrow(RaftInvariantError);
  });

  it('a restarted node keeps its term, vote and log, and its vote for that term', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.restart('b');
    const b = net.node('b').status();
    expect(b).toMatchObject({ term: 1, vote: 'a', lastIndex: 2, commit: 2, role: 'follower' });
    // It does not vote for someone else in term 1.
    const r = net.node('b');
    for (let i = 0; i < 20; i++) r.tick();
    r.advance(r.ready());
    r.step({ type: 'Vote', from: nodeId('c'), to: nodeId('b'), term: term(1), lastLogIndex: logIndex(9), lastLogTerm: term(1), transfer: false });
    expect(allMessages(r.ready()).find((m) => m.type === 'VoteResp')).toMatchObject({ reject: true });
    // And the cluster goes on.
    const net2 = new Network(['a', 'b', 'c']);
    net2.campaign('a');
    net2.propose('x');
    net2.restart('a');
    for (let i = 0; i < 100 && net2.leaders().length === 0; i++) net2.tickAll();
    net2.propose('y');
    net2.tickAll(2);
    for (const id of ['a', 'b', 'c']) expect(net2.appliedData(id)).toEqual(['x', 'y']);
  });
});

describe('assertions that stay on', () => {
  it('committed entries are never truncated or rolled back; commit stays within the log', () => {
    const noop = (i: number, t: number) => ({ term: term(t), index: logIndex(i), type: 'noop' as const });
    const log = new RaftLog(null, [noop(1, 1), noop(2, 1), noop(3, 1)], logIndex(2));
    expect(() => log.append([noop(2, 2)])).toThrow(/refusing to truncate committed entries/);
    expect(() => log.append([noop(5, 2)])).toThrow(/gap/);
    expect(() => log.commitTo(logIndex(9))).toThrow(/beyond the last index/);
    expect(log.commitTo(logIndex(1))).toBe(false);
    expect(log.commit).toBe(2);
    expect(() =>
      log.restore({ meta: { index: logIndex(2), term: term(1), conf: { voters: [], learners: [] } }, data: new Uint8Array() }),
    ).toThrow(/roll back commit/);
    expect(() => log.compactTo(logIndex(2))).toThrow(/only 0 applied/);
    expect(() => new Raft(defaultRaftConfig(nodeId('b'), [nodeId('b')], seededRandom(1)), {
      hardState: { term: term(1), vote: null, commit: logIndex(5) }, snapshot: null, entries: [],
    })).toThrow(/beyond the last index/);
  });

  it('two leaders in one term is detected', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    expect(() =>
      a.step({ type: 'Append', from: nodeId('b'), to: nodeId('a'), term: term(1), prevLogIndex: logIndex(0), prevLogTerm: term(0), entries: [], commit: logIndex(0) }),
    ).toThrow(/in which we lead/);
  });

  it('followers refuse proposals with NotLeaderError naming the leader', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    try {
      net.node('b').propose(enc('x'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NotLeaderError);
      expect((e as NotLeaderError).leader).toBe('a');
    }
  });

  it('bad configuration is refused at start-up', () => {
    const base = defaultRaftConfig(nodeId('a'), [nodeId('a')], seededRandom(1));
    expect(() => new Raft({ ...base, heartbeatIntervalTicks: 10, electionTimeoutTicks: 10 }, emptyState())).toThrow(/heartbeatIntervalTicks/);
    expect(() => new Raft({ ...base, maxInflightAppends: 0 }, emptyState())).toThrow(/maxInflightAppends/);
  });
});

describe('a follower that lost data it had acknowledged (a cut-short write, a lying disk)', () => {
  it('is re-replicated from where its log really ends instead of being probed at its old match forever', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 6; i++) net.propose(`x${i}`);
    expect(net.node('a').status().progress?.b.match).toBe(7);
    // b loses its last three entries, which it had synced and acknowledged.
    const store = net.stores.get('b')!;
    store.entries = store.entries.filter((e) => e.index <= 4);
    store.hardState = { ...store.hardState, commit: logIndex(4) };
    net.restart('b');
    // The leader notices it is unreachable, then probes it again.
    net.node('a').reportUnreachable(nodeId('b'));
    net.propose('after');
    net.tickAll(5);
    expect(net.node('b').status().lastIndex).toBe(8);
    expect(net.appliedData('b')).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'after']);
  });
});
