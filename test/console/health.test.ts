// The console's health banner in words (console/js/health.js, a browser
// module without DOM needs): no quorum names the members that do not answer
// and says what stops; no leader with a quorum is an election; members down
// with a leader say how many more failures the cluster takes; a page that has
// only just opened (the other members not asked yet) raises no alarm.
import { describe, expect, it } from 'vitest';

type Health = { level: 'bad' | 'warn'; text: string } | null;
type Peer = { id: string; ok: boolean };
const { clusterHealth } = (await import(new URL('../../console/js/health.js', import.meta.url).href)) as { clusterHealth(cluster: unknown): Health };

function cluster(leader: string | null, peers: Peer[], ids = ['n1', 'n2', 'n3']) {
  return { self: 'n1', leader, term: 7, members: ids.map((id) => ({ id, voter: true })), peers };
}
const up = (id: string): Peer => ({ id, ok: true });
const down = (id: string): Peer => ({ id, ok: false });

describe('clusterHealth', () => {
  it('is quiet when every member answers and there is a leader', () => {
    expect(clusterHealth(cluster('n2', [up('n1'), up('n2'), up('n3')]))).toBeNull();
  });

  it('raises no alarm before the other members were asked', () => {
    expect(clusterHealth(cluster('n2', [up('n1')]))).toBeNull();
  });

  it('says no quorum, and which members do not answer, when a majority is gone', () => {
    const health = clusterHealth(cluster(null, [up('n1'), down('n2'), down('n3')]));
    expect(health?.level).toBe('bad');
    expect(health?.text).toMatch(/^No quorum: only 1 of 3 voting members answer \(n2 and n3 do not answer\)\. Until 2 answer/);
    expect(health?.text).toContain('nothing can be locked, released or listed');
  });

  it('calls a missing leader with a quorum an election', () => {
    const health = clusterHealth(cluster(null, [up('n1'), up('n2'), down('n3')]));
    expect(health).toEqual({ level: 'warn', text: 'No leader right now (term 7): an election is going on; 2 of 3 voting members answer. n3 does not answer.' });
  });

  it('with a leader and a member down, says how many more failures the cluster takes', () => {
    expect(clusterHealth(cluster('n1', [up('n1'), up('n2'), down('n3')]))?.text).toBe('n3 does not answer: the cluster runs on 2 of 3 voting members; one more failure stops it (no quorum).');
    const five = cluster('n1', [up('n1'), up('n2'), up('n3'), up('n4'), down('n5')], ['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(clusterHealth(five)?.text).toBe('n5 does not answer: the cluster runs on 4 of 5 voting members; it can lose 1 more.');
  });

  it('counts voters only: a learner that does not answer is no quorum matter', () => {
    const withLearner = { ...cluster('n1', [up('n1'), up('n2'), up('n3'), down('n4')]), members: [...cluster('n1', []).members, { id: 'n4', voter: false }] };
    expect(clusterHealth(withLearner)).toBeNull();
  });
});
