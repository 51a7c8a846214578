// Who can read a node's --data (security audit): it holds the replicated
// state, session ids among it (capabilities: http-api.md "Session ids and
// fencing tokens stay capabilities"), lock values and owners, and token
// names and hashes. It was made 0755 with its log 0644: every user of the
// machine could read it. Now serve makes it 0700 (as etcd does), and says so
// when an existing one is open to other users.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli } from './run-cli.js';

async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

let dir: string;
const servers: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-data-mode-'));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** serve up to the moment it listens on its API port, which is taken: --data is made, then the node exits 1. */
async function serveOnce(data: string): Promise<{ status: number | null; stdout: string }> {
  const api = await listener();
  const peer = await listener();
  servers.push(api.server);
  await new Promise<void>((r) => peer.server.close(() => r()));
  const r = await runCli(['serve', '--id', 'n1', '--api', `127.0.0.1:${api.port}`, '--peer', `127.0.0.1:${peer.port}`, '--peers', `n1=127.0.0.1:${peer.port}`, '--data', data]);
  return { status: r.status, stdout: r.stdout };
}

describe('serve --data permissions', () => {
  it('a new --data is made readable by its owner only', async () => {
    const data = join(dir, 'n1');
    const r = await serveOnce(data);
    expect(r.status).toBe(1);
    expect(statSync(data).mode & 0o777).toBe(0o700);
  }, cliTestTimeout(1));

  it('an existing --data open to other users earns a warning naming it', async () => {
    const data = join(dir, 'open');
    mkdirSync(data);
    chmodSync(data, 0o755);
    const r = await serveOnce(data);
    expect(r.stdout).toMatch(/"level":40[^\n]*readable by other users/);
    expect(r.stdout).toContain(data);
  }, cliTestTimeout(1));
});
