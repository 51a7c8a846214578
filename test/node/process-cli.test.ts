// The `serve` and `cluster up` commands as a user runs them: --help, usage
// errors (exit 2), flags from the environment, and a whole local cluster that
// comes up, elects, and stops on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePeers, parseServeArgs } from '../../src/cli/commands/serve.js';
import { planCluster } from '../../src/cli/commands/cluster-up.js';
import { UsageError } from '../../src/cli/command.js';
import { CLI } from './support/proc-cluster.js';

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

  it('refuses bad values as usage errors', () => {
    expect(() => parseServeArgs([...base, '--election-ms', '100', '--heartbeat-ms', '100'], {})).toThrow(/at least twice/);
    expect(() => parseServeArgs(base.map((a) => (a === '127.0.0.1:7001' ? 'nowhere' : a)), {})).toThrow(UsageError);
    expect(() => parseServeArgs(base.map((a) => (a === '127.0.0.1:7101' ? '127.0.0.1:9999' : a)), {})).toThrow(/--peer is/);
    expect(() => parsePeers('n1=127.0.0.1:1,n1=127.0.0.1:2')).toThrow(/twice/);
    expect(() => parsePeers('n1')).toThrow(UsageError);
    expect(parsePeers('a=h:1, b=[::1]:2')).toEqual([{ id: 'a', peerUrl: 'h:1' }, { id: 'b', peerUrl: '[::1]:2' }]);
  });

  it('plans the local cluster ports and directories', () => {
    const plan = planCluster(3, '/d', 7000);
    expect(plan[2]).toEqual({ id: 'n3', apiAddress: '127.0.0.1:7003', peerAddress: '127.0.0.1:7103', dataDir: '/d/n3', logFile: '/d/n3.log' });
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
      const deadline = Date.now() + 30_000;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/leader n[123]/);
      for (const port of [17851, 17852, 17853]) {
        expect(out).toContain(`http://127.0.0.1:${port}`);
        const res = await fetch(`http://127.0.0.1:${port}/v1/cluster`);
        expect(res.status).toBe(200);
      }
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped.');
      await expect(fetch('http://127.0.0.1:17851/healthz')).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
