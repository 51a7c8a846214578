// Recovery of a node from outside its normal life: a follower that missed
// 100,000 entries catches up through a snapshot; a node whose newest log
// write was cut short restarts cleanly and rejoins.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { procCluster, missingSessions, PROC_TEST_MS, sessionStream, untilAcked } from './support/proc-cluster.js';
import type { LocalCluster } from '../../src/harness/local-cluster.js';

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

/**
 * Bulk no-op proposals at the leader (test hook), `count` acknowledged in
 * all. When leadership moves mid-way (503 "not the leader", or "leadership
 * changed hands / was lost; the command may or may not commit"), the rest
 * goes to the new leader, as a client would retry: safe here because the
 * commands are no-ops (one whose fate was unknown only adds an entry).
 */
async function bulk(c: LocalCluster, count: number, concurrency: number): Promise<{ committed: number; lastIndex: number }> {
  let committed = 0;
  let lastIndex = 0;
  // Bounded by progress: a leader that commits nothing five times in a row is not a slow machine.
  for (let idle = 0; committed < count; ) {
    if (idle >= 5) throw new Error(`bulk: ${committed} of ${count} committed, then five leaders in a row committed nothing`);
    const leader = await c.waitForLeader();
    const res = await fetch(`${c.url(leader)}/v1/_test/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: count - committed, concurrency }),
    });
    const body = (await res.json()) as { committed: number; lastIndex: number; error?: { committed: number; lastIndex: number; message: string } };
    const done = res.status === 200 ? body : body.error;
    if (res.status !== 200 && !(res.status === 503 && /not the leader|leadership (changed hands|was lost); the command may or may not commit/.test(body.error?.message ?? ''))) {
      throw new Error(`bulk failed: ${res.status} ${JSON.stringify(body)}`);
    }
    committed += done!.committed;
    lastIndex = Math.max(lastIndex, done!.lastIndex);
    idle = done!.committed === 0 ? idle + 1 : 0;
  }
  return { committed, lastIndex };
}

describe('lockstep serve: recovery (real processes)', () => {
  it('a follower that was down while 100,000 entries were committed catches up through a snapshot', async () => {
    // Elections slower than the test default: 512 proposals in flight on a loaded machine stall the
    // leader past 500 ms and it steps down again and again; catching up is the point here, not elections.
    const c = (cluster = procCluster(3, 17500, { snapshotEvery: 5000, heartbeatMs: 100, electionMs: 2000 }, { LOCKSTEP_TEST_HOOKS: '1' }));
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const lagger = c.nodes.find((n) => n.id !== leader)!.id;
    await c.kill(lagger, 'SIGKILL');
    const { committed, lastIndex } = await bulk(c, 100_000, 512);
    expect(committed).toBe(100_000);
    c.start(lagger);
    await c.waitApplied(lagger, lastIndex, 45_000);
    const log = c.node(lagger).process.output.join('');
    expect(log).toContain('restored snapshot');
    // And it keeps up afterwards, through the log.
    const more = await bulk(c, 100, 16);
    await c.waitApplied(lagger, more.lastIndex);
  }, PROC_TEST_MS);

  it('a node whose newest log write was cut short restarts cleanly and catches up', async () => {
    const c = (cluster = procCluster(3, 17600));
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const victim = c.nodes.find((n) => n.id !== leader)!.id;
    const stream = sessionStream(() => c.running().map((n) => c.url(n.id)), 8);
    await untilAcked(stream, 100);
    await c.kill(victim, 'SIGKILL');
    // Cut the tail of the newest LevelDB write-ahead log, as a power cut mid-write would.
    const dir = c.node(victim).dataDir;
    const logs = readdirSync(dir)
      .filter((f) => f.endsWith('.log') && f !== 'LOG')
      .map((f) => ({ path: join(dir, f), size: statSync(join(dir, f)).size, mtime: statSync(join(dir, f)).mtimeMs }))
      .filter((f) => f.size > 0)
      .sort((a, b) => b.mtime - a.mtime);
    expect(logs.length).toBeGreaterThan(0);
    const newest = logs[0];
    truncateSync(newest.path, Math.max(0, newest.size - 37));
    c.start(victim);
    await untilAcked(stream, 200);
    await stream.stop();
    const target = stream.acked.reduce((m, a) => Math.max(m, a.index), 0);
    const view = await c.waitApplied(victim, target);
    expect(view.leader).not.toBeNull();
    expect(c.node(victim).process.exits).toHaveLength(1); // only the kill; the restart is still running
    expect(await missingSessions(c.url(victim), stream.acked)).toEqual([]);
  }, PROC_TEST_MS);
});
