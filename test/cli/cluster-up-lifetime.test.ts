// `cluster up` runs until Ctrl-C (README: "leave it running; Ctrl-C stops all
// nodes"), also after its nodes died: it reports each with the command that
// restarts it, and its own exit is Ctrl-C's, status 0. It used to end by
// itself, status 0 and without a word, the moment its last node died (its
// nodes' child processes were all that held its event loop open).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LEADER_WAIT_MS, START_WAIT_MS } from '../../src/cli/commands/cluster-up.js';
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
});
