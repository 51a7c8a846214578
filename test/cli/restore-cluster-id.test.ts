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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { CLUSTER_START_MS, procCluster } from '../node/support/proc-cluster.js';
import { restoredLog } from './restored-log.js';

const clusters: LocalCluster[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.destroy()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

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
