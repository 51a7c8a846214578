// The benchmark's command line: --help prints the usage, and a mistyped flag
// is one line naming it plus the usage (exit 2), never a stack trace or a
// silent default (`--target lead` used to run round-robin). These runs exit
// before any cluster starts.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('npx', ['tsx', 'scripts/bench-locks.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm run bench: flags', () => {
  it('--help prints the usage and exits 0', () => {
    const run = bench('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('npm run bench -- [--seconds 5]');
  });

  it.each([
    [['--secs', '3'], "Unknown option '--secs'"],
    [['--target', 'lead'], '--target must be all or leader, got "lead"'],
    [['--seconds', 'x'], '--seconds must be a number >= 1'],
    [['--systems', 'lockstep,etdc'], 'unknown system "etdc"'],
    [['--workloads', 'uncontended-32,foo-3'], 'unknown workload foo-3'],
  ])('%j is refused with exit 2', (args, message) => {
    const run = bench(...args);
    expect(run.status).toBe(2);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stderr).not.toContain('    at ');
  });
});
