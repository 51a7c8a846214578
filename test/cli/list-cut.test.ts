// `lockstep locks` and `lockstep sessions` print at most 10,000 rows (a table is
// for a person). Past that the list used to end silently, so a user (or a
// script reading --json lines) took the first 10,000 for all of them; now a
// line on stderr says the list is cut, and a list of exactly 10,000 says nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTED_MAX } from '../../src/cli/list.js';
import { startFakeApi, type FakeApi } from './fake-api.js';
import { cliTestTimeout, runCli } from './run-cli.js';

let api: FakeApi;
beforeAll(async () => {
  api = await startFakeApi();
});
afterAll(async () => {
  await api.close();
});

describe('a list longer than the CLI prints', () => {
  it('locks: the first 10,000, and stderr says there are more', { timeout: cliTestTimeout(3) }, async () => {
    api.state.listed.locks = LISTED_MAX + 1;
    const table = await runCli(['locks', '--endpoints', api.url]);
    expect(table.status).toBe(0);
    expect(table.stdout.trim().split('\n')).toHaveLength(1 + LISTED_MAX);
    expect(table.stderr).toBe(`lockstep: showing the first ${LISTED_MAX} locks; there are more (narrow them with --prefix)\n`);
    const json = await runCli(['locks', '--json', '--endpoints', api.url]);
    expect(json.stdout.trim().split('\n')).toHaveLength(LISTED_MAX);
    expect(json.stderr).toContain('there are more');
    api.state.listed.locks = LISTED_MAX;
    const whole = await runCli(['locks', '--endpoints', api.url]);
    expect(whole.stdout.trim().split('\n')).toHaveLength(1 + LISTED_MAX);
    expect(whole.stderr).toBe('');
  });

  it('sessions: the same', { timeout: cliTestTimeout(1) }, async () => {
    api.state.listed.sessions = LISTED_MAX + 5;
    const table = await runCli(['sessions', '--endpoints', api.url]);
    expect(table.status).toBe(0);
    expect(table.stdout.trim().split('\n')).toHaveLength(1 + LISTED_MAX);
    expect(table.stderr).toBe(`lockstep: showing the first ${LISTED_MAX} sessions; there are more\n`);
  });
});
