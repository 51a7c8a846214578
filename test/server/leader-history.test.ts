// The leaders and terms a node has seen, for the console's timeline: one entry
// per change of (term, leader), in order, bounded to the newest LEADER_CHANGES_MAX.
import { describe, expect, it } from 'vitest';
import { LEADER_CHANGES_MAX, LeaderHistory } from '../../src/server/leader-history.js';

describe('leader history', () => {
  it('records a change of term or leader once, in order, and a vacancy as null', () => {
    const history = new LeaderHistory();
    history.observe(1, 1, 'n1');
    history.observe(2, 1, 'n1');
    history.observe(3, 2, null);
    history.observe(4, 2, 'n2');
    history.observe(5, 2, 'n2');
    history.observe(6, 3, 'n2');
    expect(history.list()).toEqual([
      { atMs: 1, term: 1, leader: 'n1' },
      { atMs: 3, term: 2, leader: null },
      { atMs: 4, term: 2, leader: 'n2' },
      { atMs: 6, term: 3, leader: 'n2' },
    ]);
  });

  it('keeps the newest LEADER_CHANGES_MAX, and hands out copies', () => {
    const history = new LeaderHistory();
    for (let term = 1; term <= LEADER_CHANGES_MAX + 10; term++) history.observe(term, term, 'n1');
    const list = history.list();
    expect(list).toHaveLength(LEADER_CHANGES_MAX);
    expect(list[0].term).toBe(11);
    expect(list[list.length - 1].term).toBe(LEADER_CHANGES_MAX + 10);
    list[0].leader = 'tampered';
    expect(history.list()[0].leader).toBe('n1');
  });
});
