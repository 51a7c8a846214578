import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/raft/types.js';
import { Network } from './network.js';

describe('§6.4 ReadIndex (#3)', () => {
  it('a single voter answers at once with its commit index', () => {
    const net = new Network(['a']);
    net.campaign('a');
    net.propose('x');
    net.node('a').readIndex('r1');
    net.process();
    expect(net.readStates.get('a')).toEqual([{ requestId: 'r1', index: 2 }]);
  });

  it('records the commit index and answers after a quorum heartbeat round', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.filter = (m) => (m.type === 'HeartbeatResp' ? 'hold' : 'deliver');
    net.node('a').readIndex('r1');
    net.process();
    const hb = net.sent.filter((m) => m.type === 'Heartbeat' && m.readContext === 'r1');
    expect(hb.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(net.readStates.get('a')).toEqual([]);
    // One ack plus the leader's own is a quorum of three.
    const fromB = net.held.find((m) => m.from === 'b' && m.type === 'HeartbeatResp');
    if (!fromB) throw new Error('no ack from b');
    net.filter = null;
    net.release(fromB);
    expect(net.readStates.get('a')).toEqual([{ requestId: 'r1', index: 2 }]);
  });

  it('is not answered without a quorum (a partitioned leader cannot serve reads)', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.node('a').readIndex('r1');
    net.tick('a', 5);
    expect(net.readStates.get('a')).toEqual([]);
    // Check-quorum deposes it; the read is handed back as dropped.
    net.tick('a', 10);
    expect(net.node('a').status().role).toBe('follower');
    expect(net.droppedReads.get('a')).toEqual(['r1']);
  });

  it('waits for the no-op of the term to commit before recording the read index (#2)', () => {
    const net = new Network(['a', 'b', 'c']);
    // Hold a's no-op Appends so it is leader but has committed nothing in its term.
    net.filter = (m) => (m.type === 'AppendResp' ? 'hold' : 'deliver');
    net.campaign('a');
    expect(net.leader()).toBe('a');
    expect(net.node('a').status().commit).toBe(0);
    net.node('a').readIndex('r1');
    net.process();
    expect(net.sent.some((m) => m.type === 'Heartbeat' && m.readContext === 'r1')).toBe(false);
    net.filter = null;
    for (const m of [...net.held]) net.release(m);
    net.tickAll(2);
    expect(net.readStates.get('a')).toEqual([{ requestId: 'r1', index: 1 }]);
  });

  it('reads recorded before one Ready share one heartbeat round, which confirms them all', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.process();
    const before = net.sent.length;
    for (const id of ['r1', 'r2', 'r3']) net.node('a').readIndex(id);
    net.process();
    const rounds = net.sent.slice(before).flatMap((m) => (m.type === 'Heartbeat' && m.readContext !== null ? [`${m.to}:${m.readContext}`] : []));
    expect(rounds.sort()).toEqual(['b:r3', 'c:r3']);
    expect(net.readStates.get('a')).toEqual([
      { requestId: 'r1', index: 2 },
      { requestId: 'r2', index: 2 },
      { requestId: 'r3', index: 2 },
    ]);
  });

  it('a later ack confirms earlier reads too, in order', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.filter = (m) => (m.type === 'HeartbeatResp' ? 'hold' : 'deliver');
    net.node('a').readIndex('r1');
    net.propose('x');
    net.node('a').readIndex('r2');
    net.process();
    const ack = net.held.find((m) => m.type === 'HeartbeatResp' && m.readContext === 'r2');
    if (!ack) throw new Error('no ack for r2');
    net.filter = null;
    net.release(ack);
    expect(net.readStates.get('a')).toEqual([
      { requestId: 'r1', index: 1 },
      { requestId: 'r2', index: 2 },
    ]);
  });

  it('pending reads are dropped when leadership is lost', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.filter = (m) => (m.type === 'HeartbeatResp' ? 'drop' : 'deliver');
    net.node('a').readIndex('r1');
    net.process();
    net.filter = null;
    net.node('a').transferLeadership(net.node('b').id);
    net.process();
    expect(net.leader()).toBe('b');
    expect(net.droppedReads.get('a')).toEqual(['r1']);
  });

  it('a follower refuses with NotLeaderError and a reused id is refused', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    expect(() => net.node('b').readIndex('r1')).toThrow(NotLeaderError);
    net.filter = (m) => (m.type === 'HeartbeatResp' ? 'drop' : 'deliver');
    net.node('a').readIndex('r1');
    expect(() => net.node('a').readIndex('r1')).toThrow(/already pending/);
  });
});
