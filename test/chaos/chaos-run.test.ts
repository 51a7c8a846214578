// The bounded chaos run CI does on every change: real `lockstep serve`
// processes (dist/cli/main.js, built by `npm test`; LOCKSTEP_CHAOS_CLI
// overrides), 3 nodes, every fault kind, a fixed seed. It fails on any
// violation the checkers find, on a check that could not decide, and on a
// fault kind never injected, and names the run folder to look at.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/chaos/options.js';
import { verdictOf } from '../../src/chaos/checker/result.js';
import { runChaos } from '../../src/chaos/run.js';

const CLI = process.env.LOCKSTEP_CHAOS_CLI ?? 'dist/cli/main.js';
const SEED = 20261122;
const DURATION_MS = 75_000;

describe('bounded chaos run', () => {
  it.skipIf(!existsSync(CLI))(
    'finds no violation under partitions, kills, pauses, clock faults and leadership changes',
    async () => {
      const runsDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-chaos-'));
      // CI runs this next to the other test files on a small machine: the
      // recovery bound is looser than the default (10 s) so that a loaded
      // machine is not mistaken for a slow recovery.
      const outcome = await runChaos({ ...DEFAULT_OPTIONS, seed: SEED, durationMs: DURATION_MS, nodes: 3, portBase: 21000, runsDir, cliPath: CLI, quiet: true, recoveryBoundMs: 20_000 });
      // No violation, and no check that could not decide (INCONCLUSIVE fails the run too).
      const failures = outcome.checks.filter((c) => !['PASS', 'NOT EXERCISED'].includes(verdictOf(c)));
      expect(failures, `${outcome.summary}`).toEqual([]);
      expect(outcome.ok, outcome.summary).toBe(true);
      // The run did something: every fault kind, and ops of every workload.
      const kinds = new Set(outcome.records.faults.map((f) => f.kind));
      expect([...kinds].sort()).toEqual([...DEFAULT_OPTIONS.faults].sort());
      const ops = new Set(outcome.records.history.filter((h) => h.result === 'ok').map((h) => h.op));
      for (const op of ['acquire', 'release', 'read', 'campaign', 'resign', 'session.create', 'session.keepalive', 'register.write', 'set.acquire']) expect(ops.has(op as never), op).toBe(true);
      for (const f of ['history.jsonl', 'faults.jsonl', 'summary.txt', 'report.html', 'nodes/n1.log']) expect(existsSync(path.join(outcome.runDir, f)), f).toBe(true);
    },
    DURATION_MS + 150_000,
  );
});
