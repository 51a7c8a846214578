// The console's notice about the leader (console/js/leader-notice.js, a
// browser module without DOM needs): a change of leader is said; losing the
// leader is said; and a leader found again after "no leader known" is said
// even when it is the one the page knew, so the newest notice never says there
// is no leader while there is one (a quorum lost and won back by the same node
// once left "no leader known" on top).
import { describe, expect, it } from 'vitest';

type Event = { leader: string | null; term: number };
const { leaderNotice } = (await import(new URL('../../console/js/leader-notice.js', import.meta.url).href)) as {
  leaderNotice(known: string | null, before: string | null | undefined, now: Event): string | null;
};

describe('leaderNotice', () => {
  it('says nothing on the first event, nor while the leader stays', () => {
    expect(leaderNotice(null, undefined, { leader: 'n1', term: 2 })).toBeNull();
    expect(leaderNotice(null, undefined, { leader: null, term: 0 })).toBeNull();
    expect(leaderNotice('n1', 'n1', { leader: 'n1', term: 2 })).toBeNull();
  });

  it('says when the leader changes, and when it is lost', () => {
    expect(leaderNotice('n1', 'n1', { leader: 'n2', term: 3 })).toBe('leader changed: n1 → n2 (term 3)');
    expect(leaderNotice('n1', 'n1', { leader: null, term: 3 })).toBe('no leader known (term 3)');
    expect(leaderNotice('n1', null, { leader: null, term: 4 })).toBeNull();
    expect(leaderNotice('n1', null, { leader: 'n2', term: 4 })).toBe('leader changed: n1 → n2 (term 4)');
  });

  it('says the leader found again after "no leader known", also when it is the same node', () => {
    expect(leaderNotice('n1', null, { leader: 'n1', term: 5 })).toBe('leader n1 again (term 5)');
  });
});
