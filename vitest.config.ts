import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (20-90 s each on a 2-core machine), longest
 * first. They start first, so that the workers finish together instead of
 * one of them starting a minute-long file when the others are done. Vitest
 * orders by the durations it cached from an earlier run, but a fresh clone
 * (CI) has none. A file missing here only runs later; nothing else changes.
 */
const SLOW_FIRST = [
  'test/chaos/chaos-run.test.ts',
  'test/sim/sim.test.ts',
  'test/docs/readme-blocks.test.ts',
  'test/node/process-cli.test.ts',
  'test/cli/live.test.ts',
  'test/sim/sim-locks.test.ts',
  'test/cli/lock.test.ts',
  'test/examples/examples.test.ts',
  'test/server/security-e2e.test.ts',
  'test/server/forward-sse.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((f) => spec.moduleId.endsWith(`/${f}`));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return sorted.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
  }
}

export default defineConfig({
  resolve: {
    // Tests run the SDK from its source, as tsconfig.json's paths do for tsc
    // and tsx; the built package (packages/client/dist) is what the real-process
    // tests' CLI and the packed tarballs use.
    alias: { 'lockstep-client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes on loopback ports; files run in
    // parallel workers, so each file picks its own port range (test/PORTS.md).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // At least two workers, also on a 2-core machine (Vitest's default there
    // is one): most real-process tests spend their time waiting on elections,
    // timeouts and child processes, which leaves a core for the other file.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: SlowFirstSequencer },
  },
});
