import { describe, expect, it } from 'vitest';
import { AppendHold } from '../../src/node/append-hold.js';
import { ManualClock } from '../../src/node/clock.js';
import { logIndex, nodeId, term, type Entry, type Message } from '../../src/raft/types.js';

const L = nodeId('n1');
const A = nodeId('n2');
const B = nodeId('n3');

function append(to: typeof A, t: number, commit: number, entries: Entry[] = []): Message {
  return { type: 'Append', from: L, to, term: term(t), prevLogIndex: logIndex(5), prevLogTerm: term(t), entries, commit: logIndex(commit) };
}
function heartbeat(to: typeof A, t: number): Message {
  return { type: 'Heartbeat', from: L, to, term: term(t), commit: logIndex(3), readContext: null };
}
const entry: Entry = { type: 'normal', index: logIndex(6), term: term(2), data: new Uint8Array([1]) };

function setup(holdMs = 2) {
  const clock = new ManualClock();
  const sent: Message[][] = [];
  const counts = { superseded: 0 };
  const hold = new AppendHold(clock, holdMs, (m) => sent.push(m), () => counts.superseded++);
  const flat = () => sent.flat().map((m) => `${m.type}>${m.to}${m.type === 'Append' ? `:${m.entries.length}e c${m.commit} t${m.term}` : ''}`);
  return { clock, hold, sent, flat, counts };
}

describe('AppendHold', () => {
  it('sends Appends with entries and other messages at once, in order', () => {
    const { hold, flat } = setup();
    hold.send([append(A, 2, 5, [entry]), heartbeat(B, 2), append(B, 2, 5, [entry])]);
    expect(flat()).toEqual(['Append>n2:1e c5 t2', 'Heartbeat>n3', 'Append>n3:1e c5 t2']);
    expect(hold.heldCount).toBe(0);
  });

  it('holds an entry-less Append and sends it once holdMs has passed', () => {
    const { clock, hold, flat } = setup(2);
    hold.send([append(A, 2, 6), append(B, 2, 6)]);
    expect(flat()).toEqual([]);
    expect(hold.heldCount).toBe(2);
    clock.advance(1);
    expect(flat()).toEqual([]);
    clock.advance(1);
    expect(flat()).toEqual(['Append>n2:0e c6 t2', 'Append>n3:0e c6 t2']);
    expect(hold.heldCount).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drops a held Append that a later Append of the same term to the same follower supersedes', () => {
    const { clock, hold, flat, counts } = setup();
    hold.send([append(A, 2, 6), append(B, 2, 6)]);
    hold.send([append(A, 2, 7, [entry])]);
    expect(flat()).toEqual(['Append>n2:1e c7 t2']);
    expect(counts.superseded).toBe(1);
    clock.advance(5);
    expect(flat()).toEqual(['Append>n2:1e c7 t2', 'Append>n3:0e c6 t2']);
  });

  it('a newer entry-less Append takes the held one`s place, keeping its deadline', () => {
    const { clock, hold, flat } = setup(2);
    hold.send([append(A, 2, 6)]);
    clock.advance(1);
    hold.send([append(A, 2, 7)]);
    expect(hold.heldCount).toBe(1);
    clock.advance(1);
    expect(flat()).toEqual(['Append>n2:0e c7 t2']);
  });

  it('sends the held Append before any other message to that follower (the link keeps the core`s order)', () => {
    const { hold, flat } = setup();
    hold.send([append(A, 2, 6)]);
    hold.send([heartbeat(A, 2)]);
    expect(flat()).toEqual(['Append>n2:0e c6 t2', 'Heartbeat>n2']);
    expect(hold.heldCount).toBe(0);
  });

  it('an Append of another term does not supersede: the held one goes first', () => {
    const { hold, flat } = setup();
    hold.send([append(A, 2, 6)]);
    hold.send([append(A, 3, 6, [entry])]);
    expect(flat()).toEqual(['Append>n2:0e c6 t2', 'Append>n2:1e c6 t3']);
  });

  it('flush() sends everything held at once; drop() forgets it and its timer', () => {
    const a = setup();
    a.hold.send([append(A, 2, 6)]);
    a.hold.flush();
    expect(a.flat()).toEqual(['Append>n2:0e c6 t2']);
    expect(a.clock.pendingTimers).toBe(0);

    const b = setup();
    b.hold.send([append(A, 2, 6)]);
    b.hold.drop();
    b.clock.advance(10);
    expect(b.flat()).toEqual([]);
    expect(b.clock.pendingTimers).toBe(0);
  });

  it('holdMs 0 holds nothing', () => {
    const { hold, flat, clock } = setup(0);
    hold.send([append(A, 2, 6), append(B, 2, 6)]);
    expect(flat()).toEqual(['Append>n2:0e c6 t2', 'Append>n3:0e c6 t2']);
    expect(clock.pendingTimers).toBe(0);
  });
});
