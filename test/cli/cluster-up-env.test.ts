// `cluster up` and what it starts from. It gives its nodes every setting they need as flags. A serve
// variable left in the user's shell for a node run by hand (LOCKSTEP_TLS_*,
// LOCKSTEP_RESTORE_FROM) must not reach them: with LOCKSTEP_TLS_CERT set, say,
// the nodes would serve HTTPS (or fail on the file) while `cluster up` asks
// them over plain HTTP. And a --data that holds a cluster of another size is
// refused before anything starts: its nodes keep the voters they first
// started with, so new ones would wait forever.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LEADER_WAIT_MS, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** One node: API 9581, peer 9681. */
const BASE_PORT = '9580';

describe('cluster up with serve variables in the environment', () => {
  it('starts its nodes as its flags say, not as stray LOCKSTEP_TLS_* and LOCKSTEP_RESTORE_FROM say', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-env-'));
    const missing = join(dir, 'no-such-file');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'cluster', 'up', '--nodes', '1', '--base-port', BASE_PORT, '--data', join(dir, 'data'), '--heartbeat-ms', '50', '--election-ms', '500'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        LOCKSTEP_AUTH_TOKEN: '',
        LOCKSTEP_TLS_CERT: missing,
        LOCKSTEP_TLS_KEY: missing,
        LOCKSTEP_TLS_CA: missing,
        LOCKSTEP_TLS_CLIENT_CA: missing,
        LOCKSTEP_RESTORE_FROM: missing,
      },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + START_WAIT_MS + LEADER_WAIT_MS;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('Ctrl-C');
      const res = await fetch(`http://127.0.0.1:${Number(BASE_PORT) + 1}/v1/cluster`);
      expect(res.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);
});

describe('cluster up on the data of another cluster', () => {
  it('a --data whose nodes recorded other voters is refused with what to do (exit 1), before any node starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-size-'));
    try {
      // As `cluster up --nodes 1` leaves it: n1 first started as a cluster of one.
      mkdirSync(join(dir, 'n1'));
      writeFileSync(join(dir, 'n1', 'bootstrap-voters.json'), '{"voters":["n1"]}\n');
      const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'cluster', 'up', '--nodes', '3', '--base-port', BASE_PORT, '--data', dir], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain('holds a cluster of 1 node (n1); run cluster up --nodes 1 on it, or give another --data');
      expect(run.stdout).not.toContain('Ctrl-C');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
