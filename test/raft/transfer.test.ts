import { describe, expect, it } from 'vitest';
import { ProposalDroppedError, nodeId } from '../../src/raft/types.js';
import { Network } from './network.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('dissertation §3.10 leadership transfer', () => {
  it('hands leadership to an up-to-date voter via TimeoutNow, skipping pre-vote', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.node('a').transferLeadership(nodeId('b'));
    net.process();
    expect(net.leader()).toBe('b');
    expect(net.node('b').status().term).toBe(2);
    expect(net.sent.some((m) => m.type === 'TimeoutNow' && m.to === 'b')).toBe(true);
    expect(net.sent.some((m) => m.type === 'Vote' && m.from === 'b' && m.transfer)).toBe(true);
    expect(net.sent.some((m) => m.type === 'PreVote' && m.from === 'b')).toBe(false);
    net.propose('y');
    net.tickAll(2);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['x', 'y']);
  });

  it('catches a lagging target up first and drops proposals meanwhile', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.propose('x');
    net.propose('y');
    net.node('a').transferLeadership(nodeId('c'));
    expect(() => net.node('a').propose(enc('z'))).toThrow(ProposalDroppedError);
    expect(net.node('a').status().leadTransferee).toBe('c');
    net.heal();
    net.tickAll(3);
    expect(net.leader()).toBe('c');
    expect(net.appliedData('c')).toEqual(['x', 'y']);
  });

  it('is aborted after an election timeout if the target does not take over', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.node('a').transferLeadership(nodeId('c'));
    net.tick('a', 9);
    expect(net.node('a').status().leadTransferee).toBe('c');
    net.tick('a', 1);
    expect(net.node('a').status().leadTransferee).toBe(null);
    expect(net.node('a').status().role).toBe('leader');
    expect(() => net.node('a').propose(enc('z'))).not.toThrow();
  });

  it('refuses a target that is not a voter', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    expect(() => net.node('a').transferLeadership(nodeId('zz'))).toThrow(ProposalDroppedError);
  });
});
