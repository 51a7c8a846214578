import { describe, expect, it } from 'vitest';
import { coalesceMessages } from '../../src/raft/coalesce.js';
import { type Entry, type Message, logIndex, nodeId, term } from '../../src/raft/types.js';
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
});
