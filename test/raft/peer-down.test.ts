// reportPeerDown: the transport's hint that a peer's process is gone (its
// connection closed and a new one was refused). Followers of that peer stop
// taking it for a live leader and elect a new one without waiting out the
// election timeout; a wrong hint about a live leader moves no term.
import { describe, expect, it } from 'vitest';
import { Network, nodeId } from './network.js';

/** a leads term 1 of a, b, c with `entries` proposals committed everywhere. */
function ledByA(entries = 2, config = {}): Network {
  const net = new Network(['a', 'b', 'c'], { config });
  net.campaign('a');
  for (let i = 0; i < entries; i++) net.propose(`x${i}`);
  return net;
}

const votesSent = (net: Network): number => net.sent.filter((m) => m.type === 'Vote').length;

describe('reportPeerDown (the leader process died: its connections closed, a redial was refused)', () => {
  it('the followers elect a new leader at once, without a tick, and lose nothing committed', () => {
    const net = ledByA();
    net.isolate('a');
    net.node('b').reportPeerDown(nodeId('a'));
    net.node('c').reportPeerDown(nodeId('a'));
    net.process();
    expect(net.leaders()).toEqual(['b']);
    expect(net.node('b').status().term).toBe(2);
    expect(net.node('c').status().leader).toBe('b');
    net.propose('after', 'b');
    expect(net.appliedData('c')).toEqual(['x0', 'x1', 'after']);
  });

  it('control: without the hint, no follower campaigns before its election timeout', () => {
    const net = ledByA();
    net.isolate('a');
    net.tick('b', 9);
    net.tick('c', 9);
    expect(net.node('b').status().role).toBe('follower');
    expect(net.node('c').status().role).toBe('follower');
    expect(net.node('b').status().term).toBe(1);
  });

  it('a pre-vote that arrived before the receiver noticed is answered when it does (no wait for the next timeout)', () => {
    const net = ledByA();
    net.isolate('a');
    net.node('b').reportPeerDown(nodeId('a'));
    net.process();
    // c still follows a: it left b's pre-vote unanswered (leader stickiness).
    expect(net.node('b').status().role).toBe('pre-candidate');
    expect(net.node('c').status().leader).toBe('a');
    net.node('c').reportPeerDown(nodeId('a'));
    net.process();
    expect(net.leaders()).toEqual(['b']);
  });

  it('members go in turn: when the first in turn is behind, the next one wins after a full tick', () => {
    const net = ledByA();
    // b misses x-last (its Append is lost); a and c commit it.
    net.filter = (m) => (m.to === 'b' && m.type === 'Append' ? 'drop' : 'deliver');
    net.propose('x-last');
    net.filter = null;
    net.isolate('a');
    net.node('b').reportPeerDown(nodeId('a'));
    net.node('c').reportPeerDown(nodeId('a'));
    net.process();
    expect(net.leaders()).toEqual([]);
    net.tickAll(1);
    expect(net.leaders()).toEqual([]);
    net.tickAll(1);
    expect(net.leaders()).toEqual(['c']);
    net.propose('after', 'c');
    expect(net.appliedData('b')).toEqual(['x0', 'x1', 'x-last', 'after']);
  });

  it('a wrong hint about a live leader moves no term: the others still hear it and refuse the pre-vote', () => {
    const net = ledByA();
    for (let round = 0; round < 20; round++) {
      net.node('b').reportPeerDown(nodeId('a'));
      net.process();
      net.tickAll(3);
    }
    net.tickAll(50);
    for (const id of ['a', 'b', 'c']) expect(net.node(id).status().term, id).toBe(1);
    expect(net.leaders()).toEqual(['a']);
    expect(net.node('b').status().leader).toBe('a');
    expect(votesSent(net)).toBe(2); // a's own election only
    expect(net.sent.some((m) => m.type === 'PreVote' && m.from === 'b')).toBe(true);
  });

  it('is ignored for a peer that is not our leader, by the leader itself, and without pre-vote or check-quorum', () => {
    let net = ledByA();
    net.node('b').reportPeerDown(nodeId('c'));
    net.node('a').reportPeerDown(nodeId('b'));
    expect(net.node('b').status().leader).toBe('a');
    expect(net.node('a').status().role).toBe('leader');
    expect(net.node('b').hasReady()).toBe(false);
    for (const config of [{ preVote: false }, { checkQuorum: false }]) {
      net = ledByA(2, config);
      net.isolate('a');
      net.node('b').reportPeerDown(nodeId('a'));
      net.node('c').reportPeerDown(nodeId('a'));
      net.process();
      expect(net.leaders(), JSON.stringify(config)).toEqual([]);
      expect(net.node('b').status().leader).toBe('a');
    }
  });
});
