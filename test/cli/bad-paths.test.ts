// A path the user gave that cannot be written (a regular file where a directory must be) is a
// failure the user caused: exit 1 with one `lockstep:` line naming it (cli.md), never a stack
// trace. `serve --data` said so already; these three printed Node's error object.
// A directory under /proc hung instead: Node's recursive mkdir loops on it (src/make-dir.ts).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from './fake-api.js';
import { cliTestTimeout, runCli, type CliResult } from './run-cli.js';

/** API ports 19901-19903, peer ports 20001-20003: nothing starts there (the data directory fails first). */
const BASE_PORT = 19_900;

let dir: string;
/** A regular file, given where a directory is expected. */
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-bad-paths-'));
  file = join(dir, 'a-file');
  writeFileSync(file, 'not a directory\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLine(r: CliResult, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('paths that cannot be written', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('snapshot save FILE under a regular file: exit 1, "cannot write FILE"', { timeout: cliTestTimeout(2) }, async () => {
    const ok = await runCli(['snapshot', 'save', join(dir, 'backup.snapshot'), '--endpoints', api.url]);
    expect(ok.status, ok.stderr).toBe(0);
    const target = join(file, 'backup.snapshot');
    expectOneLine(await runCli(['snapshot', 'save', target, '--endpoints', api.url]), new RegExp(`^lockstep: cannot write ${target}: ENOTDIR`));
  });

  it('certs ca --dir naming a regular file: exit 1, naming --dir', { timeout: cliTestTimeout(1) }, async () => {
    expectOneLine(await runCli(['certs', 'ca', '--dir', file]), new RegExp(`^lockstep: --dir ${file}: cannot write the files there \\(EEXIST`));
  });

  it('cluster up --data naming a regular file: exit 1, naming --data, as serve does', { timeout: cliTestTimeout(1) }, async () => {
    expectOneLine(await runCli(['cluster', 'up', '--data', file, '--base-port', String(BASE_PORT)]), new RegExp(`^lockstep: --data ${file}: cannot make the directory \\(EEXIST\\)`));
  });
});

/** A directory that cannot be made: procfs answers ENOENT to mkdir, as if its parent were missing. */
const UNDER_PROC = '/proc/lockstep-no-such-dir';

describe.runIf(existsSync('/proc/self'))('a directory under /proc (Node\'s recursive mkdir spun on it forever)', () => {
  it('serve --data: exit 1 at once, "cannot make the directory (ENOENT)"', { timeout: cliTestTimeout(1) }, async () => {
    const peer = `127.0.0.1:${BASE_PORT + 101}`;
    const r = await runCli(['serve', '--id', 'n1', '--api', `127.0.0.1:${BASE_PORT + 1}`, '--peer', peer, '--peers', `n1=${peer}`, '--data', `${UNDER_PROC}/n1`]);
    expectOneLine(r, new RegExp(`^lockstep: --data ${UNDER_PROC}/n1: cannot make the directory \\(ENOENT\\)`));
  });

  it('cluster up --data: exit 1 at once, naming --data', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['cluster', 'up', '--nodes', '1', '--data', UNDER_PROC, '--base-port', String(BASE_PORT)]);
    expectOneLine(r, new RegExp(`^lockstep: --data ${UNDER_PROC}: cannot make the directory \\(ENOENT\\)`));
  });

  it('certs ca --dir: exit 1 at once, naming --dir', { timeout: cliTestTimeout(1) }, async () => {
    expectOneLine(await runCli(['certs', 'ca', '--dir', UNDER_PROC]), new RegExp(`^lockstep: --dir ${UNDER_PROC}: cannot write the files there \\(ENOENT`));
  });
});
