// Issue 11: requests that will surely fail (a DELETE of an unknown session, a
// release with a token that does not hold) each wrote a log entry — 1,000
// junk requests, 1,000 entries. Now they are answered after a ReadIndex
// barrier, without one; the same requests that succeed still go through the log.

import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';
import { leaderAndFollower, open } from './pair.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
  for (const x of open.splice(0)) await x.close();
});

const JUNK = 200;

describe('writes that will surely fail take no log entry', () => {
  it(`${JUNK} DELETEs of unknown sessions and ${JUNK} releases that do not hold: every answer right, no entry written`, async () => {
    h = await makeHarness();
    const held = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 });
    const token = held.body.fencingToken as number;
    const written = h.node.proposals.length;
    for (let i = 0; i < JUNK; i++) {
      const del = await h.call('DELETE', `/v1/sessions/unknown-${i}`, undefined, i % 2 === 0 ? { 'idempotency-key': `junk-${i}` } : {});
      expect(del.status).toBe(404);
      expect(del.body.error.code).toBe('session_not_found');
      expect(del.headers['x-lockstep-index']).toBe(String(written));
      const rel = await h.call('POST', '/v1/locks/a/release', { fencingToken: token + 1 + i });
      expect(rel.status).toBe(409);
      expect(rel.body.error.code).toBe('not_holder');
      const wrongName = await h.call('POST', '/v1/locks/b/release', { fencingToken: token });
      expect(wrongName.status).toBe(409);
    }
    expect(h.node.proposals).toHaveLength(written);
    // The real release still goes through the log, and a second one is junk again.
    expect((await h.call('POST', '/v1/locks/a/release', { fencingToken: token })).status).toBe(200);
    expect(h.node.proposals).toHaveLength(written + 1);
    expect((await h.call('POST', '/v1/locks/a/release', { fencingToken: token })).status).toBe(409);
    expect(h.node.proposals).toHaveLength(written + 1);
  });

  it('a deleted session deleted again, an acquire or campaign with an ended session, a stale term: answered without entries', async () => {
    h = await makeHarness();
    const session = (await h.call('POST', '/v1/sessions', {})).body.sessionId as string;
    const elected = await h.call('POST', '/v1/elections/e/campaign', { sessionId: session, value: 'v' });
    expect(elected.body.elected).toBe(true);
    expect((await h.call('DELETE', `/v1/sessions/${session}`)).status).toBe(200);
    const written = h.node.proposals.length;
    expect((await h.call('DELETE', `/v1/sessions/${session}`)).status).toBe(404);
    expect((await h.call('POST', '/v1/locks/x/acquire', { sessionId: session })).status).toBe(404);
    expect((await h.call('POST', '/v1/elections/e/campaign', { sessionId: session, value: 'v' })).status).toBe(404);
    expect((await h.call('POST', '/v1/elections/e/proclaim', { term: elected.body.term, value: 'w' })).status).toBe(409);
    expect((await h.call('POST', '/v1/elections/e/resign', { term: elected.body.term })).status).toBe(409);
    expect(h.node.proposals).toHaveLength(written);
  });

  it('through a follower: forwarded, answered by the leader without an entry', async () => {
    const { leader, follower } = await leaderAndFollower();
    const res = await follower.call('DELETE', '/v1/sessions/never-was');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('session_not_found');
    expect(leader.node.proposals).toHaveLength(0);
    expect(follower.node.proposals).toHaveLength(0);
  });

  it('a leader that cannot confirm its leadership does not answer from its state (the barrier fails: forwarded or 503)', async () => {
    h = await makeHarness({ limits: { leaderWaitMs: 50 } });
    const node = h.node;
    let barriers = 0;
    node.readBarrier = async () => {
      barriers++;
      throw new Error('no quorum');
    };
    const res = await h.call('DELETE', '/v1/sessions/unknown');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(barriers).toBe(1);
    expect(node.proposals).toHaveLength(0);
  });
});
