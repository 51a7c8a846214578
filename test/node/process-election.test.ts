// Real `lockstep serve` processes: 3 and 5 nodes elect one leader, and
// GET /v1/cluster on every node agrees on it. SIGTERM hands leadership over.
import { afterEach, describe, expect, it } from 'vitest';
import { PROC_TEST_MS, procCluster } from './support/proc-cluster.js';
import type { LocalCluster } from '../../src/harness/local-cluster.js';

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

describe('lockstep serve: election (real processes)', () => {
  for (const [count, base] of [[3, 17000], [5, 17100]] as const) {
    it(`${count} nodes elect a leader and every node agrees`, async () => {
      const c = (cluster = procCluster(count, base));
      c.startAll();
      await c.waitAnswering();
      const leader = await c.waitForLeader();
      const views = await Promise.all(c.nodes.map((n) => c.view(n.id)));
      for (const v of views) {
        expect(v).not.toBeNull();
        expect(v!.leader).toBe(leader);
        expect(v!.members.map((m) => m.id).sort()).toEqual(c.nodes.map((n) => n.id).sort());
      }
      const terms = new Set(views.map((v) => v!.term));
      expect(terms.size).toBe(1);
      // API URLs are learned through the peer channel: every node knows every member's.
      for (const v of views) for (const n of c.nodes) expect(v!.members.find((m) => m.id === n.id)?.apiUrl, `${v!.self} about ${n.id}`).toBe(c.url(n.id));
    }, PROC_TEST_MS);
  }

  it('SIGTERM on the leader hands leadership over and exits 0', async () => {
    const c = (cluster = procCluster(3, 17200));
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const before = (await c.view(leader))!.term;
    const exit = await c.kill(leader, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(c.node(leader).process.output.join('')).toContain('handed leadership over');
    const next = await c.waitForLeader();
    expect(next).not.toBe(leader);
    expect((await c.view(next))!.term).toBeGreaterThan(before);
  }, PROC_TEST_MS);
});
