// A file flag naming a FIFO nobody writes to, or a device that never ends (/dev/zero), froze
// `lockstep serve` at start: readFileSync waited for ever (SIGTERM too, as the read held the event
// loop), and /dev/zero ate memory. A --api host that does not resolve printed a stack. Each now
// exits 1 at once with one line naming the flag. The process is the point (a hang, an exit).
// Ports 24301/24311: nothing listens there (each fails before it would).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli, type CliResult } from './run-cli.js';

let dir: string;
let fifo: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-serve-inputs-'));
  fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const serve = (...extra: string[]): Promise<CliResult> =>
  runCli(['serve', '--id', 'n1', '--api', '127.0.0.1:24301', '--peer', '127.0.0.1:24311', '--peers', 'n1=127.0.0.1:24311', '--data', join(dir, 'n1'), ...extra]);

function expectOneLine(r: CliResult, pattern: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.runIf(existsSync('/dev/zero'))('serve with a file flag naming a FIFO or a device', () => {
  it('--auth-token-file: a FIFO reads as empty, /dev/zero is cut off', { timeout: cliTestTimeout(2) }, async () => {
    expectOneLine(await serve('--auth-token-file', fifo), new RegExp(`^lockstep: --auth-token-file ${fifo} is empty`));
    expectOneLine(await serve('--auth-token-file', '/dev/zero'), /^lockstep: --auth-token-file \/dev\/zero cannot be read: a device that sends more than 65536 bytes/);
  });

  it('--tls-cert, --tls-key, --tls-ca', { timeout: cliTestTimeout(2) }, async () => {
    expectOneLine(await serve('--tls-cert', fifo, '--tls-key', fifo, '--tls-ca', fifo), /^lockstep: --tls-cert .* is not a PEM certificate/);
    expectOneLine(await serve('--tls-cert', '/dev/zero', '--tls-key', '/dev/zero', '--tls-ca', '/dev/zero'), /^lockstep: --tls-cert \/dev\/zero cannot be read: a device that sends more than/);
  });

  it('--restore-from', { timeout: cliTestTimeout(2) }, async () => {
    expectOneLine(await serve('--restore-from', fifo, '--cluster-id', 'restored'), new RegExp(`^lockstep: --restore-from ${fifo}: not a lockstep snapshot`));
    expectOneLine(await serve('--restore-from', '/dev/zero', '--cluster-id', 'restored'), /^lockstep: --restore-from \/dev\/zero cannot be read: a device that sends more than/);
  });

  it("a client's --ca", { timeout: cliTestTimeout(1) }, async () => {
    expectOneLine(await runCli(['status', '--endpoints', 'https://127.0.0.1:24301', '--ca', fifo]), new RegExp(`^lockstep: --ca ${fifo} holds no PEM certificate`));
  });
});

describe('serve on a host that does not resolve', () => {
  it('--api: exit 1 naming the flag, no stack', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['serve', '--id', 'n1', '--api', 'nowhere.invalid:24301', '--peer', '127.0.0.1:24311', '--peers', 'n1=127.0.0.1:24311', '--data', join(dir, 'n2'), '--insecure']);
    expectOneLine(r, /^lockstep: --api nowhere\.invalid:24301: the host name does not resolve \((ENOTFOUND|EAI_AGAIN)\)/);
  });
});
