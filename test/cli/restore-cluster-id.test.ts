// `serve --restore-from FILE` starts a NEW cluster (cli.md), but under the
// backup's cluster id unless told otherwise, and a node of the old cluster
// restarted on its old data with the same id and peer address (a disk that
// came back, a slip in a restore-in-place) is then a member to the new one:
// with a higher term and a longer log it wins an election, the restored
// members refuse its appends (they would overwrite their committed entries)
// and the new cluster stalls until it is killed. A different --cluster-id
// keeps it out at the handshake. So a restore under the backup's own
// cluster id says so in a warning, with the flag to give; one under a new id
// does not. Real processes: serve's start-up and its log are the point.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { CLI, CLUSTER_START_MS, procCluster } from '../node/support/proc-cluster.js';

const clusters: LocalCluster[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.destroy()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts a restored node, waits for its 'serving' line, stops it; its log. */
async function restoredLog(file: string, data: string, port: number, extra: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--id', 'n1', '--api', `127.0.0.1:${port}`, '--peer', `127.0.0.1:${port + 1}`, '--peers', `n1=127.0.0.1:${port + 1}`, '--data', data, '--restore-from', file, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOCKSTEP_CLUSTER_ID: '' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 60_000;
  while (!out.includes('"serving"') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await exited;
  return out;
}

describe('serve --restore-from and the cluster id', () => {
  it('warns when the restored cluster keeps the backup\'s cluster id, and not under a new one', { timeout: CLUSTER_START_MS + 120_000 }, async () => {
    const source = procCluster(1, 23500, { logLevel: 'warn' });
    clusters.push(source);
    source.startAll();
    const leader = await source.leader();
    await fetch(`${leader.url}/v1/locks/a/acquire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 60_000 }) });
    const res = await fetch(`${leader.url}/v1/cluster/snapshot`);
    expect(res.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-restore-id-'));
    dirs.push(dir);
    const file = join(dir, 'backup.snapshot');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));

    const same = await restoredLog(file, join(dir, 'same'), 23510, []);
    expect(same).toContain('restored a backup');
    const warning = same.split('\n').find((l) => l.includes('--cluster-id') && l.includes('"level":40'));
    expect(warning, same).toBeDefined();
    expect(warning).toMatch(/old cluster/);

    const other = await restoredLog(file, join(dir, 'other'), 23514, ['--cluster-id', 'lockstep-restored']);
    expect(other).toContain('restored a backup');
    expect(other.split('\n').some((l) => l.includes('--cluster-id') && l.includes('"level":40'))).toBe(false);
  });
});
