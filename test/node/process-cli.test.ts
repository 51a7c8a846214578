// The `serve` and `cluster up` commands as a user runs them: --help, usage
// errors (exit 2), flags from the environment, and a whole local cluster that
// comes up, elects, and stops on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressError, parsePeers, parseServeArgs } from '../../src/cli/commands/serve.js';
import { firstPortInUse, LEADER_WAIT_MS, leaderWaitMs, planCluster, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';
import { FlagValueError, UserError } from '../../src/cli/command.js';
import { CLI, PROC_TEST_MS } from './support/proc-cluster.js';

/** Waiting for `cluster up` to print its URLs: its own bounds for its nodes' start-up and the election (it exits 1 itself past them), and a margin. */
const UP_WAIT_MS = START_WAIT_MS + LEADER_WAIT_MS + 10_000;

const base = ['--id', 'n1', '--api', '127.0.0.1:7001', '--peer', '127.0.0.1:7101', '--peers', 'n1=127.0.0.1:7101,n2=127.0.0.1:7102', '--data', '/tmp/x'];

describe('serve flags', () => {
  it('maps heartbeat and election to ticks and reads the environment', () => {
    const c = parseServeArgs(base, {});
    expect(c.heartbeatMs).toBe(100);
    expect(c.electionTicks).toBe(10);
    expect(c.clusterId).toBe('lockstep');
    expect(c.apiUrl).toBe('http://127.0.0.1:7001');
    const e = parseServeArgs(base.slice(2), { LOCKSTEP_ID: 'n1', LOCKSTEP_HEARTBEAT_MS: '50', LOCKSTEP_ELECTION_MS: '500', LOCKSTEP_SNAPSHOT_EVERY: '7' });
    expect(e.id).toBe('n1');
    expect(e.electionTicks).toBe(10);
    expect(e.snapshotEvery).toBe(7);
  });

  it('refuses bad values as bad-flag errors (exit 1)', () => {
    expect(() => parseServeArgs([...base, '--election-ms', '100', '--heartbeat-ms', '100'], {})).toThrow(/at least twice/);
    expect(() => parseServeArgs(base.map((a) => (a === '127.0.0.1:7001' ? 'nowhere' : a)), {})).toThrow(FlagValueError);
    expect(() => parseServeArgs(base.map((a) => (a === '127.0.0.1:7101' ? '127.0.0.1:9999' : a)), {})).toThrow(/--peer is/);
    expect(() => parsePeers('n1=127.0.0.1:1,n1=127.0.0.1:2')).toThrow(/twice/);
    expect(() => parsePeers('n1')).toThrow(FlagValueError);
    expect(parsePeers('a=h:1, b=[::1]:2')).toEqual([{ id: 'a', peerUrl: 'h:1' }, { id: 'b', peerUrl: '[::1]:2' }]);
  });

  it('refuses addresses that cannot all be right: two peers on one address, a peer on this node\'s --api, --api and --peer alike', () => {
    // Before, each started: the node dialled itself under another id (or its own HTTP port) for ever, logging refusals.
    expect(() => parsePeers('n1=127.0.0.1:7101,n2=127.0.0.1:7101')).toThrow(/--peers gives n1 and n2 the same address 127\.0\.0\.1:7101/);
    const withPeers = (peers: string) => base.map((a) => (a.startsWith('n1=') ? peers : a));
    expect(() => parseServeArgs(withPeers('n1=127.0.0.1:7101,n2=127.0.0.1:7001'), {})).toThrow(/--peers gives n2 the address 127\.0\.0\.1:7001, this node's --api/);
    const apiOnPeer = base.map((a) => (a === '127.0.0.1:7001' ? '127.0.0.1:7101' : a));
    expect(() => parseServeArgs(apiOnPeer, {})).toThrow(/--api and --peer are both 127\.0\.0\.1:7101/);
  });

  it('says a --api or --peer host that does not resolve as the flag (exit 1), not as a stack', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      const err = addressError('--api', 'nowhere.invalid:7001', Object.assign(new Error(`getaddrinfo ${code} nowhere.invalid`), { code }));
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(`--api nowhere.invalid:7001: the host name does not resolve (${code}); give an address of this machine`);
    }
  });

  it('takes node ids by the rule of the member routes and certificates, in --id and in --peers', () => {
    expect(parseServeArgs(base.map((a) => a.replaceAll('n1', 'dc1:n1')), {}).id).toBe('dc1:n1');
    // Started as 'n 1' or 'n/1', a node could not be named to remove it, hand it leadership or certify it.
    for (const id of ['n/1', 'n 1', '.n1', 'x'.repeat(129)]) {
      expect(() => parseServeArgs(base.map((a) => a.replaceAll('n1', id)), {}), id).toThrow(/--id: node id .* must be 1-128 of/);
      expect(() => parsePeers(`${id}=127.0.0.1:1`), id).toThrow(/--peers: node id/);
    }
  });

  it('takes the root token from --auth-token-file (or the environment), one line, not guessably short, and warns of a loose file mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-token-file-'));
    try {
      const file = join(dir, 'root');
      writeFileSync(file, 'a-long-enough-root-token-123\n', { mode: 0o600 });
      const c = parseServeArgs([...base, '--auth-token-file', file], {});
      expect(c.authToken).toBe('a-long-enough-root-token-123');
      expect(c.authWarnings).toEqual([]);
      expect(parseServeArgs(base, { LOCKSTEP_AUTH_TOKEN_FILE: file }).authToken).toBe('a-long-enough-root-token-123');
      expect(parseServeArgs(base, {}).authToken).toBeNull();
      // The two flags are one setting: the one typed wins over the other's variable (a flag wins
      // over the environment); both typed, or both from the environment, is refused.
      expect(parseServeArgs([...base, '--auth-token-file', file], { LOCKSTEP_AUTH_TOKEN: 'another-root-token' }).authToken).toBe('a-long-enough-root-token-123');
      expect(parseServeArgs([...base, '--auth-token', 'typed-root-token'], { LOCKSTEP_AUTH_TOKEN_FILE: file }).authToken).toBe('typed-root-token');
      expect(() => parseServeArgs([...base, '--auth-token-file', file, '--auth-token', 'typed-root-token'], {})).toThrow(/not both/);
      expect(() => parseServeArgs(base, { LOCKSTEP_AUTH_TOKEN_FILE: file, LOCKSTEP_AUTH_TOKEN: 'another-root-token' })).toThrow(/not both/);
      expect(() => parseServeArgs([...base, '--auth-token-file', join(dir, 'missing')], {})).toThrow(FlagValueError);
      expect(() => parseServeArgs([...base, '--auth-token', 'short'], {})).toThrow(/at least 8/);
      writeFileSync(file, 'line-one-token\nline-two\n');
      expect(() => parseServeArgs([...base, '--auth-token-file', file], {})).toThrow(/one line/);
      const loose = join(dir, 'loose');
      writeFileSync(loose, 'a-long-enough-root-token-123', { mode: 0o644 });
      expect(parseServeArgs([...base, '--auth-token-file', loose], {}).authWarnings.join()).toMatch(/chmod 600/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plans the local cluster ports and directories', () => {
    const plan = planCluster(3, '/d', 7000);
    expect(plan[2]).toEqual({ id: 'n3', apiAddress: '127.0.0.1:7003', peerAddress: '127.0.0.1:7103', dataDir: '/d/n3', logFile: '/d/n3.log' });
  });

  it('waits for the first leader 30 s, or four election timeouts when --election-ms makes that longer', () => {
    expect(leaderWaitMs(1000)).toBe(30_000);
    expect(leaderWaitMs(7500)).toBe(30_000);
    // A first election starts 15-30 s in at --election-ms 15000; a split vote takes another timeout.
    expect(leaderWaitMs(15_000)).toBe(60_000);
  });
});

describe('serve and cluster up as processes', () => {
  it('serve --help documents the flags and the fault clock; a missing flag exits 2', () => {
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--heartbeat-ms');
    expect(help.stdout).toContain('LOCKSTEP_FAULT_CLOCK_FILE');
    const bad = spawnSync(process.execPath, [CLI, 'serve', '--id', 'n1'], { encoding: 'utf8', env: { ...process.env, LOCKSTEP_API: '', LOCKSTEP_PEERS: '' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing required flag/);
  });

  it('cluster up starts 3 nodes, prints the API URLs once a leader is elected, and stops them on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-'));
    try {
      const proc = spawn(process.execPath, [CLI, 'cluster', 'up', '--data', dir, '--base-port', '17850', '--heartbeat-ms', '50', '--election-ms', '500'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      const deadline = Date.now() + UP_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/leader n[123]/);
      for (const port of [17851, 17852, 17853]) {
        expect(out).toContain(`http://127.0.0.1:${port}`);
        const res = await fetch(`http://127.0.0.1:${port}/v1/cluster`);
        expect(res.status).toBe(200);
      }
      // Every node's PID; kill -9 one: cluster up names the command that restarts it, and that command works.
      const pids = [1, 2, 3].map((i) => Number(new RegExp(`^  n${i}  http://127\\.0\\.0\\.1:1785${i}  pid (\\d+)`, 'm').exec(out)?.[1]));
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      process.kill(pids[1], 'SIGKILL');
      while (!out.includes('restart it with:') && Date.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/node n2 exited \(SIGKILL\)/);
      const restart = /restart it with:\n {2}(.*) &\n/.exec(out)?.[1];
      expect(restart).toMatch(/ serve --id n2 .* >> \S+n2\.log 2>&1$/);
      // exec: the shell becomes the node, so this test can stop it (cluster up does not: it did not start it).
      const again = spawn('sh', ['-c', `exec ${restart}`], { stdio: 'ignore' });
      try {
        let view: { self?: string; leader?: string | null } = {};
        const until = Date.now() + 30_000;
        while (!(view.self === 'n2' && view.leader) && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 200));
          view = await fetch('http://127.0.0.1:17852/v1/cluster').then((r) => r.json() as Promise<typeof view>, () => ({}));
        }
        expect(view).toMatchObject({ self: 'n2', leader: expect.stringMatching(/^n[123]$/) });
      } finally {
        again.kill('SIGKILL');
      }
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped.');
      await expect(fetch('http://127.0.0.1:17851/healthz')).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, PROC_TEST_MS);

  it('cluster up --nodes 1 is a one-node cluster that elects itself and takes locks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-one-'));
    try {
      const proc = spawn(process.execPath, [CLI, 'cluster', 'up', '--nodes', '1', '--data', dir, '--base-port', '17860', '--heartbeat-ms', '50', '--election-ms', '500'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      const deadline = Date.now() + UP_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('1 node, leader n1');
      expect(out).toContain('export LOCKSTEP_ENDPOINTS=http://127.0.0.1:17861\n');
      const lock = spawnSync(process.execPath, [CLI, 'lock', 'solo', '--endpoints', 'http://127.0.0.1:17861', '--', 'sh', '-c', 'echo "t=$LOCKSTEP_FENCING_TOKEN"'], { encoding: 'utf8' });
      expect(lock.stderr).toBe('');
      expect(lock.stdout).toMatch(/^t=\d+$/m);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, PROC_TEST_MS);

  // Ports 9450-9599 are this suite's (cli audit); tests elsewhere use 16000-21999.
  it('cluster up exits 1 at once, leaving nothing running, on a taken port, a node that dies, a bad --nodes or --log-level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-bad-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(9562, '127.0.0.1', () => r()));
    try {
      const taken = spawnSync(process.execPath, [CLI, 'cluster', 'up', '--base-port', '9460', '--data', dir], { encoding: 'utf8' });
      expect(taken.status).toBe(1);
      expect(taken.stderr).toMatch(/port 9562 .*in use.*--base-port/);
      // A node that cannot open its data dir dies at start: say which, at once, and stop the others.
      writeFileSync(join(dir, 'n2'), 'not a directory');
      const t0 = Date.now();
      const dies = spawnSync(process.execPath, [CLI, 'cluster', 'up', '--base-port', '9470', '--data', dir], { encoding: 'utf8' });
      expect(dies.status).toBe(1);
      expect(dies.stderr).toMatch(/node n2 exited/);
      expect(Date.now() - t0).toBeLessThan(20_000);
      await expect(fetch('http://127.0.0.1:9471/healthz')).rejects.toThrow();
      for (const bad of [['--nodes', '4'], ['--log-level', 'loud']]) {
        const r = spawnSync(process.execPath, [CLI, 'cluster', 'up', '--base-port', '9480', '--data', dir, ...bad], { encoding: 'utf8' });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(bad[0]);
      }
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cluster up reads LOCKSTEP_NODES/_BASE_PORT/_DATA; its nodes stop when it is SIGKILLed; a second run on the same data recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-env-'));
    const env = { ...process.env, LOCKSTEP_NODES: '5', LOCKSTEP_BASE_PORT: '9490', LOCKSTEP_DATA: dir, LOCKSTEP_HEARTBEAT_MS: '50', LOCKSTEP_ELECTION_MS: '500', LOCKSTEP_LOG_LEVEL: 'warn' };
    const up = async (): Promise<{ proc: ReturnType<typeof spawn>; out: () => string }> => {
      const proc = spawn(process.execPath, [CLI, 'cluster', 'up'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + UP_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      return { proc, out: () => out };
    };
    const healthy = (port: number): Promise<boolean> => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    try {
      const first = await up();
      expect(first.out()).toContain('5 nodes');
      expect(first.out()).toContain('http://127.0.0.1:9495');
      const lock = await fetch('http://127.0.0.1:9491/v1/locks/audit:kept/acquire', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 300_000 }) });
      expect(lock.status).toBe(200);
      const exited = new Promise((r) => first.proc.once('exit', r));
      first.proc.kill('SIGKILL');
      await exited;
      // Each node sees the IPC channel close and stops as on SIGTERM.
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (await Promise.all([9491, 9492, 9493, 9494, 9495].map(healthy))).some(Boolean)) await new Promise((r) => setTimeout(r, 200));
      expect(await Promise.all([9491, 9492, 9493, 9494, 9495].map(healthy))).toEqual([false, false, false, false, false]);
      // Stopping nodes hand over and flush before they free their peer ports.
      const ports = [1, 2, 3, 4, 5].flatMap((i) => [9490 + i, 9590 + i]);
      while (Date.now() < deadline && (await firstPortInUse(ports)) !== null) await new Promise((r) => setTimeout(r, 200));
      expect(await firstPortInUse(ports)).toBe(null);
      const second = await up();
      expect(second.out()).toMatch(/leader n[1-5]/);
      const held = (await (await fetch('http://127.0.0.1:9493/v1/locks/audit:kept')).json()) as { holders: unknown[] };
      expect(held.holders).toHaveLength(1);
      const done = new Promise<number | null>((r) => second.proc.once('exit', (code) => r(code)));
      second.proc.kill('SIGINT');
      expect(await done).toBe(0);
      expect(await healthy(9491)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, PROC_TEST_MS);

  it('cluster up stops its nodes and exits promptly when interrupted before a leader is elected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-int-'));
    try {
      // A long election timeout: the nodes answer /healthz well before any leader exists.
      const proc = spawn(process.execPath, [CLI, 'cluster', 'up', '--base-port', '9520', '--data', dir, '--election-ms', '20000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !(await fetch('http://127.0.0.1:9521/healthz').then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      proc.kill('SIGINT');
      expect(await exited).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(err).toMatch(/interrupted/);
      expect(await fetch('http://127.0.0.1:9521/healthz').then(() => true, () => false)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help on every command and command group exits 0; a group without its subcommand exits 2', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    for (const c of [[], ['serve'], ['cluster', 'up'], ['status'], ['lock'], ['elect'], ['locks'], ['sessions'], ['members', 'add'], ['members', 'remove'], ['leader', 'transfer'], ['members'], ['leader'], ['cluster']]) {
      const r = run(...c, '--help');
      expect(r.status, c.join(' ')).toBe(0);
      expect(r.stdout, c.join(' ')).toMatch(/^usage: lockstep/);
    }
    expect(run('members', '--help').stdout).toMatch(/members add[\s\S]*members remove/);
    expect(run('help', 'lock').stdout).toContain('--wait-ms');
    expect(run('members').status).toBe(2);
    expect(run('members', 'frob').status).toBe(2);
    expect(run('frob').status).toBe(2);
    // 17 CLI starts: under a second each on an idle machine, 54 s in all at load average ~20.
  }, 180_000);

  it('cluster up --auth-token: waits for the leader with the token; status --token (or LOCKSTEP_TOKEN) sees every member up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-auth-'));
    let proc: ReturnType<typeof spawn> | null = null;
    try {
      const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--base-port', '9530', '--data', dir, '--heartbeat-ms', '50', '--election-ms', '500'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOCKSTEP_AUTH_TOKEN: 'audit-token' },
      });
      proc = child;
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + UP_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/leader n[123]/);
      // The token reaches the nodes in a 0600 file: on no node's command line, in no node's environment.
      const pids = [...out.matchAll(/ pid (\d+) /g)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(3);
      for (const pid of pids) {
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain('audit-token');
        expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('audit-token');
      }
      expect(statSync(join(dir, 'auth-token')).mode & 0o777).toBe(0o600);
      expect(out).toContain(`export LOCKSTEP_TOKEN="$(cat ${join(dir, 'auth-token')})"`);
      const endpoints = 'http://127.0.0.1:9531,http://127.0.0.1:9532';
      const run = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOCKSTEP_TOKEN: '', ...env } });
      const without = run(['status', '--endpoints', endpoints]);
      expect(without.status).toBe(1);
      expect(without.stderr).toMatch(/--token.*LOCKSTEP_TOKEN/);
      const withFlag = run(['status', '--endpoints', endpoints, '--token', 'audit-token'], { LOCKSTEP_TOKEN: 'wrong' });
      expect(withFlag.status).toBe(0);
      expect(withFlag.stdout.match(/\bup$/gm)).toHaveLength(3);
      expect(run(['locks', '--endpoints', endpoints], { LOCKSTEP_TOKEN: 'audit-token' }).status).toBe(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      // A failed assertion must not leave the cluster running (its nodes stop with it).
      if (proc !== null && proc.exitCode === null) proc.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  }, PROC_TEST_MS);
});
