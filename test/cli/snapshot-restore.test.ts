// Backups (issue 15 item 9): `lockstep snapshot save FILE` from a loaded
// 3-node cluster, then a NEW 3-node cluster started with `serve
// --restore-from FILE` holds every session, hold, waiterless lock, election,
// token and idempotency record of the backup, and grants tokens above every
// token in it. Real processes: the file, the CLI and serve's start-up are
// the point. The clusters run the built CLI (dist/, as test/node's process
// tests do: `npm test` builds first); the CLI commands run from source.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import type { LockInfo, SessionInfo } from '../../packages/client/src/types.js';
import { FAST_ELECTION, LocalCluster } from '../../src/harness/local-cluster.js';
import { RESTORE_TOKEN_GAP } from '../../src/locks/limits.js';
import { decodeBackup } from '../../src/node/backup.js';
import { CLI } from '../node/support/proc-cluster.js';
import { runCli } from './run-cli.js';

const ROOT = 'backup-test-root-token-0123456789abcdef';
const TTL_LONG_MS = 600_000;
const SESSION_TTL_MS = 120_000;

const clusters: LocalCluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.destroy()));
});

/** A loaded machine starts three node processes slowly: a bound on waiting, not a timing assumption. */
const LEADER_WAIT_MS = 90_000;

function cluster(basePort: number, extraArgs: string[] = []): LocalCluster {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.build.json first`);
  const c = new LocalCluster({ size: 3, basePort, peerPortOffset: 50, cli: 'dist', flags: { ...FAST_ELECTION, logLevel: 'warn' }, authToken: ROOT, extraArgs, output: 'capture' });
  clusters.push(c);
  return c;
}

/** What must survive a backup: everything but the time left on leases (a restored leader gives every lease its full TTL). */
function sessionsShape(sessions: SessionInfo[]): unknown[] {
  return sessions.map(({ remainingMs: _remaining, ...rest }) => rest).sort((a, b) => a.sessionId.localeCompare(b.sessionId));
}
function locksShape(locks: LockInfo[]): unknown[] {
  return locks.map((l) => ({ ...l, holders: l.holders.map(({ expiresInMs: _left, ...h }) => h) }));
}

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

async function fullLocks(client: Client): Promise<LockInfo[]> {
  const names = (await all(client.allLocks())).map((l) => l.name);
  return Promise.all(names.map((n) => client.getLock(n)));
}

describe('snapshot save / serve --restore-from', () => {
  it('a new 3-node cluster restored from a backup of a loaded one holds every session, hold, election, token and idempotency record', { timeout: 400_000 }, async () => {
    const a = cluster(23600);
    a.startAll();
    const aLeader = await a.leader(LEADER_WAIT_MS);
    // Saved through a follower: the leader takes it, the follower forwards the bytes unchanged (the checksum says so).
    const follower = a.nodes.find((n) => n.id !== aLeader.id)!;
    const ca = new Client({ endpoints: a.endpoints, token: ROOT });

    // Load: sessions with holds of every kind, TTL holds, a lock set, an election, a token, an idempotent acquire.
    const [s1, s2, s3] = await Promise.all([
      ca.createSession({ ttlMs: SESSION_TTL_MS, name: 'worker-1', lockDelayMs: 5_000 }),
      ca.createSession({ ttlMs: SESSION_TTL_MS, name: 'worker-2' }),
      ca.createSession({ ttlMs: SESSION_TTL_MS, name: 'reader' }),
    ]);
    expect((await ca.acquire('job:1', { sessionId: s1.sessionId, owner: 'alice', value: 'v1' })).acquired).toBe(true);
    expect((await ca.acquire('read:x', { sessionId: s2.sessionId, mode: 'shared' })).acquired).toBe(true);
    expect((await ca.acquire('read:x', { sessionId: s3.sessionId, mode: 'shared' })).acquired).toBe(true);
    expect((await ca.acquire('pool', { sessionId: s1.sessionId, limit: 3 })).acquired).toBe(true);
    expect((await ca.acquire('pool', { sessionId: s2.sessionId, limit: 3 })).acquired).toBe(true);
    expect((await ca.acquireSet({ locks: [{ name: 'set:a' }, { name: 'set:b' }], sessionId: s3.sessionId })).acquired).toBe(true);
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => ca.acquire(`ttl:${batch * 10 + i}`, { ttlMs: TTL_LONG_MS, owner: 'cron' })));
    }
    const elected = await ca.campaign('svc-leader', { sessionId: s1.sessionId, value: 'host-a:8080' });
    expect(elected.elected).toBe(true);
    const writer = await ca.createToken({ name: 'app', role: 'writer', prefixes: ['job:'] });
    const keyed = await ca.request<{ acquired: boolean; fencingToken: number }>({
      method: 'POST', path: '/v1/locks/idem:1/acquire', body: { ttlMs: TTL_LONG_MS }, retry: 'keyed', idempotencyKey: 'backup-key-1',
    });
    expect(keyed.body.acquired).toBe(true);

    const sessionsBefore = sessionsShape(await all(ca.allSessions()));
    const locksBefore = locksShape(await fullLocks(ca));
    const electionBefore = await ca.getElection('svc-leader');
    expect(locksBefore.length).toBe(46);

    // A token that may not take backups (writer) is refused and writes nothing.
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-backup-'));
    const file = join(dir, 'backup.snapshot');
    const refused = await runCli(['snapshot', 'save', file, '--endpoints', a.endpoints.join(',')], { LOCKSTEP_TOKEN: writer.secret });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/forbidden/);
    expect(existsSync(file)).toBe(false);

    const saved = await runCli(['snapshot', 'save', file, '--endpoints', follower.url], { LOCKSTEP_TOKEN: ROOT });
    expect(saved.stderr).toBe('');
    expect(saved.status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const header = decodeBackup(readFileSync(file)).header;
    // Consistent point: every acknowledged write before the save is in it.
    expect(header.index).toBeGreaterThanOrEqual(Number(keyed.headers.get('x-lockstep-index')));
    expect(saved.stdout).toContain(`at index ${header.index}`);
    expect(header.takenBy).toBe(aLeader.id);
    // A change after the save is not.
    const late = await ca.createSession({ ttlMs: SESSION_TTL_MS, name: 'after-save' });
    await a.destroy();

    const b = cluster(23700, ['--restore-from', file]);
    b.startAll();
    await b.leader(LEADER_WAIT_MS);
    const cb = new Client({ endpoints: b.endpoints, token: ROOT });
    expect(sessionsShape(await all(cb.allSessions()))).toEqual(sessionsBefore);
    expect(locksShape(await fullLocks(cb))).toEqual(locksBefore);
    expect(await cb.getElection('svc-leader')).toEqual(electionBefore);
    await expect(cb.getSession(late.sessionId)).rejects.toMatchObject({ code: 'session_not_found' });
    // Every node holds it, not only the leader.
    for (const n of b.nodes) {
      const stale = new Client({ endpoints: [n.url], token: ROOT });
      expect(sessionsShape(await all(stale.allSessions({ consistency: 'stale' })))).toEqual(sessionsBefore);
    }
    // The token works; the idempotency record answers the repeat without a second grant.
    expect(await new Client({ endpoints: b.endpoints, token: writer.secret }).whoami()).toMatchObject({ name: 'app', role: 'writer' });
    const repeat = await cb.request<{ acquired: boolean; fencingToken: number }>({
      method: 'POST', path: '/v1/locks/idem:1/acquire', body: { ttlMs: TTL_LONG_MS }, retry: 'keyed', idempotencyKey: 'backup-key-1',
    });
    expect(repeat.body).toEqual(keyed.body);
    // Sessions live on (keepalive), and a new grant's token is above every token in the backup, by
    // RESTORE_TOKEN_GAP: above any the old cluster may have granted after the backup, too.
    await cb.keepaliveSession(s1.sessionId);
    const fresh = await cb.acquire('new:1', { ttlMs: TTL_LONG_MS });
    const oldTokens = (locksBefore as LockInfo[]).flatMap((l) => l.holders.map((h) => h.fencingToken));
    expect(fresh.acquired && fresh.fencingToken).toBeGreaterThan(Math.max(...oldTokens, electionBefore.leader!.term) + RESTORE_TOKEN_GAP);

    // A node whose data directory already has state refuses to restore over it.
    const n1 = b.node('n1');
    await b.kill('n1');
    const again = await runCli([
      'serve', '--id', 'n1', '--api', `127.0.0.1:${n1.apiPort}`, '--peer', `127.0.0.1:${n1.peerPort}`,
      '--peers', b.nodes.map((n) => `${n.id}=127.0.0.1:${n.peerPort}`).join(','), '--data', n1.dataDir, '--restore-from', file, '--auth-token-file', join(b.dir, 'root-token'),
    ]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/--data \S+ is not empty \(.*\); a restore starts a NEW cluster/);
    // So does one holding anything at all (cli.md: --data must be empty), and nothing is added to it.
    const stray = mkdtempSync(join(tmpdir(), 'lockstep-restore-stray-'));
    writeFileSync(join(stray, 'notes.txt'), 'not lockstep\n');
    const intoStray = await runCli([
      'serve', '--id', 'n1', '--api', `127.0.0.1:${n1.apiPort}`, '--peer', `127.0.0.1:${n1.peerPort}`,
      '--peers', b.nodes.map((n) => `${n.id}=127.0.0.1:${n.peerPort}`).join(','), '--data', stray, '--restore-from', file, '--auth-token-file', join(b.dir, 'root-token'),
    ]);
    expect(intoStray.status).toBe(1);
    expect(intoStray.stderr).toMatch(/is not empty \(notes\.txt\)/);
    expect(readdirSync(stray)).toEqual(['notes.txt']);
    rmSync(stray, { recursive: true, force: true });
  });

  it('a damaged or foreign file is refused before the data directory is touched', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-backup-bad-'));
    const serve = (file: string, data: string) =>
      runCli(['serve', '--id', 'n1', '--api', '127.0.0.1:23801', '--peer', '127.0.0.1:23851', '--peers', 'n1=127.0.0.1:23851', '--data', data, '--restore-from', file]);
    const foreign = join(dir, 'foreign');
    writeFileSync(foreign, 'hello\n');
    const r1 = await serve(foreign, join(dir, 'd1'));
    expect(r1.status).toBe(1);
    expect(r1.stderr).toMatch(/not a lockstep snapshot/);
    expect(existsSync(join(dir, 'd1'))).toBe(false);
    const cut = join(dir, 'cut');
    writeFileSync(cut, 'LOCKSTEP-SNAPSHOT\n{"version":1,"clusterId":"x","takenBy":"n1","takenAtMs":0,"index":5,"term":2,"dataBytes":100,"dataCrc32":0}\nshort');
    const r2 = await serve(cut, join(dir, 'd2'));
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/cut short/);
    expect(existsSync(join(dir, 'd2'))).toBe(false);
  });
});
