// The CLI and the SDK against a real 3-node cluster of `lockstep serve`
// processes: status, lock, and a hold that survives a kill -9 of the Raft leader.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { CLUSTER_START_MS, sourceCluster, TEST_CLI_ARGS } from '../node/support/proc-cluster.js';
import { runCli } from './run-cli.js';

/** API ports 19701-19703, peer ports 19801-19803. */
const BASE_PORT = 19_700;

let cluster: LocalCluster;
beforeAll(async () => {
  cluster = await sourceCluster(3, BASE_PORT);
}, CLUSTER_START_MS);
afterAll(async () => {
  await cluster?.destroy();
});

describe('CLI against a real 3-node cluster', () => {
  it('status shows three members, one leader, all up', async () => {
    const r = await runCli(['status', '--endpoints', cluster.endpoints.join(',')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^n\d\s/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows.filter((l) => /\sleader\s/.test(l))).toHaveLength(1);
    expect(rows.every((l) => l.trimEnd().endsWith('up'))).toBe(true);
  });

  it("lock runs the command with a fencing token and exits with the command's status", async () => {
    const r = await runCli(['lock', 'cluster:job', '--endpoints', cluster.endpoints.join(','), '--', 'sh', '-c', 'echo "t=$LOCKSTEP_FENCING_TOKEN"; exit 5']);
    expect(r.status).toBe(5);
    expect(r.stdout).toMatch(/t=\d+/);
  });

  it('a session hold survives kill -9 of the Raft leader: the command is not signalled', async () => {
    const leader = await cluster.waitForLeader();
    const script = 'trap "echo got-term; exit 9" TERM; echo held; i=0; while [ $i -lt 80 ]; do sleep 0.05; i=$((i+1)); done; echo done';
    const child = spawn(process.execPath, [...TEST_CLI_ARGS, 'lock', 'cluster:failover', '--ttl-ms', '10000', '--endpoints', cluster.endpoints.join(','), '--', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 1250 && !out.includes('held'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out).toContain('held');
    await cluster.kill(leader);
    const status = await exited;
    expect(err).toBe('');
    expect(out).not.toContain('got-term');
    expect(out).toContain('done');
    expect(status).toBe(0);
    // The release went through a surviving node: the lock is free.
    const client = new Client({ endpoints: cluster.endpoints });
    expect((await client.getLock('cluster:failover')).holders).toHaveLength(0);
    const newLeader = await cluster.waitForLeader();
    expect(newLeader).not.toBe(leader);
  });
});
