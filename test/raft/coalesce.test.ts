import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesceMessages } from '../../src/raft/coalesce.js';
import { Raft } from '../../src/raft/raft.js';
import { type Entry, type Message, type RaftConfig, logIndex, nodeId, term } from '../../src/raft/types.js';
import { allMessages, Network } from './network.js';

const LIMITS = { maxEntriesPerAppend: 256, maxBytesPerAppend: 1024 * 1024 };
const a = nodeId('a');
const b = nodeId('b');
const c = nodeId('c');

function entry(index: number, bytes = 10): Entry {
  return { term: term(2), index: logIndex(index), type: 'normal', data: new Uint8Array(bytes) };
}

function append(to: typeof b, prev: number, count: number, commit: number, t = 2): Message {
  const entries = Array.from({ length: count }, (_, i) => entry(prev + 1 + i));
  return { type: 'Append', from: a, to, term: term(t), prevLogIndex: logIndex(prev), prevLogTerm: term(2), entries, commit: logIndex(commit) };
}

function ack(to: typeof a, index: number, reject = false, t = 2): Message {
  return { type: 'AppendResp', from: b, to, term: term(t), reject, index: logIndex(index), rejectHint: logIndex(0), rejectHintTerm: term(0) };
}

const indexes = (m: Message) => (m.type === 'Append' ? m.entries.map((e) => e.index) : []);

describe('coalesceMessages: one Append per follower and one ack per leader in a Ready', () => {
  it('joins Appends that follow on, per peer, keeping the later commit', () => {
    const out = coalesceMessages([append(b, 4, 1, 3), append(c, 4, 1, 3), append(b, 5, 2, 4), append(c, 5, 2, 4), append(b, 7, 0, 6)], LIMITS);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ to: b, prevLogIndex: 4, commit: 6 });
    expect(indexes(out[0])).toEqual([5, 6, 7]);
    expect(out[1]).toMatchObject({ to: c, prevLogIndex: 4, commit: 4 });
    expect(indexes(out[1])).toEqual([5, 6, 7]);
  });

  it('an empty Append first takes the entries of the one after it', () => {
    const [m, ...rest] = coalesceMessages([append(b, 4, 0, 3), append(b, 4, 2, 4)], LIMITS);
    expect(rest).toEqual([]);
    expect(m).toMatchObject({ prevLogIndex: 4, commit: 4 });
    expect(indexes(m)).toEqual([5, 6]);
  });

  it('never joins across a gap, a term, a limit or another message to the same peer', () => {
    const gap = coalesceMessages([append(b, 4, 1, 3), append(b, 6, 1, 3)], LIMITS);
    expect(gap).toHaveLength(2);
    const terms = coalesceMessages([append(b, 4, 1, 3), append(b, 5, 1, 3, 3)], LIMITS);
    expect(terms).toHaveLength(2);
    const count = coalesceMessages([append(b, 4, 2, 3), append(b, 6, 2, 3)], { ...LIMITS, maxEntriesPerAppend: 3 });
    expect(count.map(indexes)).toEqual([[5, 6], [7, 8]]);
    const bytes = coalesceMessages([append(b, 4, 2, 3), append(b, 6, 2, 3)], { ...LIMITS, maxBytesPerAppend: 3 * 34 });
    expect(bytes).toHaveLength(2);
    const timeoutNow: Message = { type: 'TimeoutNow', from: a, to: b, term: term(2) };
    const between = coalesceMessages([append(b, 4, 1, 3), timeoutNow, append(b, 5, 1, 3)], LIMITS);
    expect(between.map((m) => m.type)).toEqual(['Append', 'TimeoutNow', 'Append']);
  });

  it('keeps the highest of successive acks, and every reject', () => {
    expect(coalesceMessages([ack(a, 5), ack(a, 7), ack(a, 6)], LIMITS)).toEqual([ack(a, 7)]);
    const withReject = coalesceMessages([ack(a, 5), ack(a, 9, true), ack(a, 7)], LIMITS);
    expect(withReject.map((m) => m.type === 'AppendResp' && [m.index, m.reject])).toEqual([
      [5, false],
      [9, true],
      [7, false],
    ]);
    expect(coalesceMessages([ack(a, 5, true), ack(a, 6, true)], LIMITS)).toHaveLength(2);
    expect(coalesceMessages([ack(a, 5), ack(a, 6, false, 3)], LIMITS)).toHaveLength(2);
  });

  it('in a cluster: proposals of one turn go to each follower as one Append, and two Appends get one ack', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const leader = net.node('a');
    const toB: Message[] = [];
    for (const count of [5, 3]) {
      for (let i = 0; i < count; i++) leader.propose(new TextEncoder().encode(`v${i}`));
      const rd = leader.ready();
      const appends = allMessages(rd).filter((m) => m.type === 'Append');
      expect(appends.map((m) => m.to).sort()).toEqual(['b', 'c']);
      for (const m of appends) expect(indexes(m)).toHaveLength(count);
      toB.push(...appends.filter((m) => m.to === b));
      leader.advance(rd);
    }
    const follower = net.node('b');
    for (const m of toB) follower.step(m);
    const acks = allMessages(follower.ready()).filter((m) => m.type === 'AppendResp');
    expect(acks).toEqual([expect.objectContaining({ reject: false, index: leader.status().lastIndex })]);
  });

  it('a follower that steps the merged Appends ends where one that steps them one by one does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(
          fc.record({
            // Most Appends follow on from the one before (what the leader sends), some jump anywhere.
            followsOn: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
            prev: fc.integer({ min: 0, max: 16 }),
            count: fc.integer({ min: 0, max: 4 }),
            commitStep: fc.integer({ min: 0, max: 3 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 6 }),
        (shared, specs, maxEntriesPerAppend) => {
          // b shares `shared` entries with the leader, then misses ten that a and c commit.
          const net = new Network(['a', 'b', 'c']);
          net.campaign('a');
          for (let i = 0; i < shared; i++) net.propose(`s${i}`);
          net.isolate('b');
          for (let i = 0; i < 10; i++) net.propose(`x${i}`);
          const log = net.stores.get('a')!.entries;
          const leader = net.node('a').status();
          // Appends the leader could have sent, in any order, each consistent with its log; its
          // commit index only grows, from what b already knows.
          let commit: number = net.stores.get('b')!.hardState.commit;
          let followOn = -1;
          const msgs: Message[] = specs.map(({ followsOn, prev, count, commitStep }) => {
            const prevLogIndex = Math.min(followsOn && followOn >= 0 ? followOn : prev, log.length);
            const entries = log.slice(prevLogIndex, Math.min(prevLogIndex + count, log.length));
            commit = Math.min(commit + commitStep, leader.commit);
            followOn = prevLogIndex + entries.length;
            return {
              type: 'Append',
              from: a,
              to: b,
              term: leader.term,
              prevLogIndex: logIndex(prevLogIndex),
              prevLogTerm: prevLogIndex === 0 ? term(0) : log[prevLogIndex - 1].term,
              entries,
              commit: logIndex(commit),
            };
          });
          const follower = () => new Raft(net.configs.get('b') as RaftConfig, structuredClone(net.stores.get('b')!));
          const oneByOne = follower();
          const merged = follower();
          for (const m of msgs) oneByOne.step(m);
          for (const m of coalesceMessages(structuredClone(msgs), { maxEntriesPerAppend, maxBytesPerAppend: 1024 * 1024 })) merged.step(m);
          const [r1, r2] = [oneByOne.ready(), merged.ready()];
          expect(merged.status().commit).toBe(oneByOne.status().commit);
          expect(merged.status().lastIndex).toBe(oneByOne.status().lastIndex);
          expect(r2.entries.map((e) => `${e.index}@${e.term}`)).toEqual(r1.entries.map((e) => `${e.index}@${e.term}`));
          // What the leader learns: the highest index acknowledged is the same.
          const highestAck = (msgs: Message[]) => Math.max(0, ...msgs.flatMap((m) => (m.type === 'AppendResp' && !m.reject ? [m.index] : [])));
          expect(highestAck(allMessages(r2))).toBe(highestAck(allMessages(r1)));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('a leader that steps the merged acks learns what it learns from them one by one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            reject: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
            index: fc.integer({ min: 0, max: 14 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (acks) => {
          // Two identical clusters: b has fallen behind and the leader has entries in flight to it.
          const cluster = () => {
            const net = new Network(['a', 'b', 'c']);
            net.campaign('a');
            net.isolate('b');
            for (let i = 0; i < 10; i++) net.propose(`x${i}`);
            return net;
          };
          const [one, merged] = [cluster(), cluster()];
          const st = one.node('a').status();
          const msgs: Message[] = acks.map(({ reject, index }) => ({
            type: 'AppendResp',
            from: b,
            to: a,
            term: st.term,
            reject,
            index: logIndex(Math.min(index, st.lastIndex)),
            rejectHint: logIndex(reject ? Math.min(index, 1) : 0),
            rejectHintTerm: term(0),
          }));
          for (const m of msgs) one.node('a').step(m);
          for (const m of coalesceMessages(structuredClone(msgs), LIMITS)) merged.node('a').step(m);
          const [p1, p2] = [one.node('a').status(), merged.node('a').status()];
          expect(p2.progress?.b.match).toBe(p1.progress?.b.match);
          expect(p2.commit).toBe(p1.commit);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});
