import { describe, expect, it } from 'vitest';
import { countedToken, TokenShare } from '../../src/server/token-share.js';

describe('TokenShare', () => {
  it('caps each counted token, gives slots back, and never counts null', () => {
    const share = new TokenShare(2);
    share.take('w');
    expect(share.hasRoom('w')).toBe(true);
    share.take('w');
    expect(share.hasRoom('w')).toBe(false);
    expect(share.hasRoom('r')).toBe(true);
    for (let i = 0; i < 5; i++) share.take(null);
    expect(share.hasRoom(null)).toBe(true);
    share.give('w');
    expect([share.count('w'), share.hasRoom('w')]).toEqual([1, true]);
    share.give('w');
    share.give(null);
    expect(share.count('w')).toBe(0);
  });

  it('counts writers and readers, not admins (the root included) nor auth off', () => {
    expect(countedToken('t1', 'writer')).toBe('t1');
    expect(countedToken('t2', 'reader')).toBe('t2');
    expect(countedToken('t3', null)).toBe('t3');
    expect(countedToken('root', 'admin')).toBeNull();
    expect(countedToken(null, null)).toBeNull();
  });
});
