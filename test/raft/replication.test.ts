import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import type { Entry, Message } from '../../src/raft/types.js';
import { Network, emptyState, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('§5.3 log replication', () => {
  it('replicates and commits proposals on every node in order', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (const s of ['x', 'y', 'z']) net.propose(s);
    net.tickAll(2);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['x', 'y', 'z']);
  });

  it('a follower that was down catches up through probing', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose(`v${i}`);
    net.heal();
    net.tickAll(3);
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
    expect(net.appliedData('c')).toHaveLength(20);
  });

  it('batches by maxEntriesPerAppend and maxBytesPerAppend', () => {
    const net = new Network(['a', 'b', 'c'], { config: { maxEntriesPerAppend: 3, maxBytesPerAppend: 1 << 20 } });
    net.campaign('a');
    net.isolate('b');
    for (let i = 0; i < 10; i++) net.node('a').propose(enc(`v${i}`));
    net.process();
    net.heal();
    net.sent = [];
    net.tickAll(5);
    const toB = net.sent.filter((m): m is Extract<Message, { type: 'Append' }> => m.type === 'Append' && m.to === 'b');
    expect(Math.max(...toB.map((m) => m.entries.length))).toBe(3);
    expect(net.appliedData('b')).toHaveLength(10);

    // Byte limit: each entry is bigger than half the limit, so one entry per Append.
    const net2 = new Network(['a', 'b'], { config: { maxEntriesPerAppend: 100, maxBytesPerAppend: 150 } });
    net2.campaign('a');
    net2.isolate('b');
    for (let i = 0; i < 5; i++) net2.node('a').propose(new Uint8Array(100));
    net2.process();
    net2.heal();
    net2.sent = [];
    net2.tickAll(10);
    const toB2 = net2.sent.filter((m): m is Extract<Message, { type: 'Append' }> => m.type === 'Append' && m.to === 'b');
    expect(Math.max(...toB2.map((m) => m.entries.length))).toBe(1);
    expect(net2.node('b').status().commit).toBe(6);
  });

  it('pipelines up to maxInflightAppends in replicate state, one at a time in probe', () => {
    const net = new Network(['a', 'b', 'c'], { config: { maxInflightAppends: 3, maxEntriesPerAppend: 1 } });
    net.campaign('a');
    net.tickAll(2);
    expect(net.node('a').status().progress?.b.state).toBe('replicate');
    // Hold all Appends to b: the leader sends at most 3 before waiting.
    net.filter = (m) => (m.type === 'Append' && m.to === 'b' ? 'hold' : 'deliver');
    for (let i = 0; i < 6; i++) net.node('a').propose(enc(`v${i}`));
    net.process();
    const held = net.held.filter((m) => m.type === 'Append');
    expect(held).toHaveLength(3);
    expect(net.node('a').status().progress?.b.inflight).toBe(3);
    // Acking the first frees a slot and the next goes out.
    net.release(held[0]);
    expect(net.held.filter((m) => m.type === 'Append')).toHaveLength(3);
    net.filter = null;
    for (const m of [...net.held]) net.release(m);
    net.tickAll(2);
    expect(net.appliedData('b')).toHaveLength(6);

    // Probe: after unreachable, the leader sends one Append at a time.
    net.node('a').reportUnreachable(nodeId('b'));
    expect(net.node('a').status().progress?.b.state).toBe('probe');
    net.filter = (m) => (m.type === 'Append' && m.to === 'b' ? 'hold' : 'deliver');
    net.held = [];
    for (let i = 0; i < 4; i++) net.node('a').propose(enc(`p${i}`));
    net.process();
    expect(net.held.filter((m) => m.type === 'Append')).toHaveLength(1);
  });

  it('a full pipeline whose acks were silently lost recovers on the next heartbeat (sim finding F1)', () => {
    const net = new Network(['a', 'b', 'c'], { config: { maxInflightAppends: 2, maxEntriesPerAppend: 1 } });
    net.campaign('a');
    net.tickAll(2);
    net.filter = (m) => (m.type === 'AppendResp' && m.from === 'b' ? 'drop' : 'deliver');
    for (let i = 0; i < 6; i++) net.node('a').propose(enc(`v${i}`));
    net.process();
    expect(net.node('a').status().progress?.b.inflight).toBe(2);
    net.filter = null;
    net.tickAll(5);
    expect(net.appliedData('b')).toHaveLength(6);
    expect(net.node('a').status().progress?.b.match).toBe(7);
  });

  it('fast backtracking skips a whole conflicting term per round trip', () => {
    // b holds 30 entries of an old term 2 that the new leader (term 4) does not have.
    const cfg = (id: string) => ({ ...defaultRaftConfig(nodeId(id), ['a', 'b'].map(nodeId), seededRandom(1)), preVote: false });
    const leaderLog: Entry[] = [{ term: term(1), index: logIndex(1), type: 'noop' }];
    for (let i = 2; i <= 10; i++) leaderLog.push({ term: term(3), index: logIndex(i), type: 'noop' });
    const followerLog: Entry[] = [{ term: term(1), index: logIndex(1), type: 'noop' }];
    for (let i = 2; i <= 31; i++) followerLog.push({ term: term(2), index: logIndex(i), type: 'noop' });
    const a = new Raft(cfg('a'), { hardState: { term: term(3), vote: null, commit: logIndex(1) }, snapshot: null, entries: leaderLog });
    const b = new Raft(cfg('b'), { hardState: { term: term(3), vote: null, commit: logIndex(1) }, snapshot: null, entries: followerLog });
    let appendsToB = 0;
    const pump = () => {
      for (let round = 0; round < 100; round++) {
        let moved = false;
        for (const [me, other] of [[a, b], [b, a]] as const) {
          if (!me.hasReady()) continue;
          const rd = me.ready();
          me.advance(rd);
          for (const m of allMessages(rd)) {
            if (m.type === 'Append' && m.to === 'b') appendsToB++;
            other.step(m);
            moved = true;
          }
        }
        if (!moved) return;
      }
    };
    for (let i = 0; i < 40 && a.status().role !== 'leader'; i++) {
      a.tick();
      pump();
    }
    expect(a.status().role).toBe('leader');
    pump();
    expect(b.status().lastIndex).toBe(11);
    expect(b.status().commit).toBe(11);
    // Without hints this would take ~30 probes; with them a handful.
    expect(appendsToB).toBeLessThan(6);
  });
});

describe('§5.3 AppendEntries on the follower (#6)', () => {
  const follower = () => {
    const r = new Raft({ ...defaultRaftConfig(nodeId('b'), ['a', 'b', 'c'].map(nodeId), seededRandom(1)) }, emptyState());
    return r;
  };
  const app = (prev: number, prevTerm: number, ents: Array<[number, number]>, commit: number): Message => ({
    type: 'Append',
    from: nodeId('a'),
    to: nodeId('b'),
    term: term(2),
    prevLogIndex: logIndex(prev),
    prevLogTerm: term(prevTerm),
    entries: ents.map(([i, t]) => ({ index: logIndex(i), term: term(t), type: 'normal', data: enc(`${i}@${t}`) })),
    commit: logIndex(commit),
  });
  const flush = (r: Raft) => {
    const rd = r.ready();
    r.advance(rd);
    return rd;
  };

  it('a stale (reordered) Append never truncates', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1], [2, 2], [3, 2]], 0));
    flush(r);
    expect(r.status().lastIndex).toBe(3);
    // An older Append carrying only a prefix arrives late.
    r.step(app(0, 0, [[1, 1]], 0));
    const rd = flush(r);
    expect(r.status().lastIndex).toBe(3);
    expect(rd.entries).toEqual([]);
    const resp = allMessages(rd).find((m) => m.type === 'AppendResp');
    expect(resp).toMatchObject({ reject: false, index: 1 });
  });

  it('truncates at a real conflict (same index, other term) only', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1], [2, 1], [3, 1]], 1));
    flush(r);
    r.step(app(1, 1, [[2, 2]], 1));
    const rd = flush(r);
    expect(r.status().lastIndex).toBe(2);
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
  });

  it('follower commit = min(leaderCommit, index of last new entry)', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1], [2, 1], [3, 1]], 0));
    flush(r);
    // The leader has committed 3, but this Append only vouches for entries up to 1.
    r.step(app(0, 0, [[1, 1]], 3));
    flush(r);
    expect(r.status().commit).toBe(1);
    r.step(app(1, 1, [[2, 1], [3, 1]], 3));
    flush(r);
    expect(r.status().commit).toBe(3);
  });

  it('an Append that starts below the commit index and reaches past it appends the rest', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1], [2, 1], [3, 1]], 3));
    flush(r);
    expect(r.status().commit).toBe(3);
    // A merged Append (coalesce.ts) whose first part the follower already has and committed.
    r.step(app(1, 1, [[2, 1], [3, 1], [4, 1], [5, 1]], 4));
    const rd = flush(r);
    expect(rd.entries.map((e) => e.index)).toEqual([4, 5]);
    expect(r.status()).toMatchObject({ lastIndex: 5, commit: 4 });
    expect(allMessages(rd).find((m) => m.type === 'AppendResp')).toMatchObject({ reject: false, index: 5 });
    // One that ends at or below the commit index is answered with the commit index, as before.
    r.step(app(0, 0, [[1, 1], [2, 1]], 4));
    expect(allMessages(flush(r)).find((m) => m.type === 'AppendResp')).toMatchObject({ reject: false, index: 4 });
  });

  it('rejects with a hint when prevLogIndex is missing', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1]], 0));
    flush(r);
    r.step(app(5, 2, [[6, 2]], 0));
    const resp = allMessages(flush(r)).find((m) => m.type === 'AppendResp');
    expect(resp).toMatchObject({ reject: true, index: 5, rejectHint: 1, rejectHintTerm: 1 });
  });

  it('acknowledges entries only in the Ready that persists them (#4)', () => {
    const r = follower();
    r.step(app(0, 0, [[1, 1], [2, 1]], 0));
    const rd = flush(r);
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.mustSync).toBe(true);
    expect(allMessages(rd).find((m) => m.type === 'AppendResp')).toMatchObject({ reject: false, index: 2 });
  });
});

describe('§5.4.2 commitment rules', () => {
  it('Figure 8: an entry from a previous term is not committed by counting replicas (#1)', () => {
    // Figure 8 (b): s5 led term 3 and holds 2@3; s1 and s2 hold 2@2 from term 2.
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const net = new Network(ids, { config: { preVote: false, checkQuorum: false, maxEntriesPerAppend: 1 } });
    const e = (i: number, t: number): Entry => ({ index: logIndex(i), term: term(t), type: 'normal', data: enc(`${i}@${t}`) });
    const logs: Record<string, Entry[]> = {
      s1: [e(1, 1), e(2, 2)],
      s2: [e(1, 1), e(2, 2)],
      s3: [e(1, 1)],
      s4: [e(1, 1)],
      s5: [e(1, 1), e(2, 3)],
    };
    for (const id of ids) {
      const st = { hardState: { term: term(3), vote: null, commit: logIndex(1) }, snapshot: null, entries: logs[id] };
      net.stores.set(id, st);
      net.restart(id);
    }
    // (c): s1 leads term 4 and copies 2@2 to s3, but its own 3@4 reaches nobody.
    net.isolate('s5');
    net.filter = (m) => {
      // Lose the term-4 entry in transit (keep the rest of each Append).
      if (m.type === 'Append') m.entries = m.entries.filter((x) => x.term !== 4);
      return 'deliver';
    };
    net.campaign('s1');
    expect(net.leader()).toBe('s1');
    expect(net.node('s1').status().term).toBe(4);
    net.tickAll(3);
    expect(net.node('s3').status().lastIndex).toBe(2);
    const s1 = net.node('s1').status();
    expect(s1.progress?.s2.match).toBe(2);
    expect(s1.progress?.s3.match).toBe(2);
    // 2@2 is on a majority (s1, s2, s3) yet must not commit: it is not of the leader's term.
    expect(s1.commit).toBe(1);

    // (d): s1 crashes; s5 (last term 3) can win and overwrite 2@2 everywhere. Had 2@2 been
    // committed, this would lose a committed entry.
    net.heal();
    net.isolate('s1');
    net.filter = (m) => ((m.type === 'Vote' || m.type === 'PreVote') && m.from !== 's5' ? 'drop' : 'deliver');
    for (let i = 0; i < 300 && net.leaders().length === 0; i++) net.tickAll();
    expect(net.leader()).toBe('s5');
    net.filter = null;
    net.tickAll(3);
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(net.node(id).status().commit).toBeGreaterThanOrEqual(3);
      const applied = net.applied.get(id) as Entry[];
      expect(applied.find((x) => x.index === 2)?.term).toBe(3);
    }
    // Nobody ever applied 2@2.
    for (const id of ids) expect((net.applied.get(id) as Entry[]).some((x) => x.index === 2 && x.term === 2)).toBe(false);
  });

  it('entries of the current term commit by counting, and earlier ones with them (Figure 8 (e))', () => {
    const net = new Network(['a', 'b', 'c'], { config: { preVote: false } });
    const e = (i: number, t: number): Entry => ({ index: logIndex(i), term: term(t), type: 'normal', data: enc(`${i}@${t}`) });
    net.stores.set('a', { hardState: { term: term(2), vote: null, commit: logIndex(0) }, snapshot: null, entries: [e(1, 1), e(2, 2)] });
    net.restart('a');
    net.campaign('a');
    net.tickAll(2);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['1@1', '2@2']);
  });
});
