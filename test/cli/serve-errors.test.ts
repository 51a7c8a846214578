// `lockstep serve` when its address is taken or its --data cannot be made
// (cli.md: exit 1 on a failure the user caused). The process is the point:
// before, a taken API port left a Raft member running with no API (it never
// exited), and a taken peer port or an unusable --data printed a raw stack.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli } from './run-cli.js';

/** A listener on a free loopback port: the port some other program holds. */
async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** A loopback port nobody listens on (now). */
async function freePort(): Promise<number> {
  const { server, port } = await occupy();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let dir: string;
let taken: Server | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-serve-errors-'));
});
afterEach(async () => {
  await new Promise<void>((r) => (taken ? taken.close(() => r()) : r()));
  taken = null;
  rmSync(dir, { recursive: true, force: true });
});

const serveArgs = (api: number, peer: number) => ['serve', '--id', 'n1', '--api', `127.0.0.1:${api}`, '--peer', `127.0.0.1:${peer}`, '--peers', `n1=127.0.0.1:${peer}`, '--data', join(dir, 'n1')];

describe('serve on a taken address or an unusable --data', () => {
  it('a taken --api port: exit 1 naming the flag and the address, without a stack (and the node does not linger)', async () => {
    const held = await occupy();
    taken = held.server;
    const r = await runCli(serveArgs(held.port, await freePort()));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^lockstep: --api 127\\.0\\.0\\.1:${held.port}: the address is in use`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, cliTestTimeout(1));

  it('a taken --peer port: exit 1 naming the flag and the address, without a stack', async () => {
    const held = await occupy();
    taken = held.server;
    const r = await runCli(serveArgs(await freePort(), held.port));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^lockstep: --peer 127\\.0\\.0\\.1:${held.port}: the address is in use`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, cliTestTimeout(1));

  it('a --data that cannot be a directory (a file is in the way): exit 1 naming --data, without a stack', async () => {
    writeFileSync(join(dir, 'file'), 'not a directory');
    const args = serveArgs(await freePort(), await freePort());
    args[args.indexOf('--data') + 1] = join(dir, 'file', 'n1');
    const r = await runCli(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^lockstep: --data ${join(dir, 'file', 'n1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, cliTestTimeout(1));

  it('a root token no HTTP client can send (a character outside visible ASCII): exit 1 before the node starts', async () => {
    const tokenFile = join(dir, 'root-token');
    writeFileSync(tokenFile, 'päss-wörd-long-enough\n', { mode: 0o600 });
    const r = await runCli([...serveArgs(await freePort(), await freePort()), '--auth-token-file', tokenFile]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^lockstep: the root token must be at least 8 characters of visible ASCII, without spaces/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, cliTestTimeout(1));
});

describe('a client --token that no HTTP header can carry', () => {
  it("is exit 1 naming --token, not 'no node answered'", async () => {
    const api = await freePort();
    for (const token of ['lst_abc\ndef', 'lst_ünïcode']) {
      const r = await runCli(['status', '--endpoints', `http://127.0.0.1:${api}`], { LOCKSTEP_TOKEN: token });
      expect(r.status, JSON.stringify(token)).toBe(1);
      expect(r.stderr).toMatch(/^lockstep: --token \(LOCKSTEP_TOKEN\) must be visible ASCII/);
    }
  }, cliTestTimeout(2));
});
