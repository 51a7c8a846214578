// A node that has data keeps the cluster's bootstrap voters it recorded at its
// first start, whatever --peers says later (cli.md: a node that starts with
// data "recovers from it and ignores --peers except to learn addresses").
// Before the voters were recorded, a node restarted with `--peers` naming only
// itself took {itself} as the whole cluster until its first snapshot, elected
// itself and committed alone beside the real majority: two leaders, two logs.
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { FAST_ELECTION } from '../../src/harness/local-cluster.js';
import { pause, procCluster, PROC_TEST_MS, sessionStream, untilAcked } from './support/proc-cluster.js';

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

describe('lockstep serve: the bootstrap voters (real processes)', () => {
  it('a node restarted on its data with --peers naming only itself never leads alone; the cluster keeps its three voters', async () => {
    const c = (cluster = procCluster(3, 24000));
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const victim = c.nodes.find((n) => n.id !== leader)!.id;
    const stream = sessionStream(() => c.running().map((n) => c.url(n.id)), 4);
    await untilAcked(stream, 20);
    await stream.stop();
    await c.kill(victim, 'SIGTERM');
    c.start(victim, [victim]);
    // Long enough for a node that thinks it is alone to elect itself several times over.
    const deadline = Date.now() + 8 * FAST_ELECTION.electionMs;
    let sawVictimView = false;
    while (Date.now() < deadline) {
      const view = await c.view(victim);
      if (view !== null) {
        sawVictimView = true;
        expect(view.leader, `${victim} must not lead a cluster of its own`).not.toBe(victim);
        expect(view.members.filter((m) => m.voter).map((m) => m.id).sort()).toEqual(c.nodes.map((n) => n.id).sort());
      }
      await pause(100);
    }
    expect(sawVictimView).toBe(true);
    expect(c.node(victim).process.output.join('')).toContain('--peers names other voters than the ones recorded at the first start');
    // The real majority still takes writes.
    const after = sessionStream(() => c.nodes.filter((n) => n.id !== victim).map((n) => c.url(n.id)), 2);
    await untilAcked(after, 5);
    await after.stop();
  }, PROC_TEST_MS);
});
