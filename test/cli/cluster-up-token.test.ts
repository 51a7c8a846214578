// `cluster up` with auth prints `export LOCKSTEP_TOKEN="$(cat FILE)"` for the
// user to paste: the line must work for any FILE, e.g. a data directory with a
// space in its path (macOS "Application Support", a home with a space), and
// in another terminal, whose directory is not cluster up's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LEADER_WAIT_MS, shellWord, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';
import { startClusterUp } from './run-cli.js';

/** One node: API 9401, peer 9501 (9571 is a peer port of process-cli.test.ts). */
const BASE_PORT = '9400';
const TOKEN = 'root-token-0123456789abcdef';

describe('cluster up with auth: the lines it prints, pasted in another terminal', () => {
  it('in a path with a space, the printed `export LOCKSTEP_TOKEN=...` line, run by a shell, sets the root token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-token-'));
    const data = join(dir, 'my cluster');
    mkdirSync(data);
    const tokenFile = join(data, 'root token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const run = startClusterUp(['--nodes', '1', '--base-port', BASE_PORT, '--data', data, '--auth-token-file', tokenFile, '--heartbeat-ms', '50', '--election-ms', '500']);
    try {
      expect(await run.up(START_WAIT_MS + LEADER_WAIT_MS), run.output()).toBe(true);
      const line = run.output().split('\n').find((l) => l.startsWith('export LOCKSTEP_TOKEN='));
      expect(line, run.output()).toBeDefined();
      const shell = spawnSync('sh', ['-c', `${line}\nprintf %s "$LOCKSTEP_TOKEN"`], { encoding: 'utf8' });
      expect(shell.stderr).toBe('');
      expect(shell.stdout).toBe(TOKEN);
      expect(await run.stop()).toBe(0);
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);

  it('a relative --auth-token-file: the printed export line and restart command work from another directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-token-rel-'));
    // Another terminal's directory, where the relative path names nothing.
    const elsewhere = join(dir, 'elsewhere', 'deeper');
    mkdirSync(elsewhere, { recursive: true });
    const tokenFile = join(dir, 'root-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const typed = relative(process.cwd(), tokenFile);
    expect(existsSync(resolve(elsewhere, typed))).toBe(false);
    const run = startClusterUp(['--nodes', '1', '--base-port', BASE_PORT, '--data', join(dir, 'data'), '--auth-token-file', typed, '--heartbeat-ms', '50', '--election-ms', '500']);
    try {
      expect(await run.up(START_WAIT_MS + LEADER_WAIT_MS), run.output()).toBe(true);
      const line = run.output().split('\n').find((l) => l.startsWith('export LOCKSTEP_TOKEN='));
      const shell = spawnSync('sh', ['-c', `${line}\nprintf %s "$LOCKSTEP_TOKEN"`], { encoding: 'utf8', cwd: elsewhere });
      expect(shell.stderr).toBe('');
      expect(shell.stdout).toBe(TOKEN);

      const pid = Number(/\bpid (\d+)/.exec(run.output())?.[1]);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (!/restart it with:\n {2}(.*) &\n/.test(run.output()) && Date.now() < deadline) await sleep(100);
      const restart = /restart it with:\n {2}(.*) &\n/.exec(run.output())?.[1];
      expect(restart, run.output()).toBeDefined();
      // Its token file by the path the nodes were given: absolute, so that it runs from the other
      // terminal too. (Run from there under tsx, `--import tsx` would not resolve: checked as text.)
      expect(restart).toContain(` --auth-token-file ${shellWord(tokenFile)} `);
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);
});
