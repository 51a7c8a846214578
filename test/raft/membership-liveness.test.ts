// Liveness during an uncommitted membership change (simulator finding F3,
// test/sim/FINDINGS.md): nodes that disagree about the configuration must
// still be able to elect the one node that can win.

import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/types.js';
import { Network, nodeId } from './network.js';

const ELECTION_BOUND_TICKS = 100;

const isAppendTo = (m: Message, ...to: string[]): boolean => m.type === 'Append' && to.includes(m.to) && m.entries.length > 0;

/** Tick everyone until some node other than the down ones leads and `done` holds; false if the bound passes. */
function tickUntil(net: Network, done: () => boolean): boolean {
  for (let i = 0; i < ELECTION_BOUND_TICKS; i++) {
    if (done()) return true;
    net.tickAll();
  }
  return done();
}

describe('elections while a membership change is uncommitted (F3)', () => {
  it('a node removed by an uncommitted entry still campaigns when only it can win (dissertation §4.2.2)', () => {
    const net = new Network(['a', 'b', 'c', 'd']);
    net.campaign('a');
    net.propose('x');
    // a removes itself; only b receives the entry, so it cannot commit.
    net.filter = (m) => (isAppendTo(m, 'c', 'd') ? 'drop' : 'deliver');
    net.node('a').proposeConfChange({ kind: 'removeNode', node: nodeId('a') });
    net.process();
    expect(net.node('b').status().lastIndex).toBe(net.node('a').status().lastIndex);
    // b goes down and a restarts as a follower. a alone has the longest log among a, c, d, so c and d
    // (configuration a,b,c,d: 3 votes needed) can never win; a (configuration b,c,d) can, with c and d.
    net.isolate('b');
    net.restart('a');
    net.filter = null;
    const elected = tickUntil(net, () => net.leaders().some((id) => id !== 'a'));
    expect(elected, `roles: ${['a', 'c', 'd'].map((id) => `${id}=${net.node(id).status().role}`).join(' ')}`).toBe(true);
    // a committed its own removal, stepped down and never leads again; the rest make progress.
    expect(net.node('c').status().conf.voters).toEqual(['b', 'c', 'd']);
    net.propose('after');
    expect(net.appliedData('c')).toEqual(['x', 'after']);
    expect(net.appliedData('d')).toEqual(['x', 'after']);
    net.tickAll(50);
    expect(net.node('a').status().role).toBe('follower');
  });

  it('a node that is a learner in a lagging voter’s configuration gets that voter’s vote (dissertation §4.1)', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.add('d');
    net.node('a').proposeConfChange({ kind: 'addLearner', node: nodeId('d') });
    net.process();
    net.tickAll(3);
    net.propose('x');
    // Promote d; c never hears of it. Then one more entry that only d receives.
    net.filter = (m) => (isAppendTo(m, 'c') ? 'drop' : 'deliver');
    net.node('a').proposeConfChange({ kind: 'addVoter', node: nodeId('d') });
    net.process();
    net.filter = (m) => (isAppendTo(m, 'b', 'c') ? 'drop' : 'deliver');
    net.propose('y');
    net.isolate('a');
    net.filter = null;
    expect(net.node('c').status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(net.node('d').status().lastIndex).toBeGreaterThan(net.node('b').status().lastIndex);
    // d (configuration a,b,c,d) is the only node that can win: b needs d, which has a longer log; c
    // (configuration a,b,c) needs b, which has a longer log. d needs c's vote although c sees it as a learner.
    const elected = tickUntil(net, () => net.leaders().some((id) => id !== 'a'));
    expect(elected, `roles: ${['b', 'c', 'd'].map((id) => `${id}=${net.node(id).status().role}`).join(' ')}`).toBe(true);
    expect(net.leaders().filter((id) => id !== 'a')).toEqual(['d']);
    net.propose('after', 'd');
    expect(net.appliedData('c')).toEqual(['x', 'y', 'after']);
  });
});
