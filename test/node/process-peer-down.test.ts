// Real `lockstep serve` processes and the peer-down hint (issue 12 failover):
// a kill -9 of the leader is noticed by the survivors through its closed,
// then refused, connections, and they elect a new leader; connections to a
// LIVE leader dropped again and again (a proxy on every link resets them, the
// leader keeps listening) are redialed and never move the term.
// Ports: 16700-16799 (the chaos cluster's block), 16800-16899.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosCluster } from '../../src/chaos/cluster/cluster.js';
import { NO_FAULT } from '../../src/chaos/net/link-proxy.js';
import { Prng } from '../../src/chaos/prng.js';
import { type ClusterView, pollFor } from '../../src/harness/local-cluster.js';
import { CLI, PROC_TEST_MS, pause, procCluster } from './support/proc-cluster.js';

const DEFAULT_TIMING = { heartbeatMs: 100, electionMs: 1000 };
const DOWN_LINE = 'connection to peer closed and a new one was refused: reporting it down';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function viewAt(url: string): Promise<ClusterView | null> {
  try {
    const res = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as ClusterView) : null;
  } catch {
    return null;
  }
}

describe('peer-down hint between real processes', () => {
  it('kill -9 of the leader: both survivors are told by their refused redial, and elect a new leader', async () => {
    const c = procCluster(3, 16800, DEFAULT_TIMING);
    cleanups.push(() => c.destroy());
    c.startAll();
    await c.waitAnswering();
    const leader = await c.waitForLeader();
    const before = (await c.view(leader))!.term;
    await c.kill(leader, 'SIGKILL');
    const next = await c.waitForLeader();
    expect(next).not.toBe(leader);
    expect((await c.view(next))!.term).toBeGreaterThan(before);
    for (const n of c.nodes.filter((x) => x.id !== leader)) {
      const told = n.process.output.join('').split('\n').filter((l) => l.includes(DOWN_LINE));
      expect(told.length, `${n.id} was told ${leader} is down`).toBeGreaterThan(0);
      expect(told.every((l) => JSON.parse(l).peer === leader)).toBe(true);
    }
  }, PROC_TEST_MS);

  it('connections to a live leader dropped again and again are redialed: the term never moves, no node is told a peer is down', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-peer-down-'));
    const t0 = Date.now();
    const c = new ChaosCluster({ nodes: 3, runDir, portBase: 16700, ...DEFAULT_TIMING, cliPath: CLI, snapshotEvery: null, tls: false, auth: false }, new Prng(7), () => Date.now() - t0);
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    cleanups.push(() => c.stop());
    await c.start();
    const urls = c.apiUrls().map((a) => a.url);
    const steady = await pollFor(
      async () => {
        const views = await Promise.all(urls.map(viewAt));
        const first = views[0];
        return first?.leader && views.every((v) => v && v.leader === first.leader && v.term === first.term) ? first : null;
      },
      60_000,
      () => 'no agreed leader',
    );
    const leader = steady.leader!;
    const followers = c.ids().filter((id) => id !== leader);
    const links = followers.flatMap((f) => [c.network.proxy(f, leader), c.network.proxy(leader, f)]);
    const accepted = links.map((p) => p.connectionsAccepted);
    for (let drop = 0; drop < 15; drop++) {
      // Ending a delay makes each proxy close its open connections (link-proxy.ts); the leader keeps listening.
      for (const p of links) p.set({ ...NO_FAULT, delayMs: 1 });
      for (const p of links) p.heal();
      await pause(300);
    }
    await pause(2 * DEFAULT_TIMING.electionMs);
    // Not vacuous: every link was redialed after its drops.
    links.forEach((p, k) => expect(p.connectionsAccepted, `${p.from}->${p.to}`).toBeGreaterThan(accepted[k]));
    const after = await Promise.all(urls.map(viewAt));
    for (const v of after) {
      expect(v).not.toBeNull();
      expect(v!.term).toBe(steady.term);
      expect(v!.leader).toBe(leader);
    }
    for (const id of c.ids()) {
      expect(readFileSync(path.join(runDir, 'nodes', `${id}.log`), 'utf8')).not.toContain(DOWN_LINE);
    }
  }, PROC_TEST_MS);
});
