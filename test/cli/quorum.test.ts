// Losing quorum, as a user meets it (issue 15 item 2): a real 3-node cluster
// with 2 nodes killed. The survivor answers 503 no_leader; the CLI must say
// so rather than "no node answered", and `status` must not call the dead
// leader a leader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { CLUSTER_START_MS, sourceCluster } from '../node/support/proc-cluster.js';
import { runCli } from './run-cli.js';

/** API ports 23301-23303, peer ports 23401-23403 (test/PORTS.md). */
const BASE_PORT = 23_300;

let cluster: LocalCluster;
let survivor: string;
let endpoints: string;
beforeAll(async () => {
  cluster = await sourceCluster(3, BASE_PORT);
  const leader = await cluster.waitForLeader();
  const [follower, last] = cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
  survivor = last;
  await cluster.kill(leader);
  await cluster.kill(follower);
  // The survivor first: every round then ends on a refused connection, the failure
  // that used to hide the survivor's answer.
  endpoints = [cluster.url(survivor), ...cluster.nodes.filter((n) => n.id !== survivor).map((n) => n.url)].join(',');
}, CLUSTER_START_MS);
afterAll(async () => {
  await cluster?.destroy();
});

describe('a 3-node cluster with 2 nodes killed', () => {
  it('status: exits 1, names no leader, shows the dead members as down', async () => {
    const r = await runCli(['status', '--endpoints', endpoints]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/leader NONE/);
    expect(r.stdout).toMatch(/1 of 3 nodes answered/);
    const rows = r.stdout.split('\n').filter((l) => /^n\d\s/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const [id, role] = row.split(/\s+/);
      if (id === survivor) {
        expect(role).not.toBe('leader');
        expect(row.trimEnd().endsWith('up')).toBe(true);
      } else {
        expect(role).toBe('down');
        expect(row.trimEnd().endsWith('DOWN')).toBe(true);
      }
    }
  });

  it('status --json: exits 1 with leader null', async () => {
    const r = await runCli(['status', '--json', '--endpoints', endpoints]);
    expect(r.status).toBe(1);
    const view = JSON.parse(r.stdout) as { leader: string | null; health: Record<string, string> };
    expect(view.leader).toBeNull();
    expect(Object.values(view.health).sort()).toEqual(['down', 'down', 'up']);
  });

  it("lock: says the cluster has no leader and how many nodes answered, not 'is the cluster up?'", async () => {
    const r = await runCli(['lock', 'q', '--endpoints', endpoints, '--', 'echo', 'hi']);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('hi');
    expect(r.stderr).toContain('the cluster has no leader: 1 of 3 nodes answered; a majority must be up');
    expect(r.stderr).not.toContain('cluster up');
  });
});
