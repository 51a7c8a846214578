// The top-level usage rules of cli.md: exit 0 on asked-for help (on stdout), 2 on usage errors
// (on stderr, so a script that pipes stdout gets nothing it would mistake for output).
import { describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli } from './run-cli.js';

describe('lockstep usage', () => {
  it('with no command is a usage error on stderr', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^lockstep: no command given/);
    expect(r.stderr).toContain('usage: lockstep <command> [flags]');
  });

  it('--help, -h and help print the commands on stdout and exit 0', { timeout: cliTestTimeout(3) }, async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await runCli(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('usage: lockstep <command> [flags]');
      expect(r.stdout).toContain('cluster up');
      expect(r.stderr).toBe('');
    }
  });

  it('an unknown command, or a group word alone, is a usage error on stderr', { timeout: cliTestTimeout(2) }, async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^lockstep: unknown command 'frobnicate'/);
    const group = await runCli(['members']);
    expect(group.status).toBe(2);
    expect(group.stdout).toBe('');
    expect(group.stderr).toMatch(/^lockstep: 'members' needs a subcommand/);
  });

  it('--version prints the version and exits 0', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lockstep \d+\.\d+\.\d+\n$/);
  });

  it('a value given to a switch (--insecure=true) is a usage error in the CLI\'s words, not Node\'s parser\'s', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['serve', '--insecure=true']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^lockstep: --insecure is a switch and takes no value \(got --insecure=true\): give --insecure to turn it on/);
    expect(r.stderr).not.toContain('does not take an argument');
  });
});
