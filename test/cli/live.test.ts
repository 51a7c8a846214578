// CLI processes against a real lock server (createLockServer over the
// in-memory node; real clock and lease timer).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { startLiveServer, type LiveServer } from '../client/live-server.js';
import { TEST_CLI_ARGS } from '../node/support/proc-cluster.js';
import { runCli, type CliResult } from './run-cli.js';

let live: LiveServer;
let client: Client;
beforeAll(async () => {
  live = await startLiveServer();
  client = new Client({ endpoints: [live.url] });
});
afterAll(async () => {
  await live.close();
});

/**
 * Runs `lockstep <args> -- sh` whose CMD writes $envVar (its token or term) to a file and waits,
 * exiting 3 on SIGTERM; once written, `end` ends the hold with that number behind the CLI's back.
 * --ttl-ms 1500: the session is read back every 500 ms.
 */
async function endedWhileRunning(args: string[], envVar: string, end: (n: number) => Promise<unknown>): Promise<CliResult> {
  const file = join(mkdtempSync(join(tmpdir(), 'lockstep-cli-')), 'number');
  const run = runCli([...args, '--ttl-ms', '1500', '--endpoints', live.url, '--', 'sh', '-c', `trap 'exit 3' TERM; echo $${envVar} > ${file}; sleep 60 & wait`]);
  let written = '';
  for (let i = 0; i < 500 && written === ''; i++) {
    await new Promise((r) => setTimeout(r, 20));
    written = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  }
  expect(written).toMatch(/^\d+$/);
  await end(Number(written));
  return run;
}

describe('CLI against a live server', () => {
  it('lock: two runs of the same lock never overlap, and the second gets a larger token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const log = join(dir, 'log');
    const script = `echo "start $LOCKSTEP_FENCING_TOKEN" >> ${log}; sleep 0.4; echo "end $LOCKSTEP_FENCING_TOKEN" >> ${log}`;
    const runs = await Promise.all([0, 1].map(() => runCli(['lock', 'live:cli', '--endpoints', live.url, '--', 'sh', '-c', script])));
    expect(runs.map((r) => r.status)).toEqual([0, 0]);
    const events = readFileSync(log, 'utf8').trim().split('\n');
    expect(events).toHaveLength(4);
    const [s1, e1, s2, e2] = events.map((l) => l.split(' '));
    expect([s1[0], e1[0], s2[0], e2[0]]).toEqual(['start', 'end', 'start', 'end']);
    expect(s1[1]).toBe(e1[1]);
    expect(s2[1]).toBe(e2[1]);
    expect(Number(s2[1])).toBeGreaterThan(Number(s1[1]));
    expect((await client.getLock('live:cli')).holders).toHaveLength(0);
  });

  it('lock a b / lock b a: two runs naming the same locks in opposite orders never deadlock and never overlap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const log = join(dir, 'log');
    const script = `echo "start $LOCKSTEP_FENCING_TOKENS" >> ${log}; sleep 0.4; echo "end $LOCKSTEP_FENCING_TOKENS" >> ${log}`;
    const runs = await Promise.all([
      runCli(['lock', 'live:set:a', 'live:set:b', '--endpoints', live.url, '--', 'sh', '-c', script]),
      runCli(['lock', 'live:set:b', 'live:set:a', '--endpoints', live.url, '--', 'sh', '-c', script]),
    ]);
    expect(runs.map((r) => r.stderr)).toEqual(['', '']);
    expect(runs.map((r) => r.status)).toEqual([0, 0]);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    expect(events).toEqual(['start', 'end', 'start', 'end']);
    expect((await client.listLocks({ prefix: 'live:set:' })).locks).toEqual([]);
  });

  it('elect: the child runs with the term, gets SIGTERM when the session is lost, and its status is ours', async () => {
    const script = 'trap "echo got-term; exit 7" TERM; echo "leader $LOCKSTEP_FENCING_TOKEN $LOCKSTEP_SESSION_ID"; while true; do sleep 0.05; done';
    const child = spawn(process.execPath, [...TEST_CLI_ARGS, 'elect', 'live:elect', '--value', 'me', '--endpoints', live.url, '--', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 1250 && !/leader \d+ \S+/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    const [, term, sessionId] = /leader (\d+) (\S+)/.exec(out)!;
    expect((await client.getElection('live:elect')).leader).toMatchObject({ value: 'me', term: Number(term) });
    // Someone deletes the session (an operator, an expiry): leadership is gone.
    await client.deleteSession(sessionId);
    const status = await exited;
    expect(out).toContain('got-term');
    expect(status).toBe(7);
    expect(err).toMatch(/lost leadership of 'live:elect'/);
  });

  it('elect: resigns at exit so the next candidate can lead', async () => {
    const r = await runCli(['elect', 'live:elect2', '--endpoints', live.url, '--', 'sh', '-c', 'exit 0']);
    expect(r.status).toBe(0);
    expect((await client.getElection('live:elect2')).leader).toBeNull();
  });

  it('long names, owners and values that the API takes work from the CLI too (the session label is cut to fit)', async () => {
    // 64 names of 40 characters: a valid lock set whose label would be ~2,700 characters.
    const names = Array.from({ length: 64 }, (_, i) => `live:long:${String(i).padStart(2, '0')}:${'x'.repeat(26)}`);
    const set = await runCli(['lock', ...names, '--owner', 'o'.repeat(150), '--endpoints', live.url, '--', 'sh', '-c', 'echo "$LOCKSTEP_LOCK_NAMES" | wc -w']);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(set.stdout.trim()).toBe('64');
    const elect = await runCli(['elect', `live:${'e'.repeat(200)}`, '--value', 'v'.repeat(150), '--endpoints', live.url, '--', 'sh', '-c', 'exit 0']);
    expect(elect.stderr).toBe('');
    expect(elect.status).toBe(0);
  });

  it('lock: a hold released by someone else while its session lives is a lost hold: CMD gets SIGTERM (cli.md)', async () => {
    // Whoever has the token (lockstep locks shows it) may release the hold; the session lives on.
    const r = await endedWhileRunning(['lock', 'live:released'], 'LOCKSTEP_FENCING_TOKEN', (token) => client.release('live:released', token));
    expect(r.stderr).toMatch(/lost the hold on 'live:released' \(the hold on 'live:released' \(token \d+\) was released by someone else .*\); sending SIGTERM to sh/);
    expect(r.status).toBe(3);
  });

  it('elect: leadership resigned by someone else while the session lives is lost: CMD gets SIGTERM', async () => {
    const r = await endedWhileRunning(['elect', 'live:resigned'], 'LOCKSTEP_ELECTION_TERM', (term) => client.resign('live:resigned', term));
    expect(r.stderr).toMatch(/lost leadership of 'live:resigned' \(leadership of 'live:resigned' \(term \d+\) was resigned by someone else .*\); sending SIGTERM to sh/);
    expect(r.status).toBe(3);
  });

  it('locks and sessions list what is held', async () => {
    const s = await client.session({ ttlMs: 10_000, name: 'lister' });
    const a = await client.acquire('live:list:x', { sessionId: s.id, owner: 'olga' });
    expect(a.acquired).toBe(true);
    // Two in line behind olga: the table names them (a count alone said nothing of who waits).
    const waiting = [await client.session({ ttlMs: 10_000, name: 'pavel' }), await client.session({ ttlMs: 10_000, name: 'rita' })];
    const waits = [
      client.acquire('live:list:x', { sessionId: waiting[0].id, owner: 'pavel', waitMs: 20_000 }),
      client.acquire('live:list:x', { sessionId: waiting[1].id, owner: 'rita', mode: 'shared', waitMs: 20_000 }),
    ].map((p) => p.catch(() => undefined));
    try {
      for (let i = 0; i < 100 && (await client.getLock('live:list:x')).waiters.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      const locks = await runCli(['locks', '--prefix', 'live:list:', '--endpoints', live.url]);
      expect(locks.status).toBe(0);
      expect(locks.stdout).toMatch(/live:list:x\s+exclusive\s+\d+\(olga\)\s+\S+\s+2 \(pavel, rita\[shared\]\)/);
      const sessions = await runCli(['sessions', '--endpoints', live.url]);
      expect(sessions.status).toBe(0);
      expect(sessions.stdout).toContain(s.id);
      expect(sessions.stdout).toContain('live:list:x');
      // Durations for people (cli.md), not raw milliseconds: TTL 10s, time left, no lock-delay.
      expect(sessions.stdout.split('\n')[0]).toMatch(/^SESSION\s+NAME\s+TTL\s+LEFT\s+LOCK-DELAY\s+HOLDS\s+WAITING$/);
      expect(sessions.stdout).toMatch(new RegExp(`^${s.id}\\s+lister\\s+10s\\s+\\d+(\\.\\d)?s\\s+0ms\\s+live:list:x#\\d+`, 'm'));
      const none = await runCli(['locks', '--prefix', 'nothing-here:', '--endpoints', live.url]);
      expect(none.stdout).toContain("no locks with prefix 'nothing-here:'");
    } finally {
      await s.close();
      for (const w of waiting) await w.close();
      await Promise.all(waits);
    }
  });

  it('locks shows a semaphore as one, with its limit (its holders each say exclusive)', async () => {
    const held = [
      await client.acquire('live:sem:s', { ttlMs: 10_000, owner: 'uma', limit: 3 }),
      await client.acquire('live:sem:s', { ttlMs: 10_000, owner: 'vic', limit: 3 }),
    ];
    try {
      const locks = await runCli(['locks', '--prefix', 'live:sem:', '--endpoints', live.url]);
      expect(locks.status).toBe(0);
      expect(locks.stdout).toMatch(/^live:sem:s\s+semaphore \(limit 3\)\s+\d+\(uma\) \d+\(vic\)\s/m);
    } finally {
      for (const h of held) if (h.acquired) await client.release('live:sem:s', h.fencingToken);
    }
  });

  it('lock-delay: lock says the lock is in lock-delay and for how long; locks shows it (issue 15)', async () => {
    const post = (path: string, body: unknown) =>
      fetch(live.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, any>>);
    // A session nobody keeps alive: it expires after its TTL and its lock goes into a 30 s lock-delay.
    const { sessionId } = await post('/v1/sessions', { ttlMs: 1000, lockDelayMs: 30_000 });
    expect((await post('/v1/locks/live:delayed/acquire', { sessionId })).acquired).toBe(true);
    for (let i = 0; i < 250 && (await fetch(`${live.url}/v1/sessions/${sessionId}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 20));
    const lock = await runCli(['lock', 'live:delayed', '--wait-ms', '0', '--endpoints', live.url, '--', 'echo', 'ran']);
    expect(lock.status).toBe(1);
    expect(lock.stdout).toBe('');
    expect(lock.stderr).toMatch(/lock 'live:delayed' not acquired within 0ms; held by nobody, 0 waiting, in lock-delay for another \d+(\.\d)?s \(the session that held it expired/);
    const locks = await runCli(['locks', '--prefix', 'live:delayed', '--endpoints', live.url]);
    expect(locks.status).toBe(0);
    expect(locks.stdout.split('\n')[0]).toMatch(/LOCK-DELAY$/);
    expect(locks.stdout, locks.stdout).toMatch(/^live:delayed\s.*\s\d+(\.\d)?s$/m);
  });

  it('status, members add, leader transfer, members remove', async () => {
    const st = await runCli(['status', '--endpoints', live.url]);
    expect(st.status).toBe(0);
    expect(st.stdout).toContain('leader n1');
    const add = await runCli(['members', 'add', 'n2', '--api', '127.0.0.1:7902', '--peer', '127.0.0.1:7912', '--endpoints', live.url]);
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    expect(live.node.members.map((m) => m.id)).toContain('n2');
    const tr = await runCli(['leader', 'transfer', '--to', 'n2', '--endpoints', live.url]);
    expect(tr.stderr).toBe('');
    expect(tr.status).toBe(0);
    expect(tr.stdout).toContain('n2');
    live.node.setRole('leader', 'n1');
    const rm = await runCli(['members', 'remove', 'n2', '--endpoints', live.url]);
    expect(rm.status).toBe(0);
    expect(rm.stdout).toMatch(/^removed n2: stop its process .* its id is never reused, so a replacement joins under a new id\n$/);
    expect(live.node.members.map((m) => m.id)).not.toContain('n2');
    expect((await runCli(['members', 'add', '--endpoints', live.url])).status).toBe(2);
    // cli.md: members add takes --api and --peer as flags only; $LOCKSTEP_API/$LOCKSTEP_PEER name
    // the node it runs on, so they must not stand in for a missing flag.
    const fromEnv = await runCli(['members', 'add', 'n3', '--peer', '127.0.0.1:7103', '--endpoints', live.url], { LOCKSTEP_API: '127.0.0.1:7003', LOCKSTEP_PEER: '127.0.0.1:7999' });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toContain('missing required flag --api');
    expect(live.node.members.find((m) => m.id === 'n3')).toBeUndefined();
    const flags = await runCli(['members', 'add', 'n3', '--api', '127.0.0.1:7003', '--peer', '127.0.0.1:7103', '--endpoints', live.url], { LOCKSTEP_API: '127.0.0.1:7998', LOCKSTEP_PEER: '127.0.0.1:7999' });
    expect(flags.stderr).toBe('');
    expect(flags.status).toBe(0);
    const n3 = live.node.members.find((m) => m.id === 'n3');
    expect(n3?.apiUrl).toBe('http://127.0.0.1:7003');
    // As `serve --peer` stores a node's own (test/cli/members-add-scheme.test.ts).
    expect(n3?.peerUrl).toBe('127.0.0.1:7103');
  });
});
