// Tokens live in the replicated state and so in every backup; the root token
// that turns auth on is a flag of each node and is in no backup. A backup of
// a cluster with auth on, restored by nodes started without a root token (as
// the README's restore line reads, `serve --restore-from FILE ...`), made an
// open cluster that kept every token and checked none, and nothing said so.
// Now the restored node warns, naming the flag; with a root token it does not.
// Real processes: serve's start-up and its log are the point.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { CLUSTER_START_MS, sourceCluster } from '../node/support/proc-cluster.js';
import { restoredLog } from './restored-log.js';

const ROOT = 'restore-auth-root-token-0123456789';
const clusters: LocalCluster[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.destroy()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const authWarning = (log: string) => log.split('\n').find((l) => l.includes('"level":40') && l.includes('auth is off'));

describe('serve --restore-from a backup that holds tokens', () => {
  it('warns that auth is off when the node has no root token, and not when it has one', { timeout: CLUSTER_START_MS + 120_000 }, async () => {
    const source = await sourceCluster(1, 24300, { authToken: ROOT });
    clusters.push(source);
    const leader = await source.leader();
    const auth = { authorization: `Bearer ${ROOT}`, 'content-type': 'application/json' };
    const made = await fetch(`${leader.url}/v1/auth/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'team-a', role: 'writer' }) });
    expect(made.status).toBe(201);
    const res = await fetch(`${leader.url}/v1/cluster/snapshot`, { headers: { authorization: `Bearer ${ROOT}` } });
    expect(res.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-restore-auth-'));
    dirs.push(dir);
    const file = join(dir, 'backup.snapshot');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));

    const open = await restoredLog(file, join(dir, 'open'), 24310, ['--cluster-id', 'lockstep-restored']);
    expect(open).toContain('restored a backup');
    const warning = authWarning(open);
    expect(warning, open).toBeDefined();
    expect(warning).toMatch(/1 token\(s\)/);
    expect(warning).toMatch(/--auth-token-file/);

    const closed = await restoredLog(file, join(dir, 'closed'), 24314, ['--cluster-id', 'lockstep-restored'], { LOCKSTEP_AUTH_TOKEN: ROOT });
    expect(closed).toContain('restored a backup');
    expect(authWarning(closed), closed).toBeUndefined();
  });
});
