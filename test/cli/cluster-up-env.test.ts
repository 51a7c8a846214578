// `cluster up` and what it starts from. It gives its nodes every setting they
// need as flags. A serve variable left in the user's shell for a node run by
// hand (LOCKSTEP_TLS_*, LOCKSTEP_RESTORE_FROM) must not reach them: with
// LOCKSTEP_TLS_CERT set, say, the nodes would serve HTTPS (or fail on the
// file) while `cluster up` asks them over plain HTTP. And a --data that holds
// a cluster of another size is refused before anything starts: its nodes keep
// the voters they first started with, so new ones would wait forever.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEADER_WAIT_MS, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';
import { runCli, startClusterUp } from './run-cli.js';

/** One node: API 9581, peer 9681. */
const BASE_PORT = '9580';

describe('cluster up with serve variables in the environment', () => {
  it('starts its nodes as its flags say, not as stray LOCKSTEP_TLS_* and LOCKSTEP_RESTORE_FROM say', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-env-'));
    const missing = join(dir, 'no-such-file');
    const run = startClusterUp(['--nodes', '1', '--base-port', BASE_PORT, '--data', join(dir, 'data'), '--heartbeat-ms', '50', '--election-ms', '500'], {
      LOCKSTEP_TLS_CERT: missing,
      LOCKSTEP_TLS_KEY: missing,
      LOCKSTEP_TLS_CA: missing,
      LOCKSTEP_TLS_CLIENT_CA: missing,
      LOCKSTEP_RESTORE_FROM: missing,
    });
    try {
      expect(await run.up(START_WAIT_MS + LEADER_WAIT_MS), run.output()).toBe(true);
      const res = await fetch(`http://127.0.0.1:${Number(BASE_PORT) + 1}/v1/cluster`);
      expect(res.status).toBe(200);
      expect(await run.stop()).toBe(0);
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, START_WAIT_MS + LEADER_WAIT_MS + 30_000);
});

describe('cluster up on the data of another cluster', () => {
  it('a --data whose nodes recorded other voters is refused with what to do (exit 1), before any node starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-size-'));
    try {
      // As `cluster up --nodes 1` leaves it: n1 first started as a cluster of one.
      mkdirSync(join(dir, 'n1'));
      writeFileSync(join(dir, 'n1', 'bootstrap-voters.json'), '{"voters":["n1"]}\n');
      const run = await runCli(['cluster', 'up', '--nodes', '3', '--base-port', BASE_PORT, '--data', dir]);
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain('holds a cluster of 1 node (n1); run cluster up --nodes 1 on it, or give another --data');
      expect(run.stdout).not.toContain('Ctrl-C');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
