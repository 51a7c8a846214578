// kill -9 under load: nothing acknowledged is lost (docs/safety.md #4, #5:
// an acknowledged write was synced on a majority before the reply).
import { afterEach, describe, expect, it } from 'vitest';
import { procCluster, missingSessions, PROC_TEST_MS, sessionStream, untilAcked } from './support/proc-cluster.js';
import type { LocalCluster } from '../../src/harness/local-cluster.js';

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

const maxIndex = (acked: { index: number }[]): number => acked.reduce((m, a) => Math.max(m, a.index), 0);

describe('lockstep serve: crashes (real processes)', () => {
  it('kill -9 of the leader under a stream of writes loses nothing acknowledged, on survivors and on the restarted node', async () => {
    const c = (cluster = procCluster(3, 17300));
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const stream = sessionStream(() => c.running().map((n) => c.url(n.id)), 8);
    await untilAcked(stream, 150);
    await c.kill(leader, 'SIGKILL');
    const ackedBeforeKill = [...stream.acked];
    const next = await c.waitForLeader();
    expect(next).not.toBe(leader);
    const countAtNewLeader = stream.acked.length;
    await untilAcked(stream, countAtNewLeader + 50);
    await stream.stop();
    expect(ackedBeforeKill.length).toBeGreaterThanOrEqual(150);

    const all = stream.acked;
    for (const n of c.running()) {
      await c.waitApplied(n.id, maxIndex(all));
      expect(await missingSessions(c.url(n.id), all), `missing on ${n.id}`).toEqual([]);
    }
    c.start(leader);
    await c.waitApplied(leader, maxIndex(all));
    expect(await missingSessions(c.url(leader), all), `missing on restarted ${leader}`).toEqual([]);
  }, PROC_TEST_MS);

  it('kill -9 of every node mid-stream, then a restart of all, loses nothing acknowledged', async () => {
    const c = (cluster = procCluster(3, 17400));
    c.startAll();
    await c.waitAnswering();
    await c.waitForLeader();
    const stream = sessionStream(() => c.running().map((n) => c.url(n.id)), 8);
    await untilAcked(stream, 200);
    await Promise.all(c.nodes.map((n) => c.kill(n.id, 'SIGKILL')));
    await stream.stop();
    const acked = [...stream.acked];
    c.startAll();
    await c.waitAnswering();
    await c.waitForLeader();
    for (const n of c.nodes) {
      await c.waitApplied(n.id, maxIndex(acked));
      expect(await missingSessions(c.url(n.id), acked), `missing on ${n.id}`).toEqual([]);
    }
  }, PROC_TEST_MS);
});
