// `cluster up` runs until Ctrl-C (README: "leave it running; Ctrl-C stops all
// nodes"), also after its nodes died: it reports each with the command that
// restarts it, and its own exit is Ctrl-C's, status 0. It used to end by
// itself, status 0 and without a word, the moment its last node died (its
// nodes' child processes were all that held its event loop open).
//
// And it ends with the wrapper it was started through: `npx lockstep cluster
// up` runs it under npm's `sh -c`, and a SIGTERM to npx killed the shell only,
// leaving cluster up and its nodes running on their ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LEADER_WAIT_MS, shellCommand, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';
import { TEST_CLI_ARGS } from '../node/support/proc-cluster.js';
import { startClusterUp } from './run-cli.js';

/** One node: API 9411, peer 9511. */
const BASE_PORT = '9410';

describe('cluster up after its last node died', () => {
  it('reports the node, says none runs, and runs on until SIGTERM, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-lifetime-'));
    const run = startClusterUp(['--nodes', '1', '--base-port', BASE_PORT, '--data', dir, '--heartbeat-ms', '50', '--election-ms', '500']);
    try {
      expect(await run.up(START_WAIT_MS + LEADER_WAIT_MS), run.output()).toBe(true);
      const pid = Number(/\bpid (\d+)/.exec(run.output())?.[1]);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (!run.output().includes('no node of this cluster runs now') && Date.now() < deadline) await sleep(100);
      expect(run.output()).toMatch(/node n1 exited \(SIGKILL\).*restart it with:/);
      expect(run.output()).toContain('no node of this cluster runs now');
      // Time enough for a process with nothing left to do to have ended.
      await sleep(1500);
      expect(run.running(), run.output()).toBe(true);
      expect(await run.stop()).toBe(0);
      expect(run.output()).toContain('stopped.');
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);

  it('started through npm (npm_command set) under a shell: the shell killed by SIGTERM, cluster up stops its nodes and ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-wrapper-'));
    // What npx runs: `sh -c` around the command, a shell that waits for it rather than exec it.
    const command = `${shellCommand([process.execPath, ...TEST_CLI_ARGS, 'cluster', 'up', '--nodes', '1', '--base-port', BASE_PORT, '--data', dir, '--heartbeat-ms', '50', '--election-ms', '500'])}; exit $?`;
    const shell = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_command: 'exec', LOCKSTEP_AUTH_TOKEN: '' } });
    let out = '';
    shell.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    let clusterUp = 0;
    let node = 0;
    try {
      const deadline = Date.now() + START_WAIT_MS + LEADER_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && shell.exitCode === null) await sleep(100);
      expect(out).toContain('Ctrl-C');
      clusterUp = Number(readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      node = Number(/\bpid (\d+)/.exec(out)?.[1]);
      expect(alive(clusterUp) && alive(node)).toBe(true);
      shell.kill('SIGTERM');
      const stopped = Date.now() + 20_000;
      while ((alive(clusterUp) || alive(node)) && Date.now() < stopped) await sleep(100);
      expect(alive(node), out).toBe(false);
      expect(alive(clusterUp), out).toBe(false);
      expect(out).toContain('stopped.');
    } finally {
      for (const pid of [clusterUp, node]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);
});
