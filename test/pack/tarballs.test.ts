// The two packages as users install them (issue 15 item 1): `npm run pack`
// makes lockstep-client-<v>.tgz and lockstep-<v>.tgz; each installs into an
// empty project on this Node (20 in CI) without a single npm warning; the SDK
// brings nothing else with it and talks to a node started from the installed
// CLI; the CLI tarball carries the SDK inside and runs `lockstep --version`.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVED_INSTALL_SCRIPTS, emptyProject, lockLikeRepository, npmWarnings, packBoth, run } from './consumer.js';

/** The single-node cluster the installed SDK talks to: API and peer ports. */
const API_PORT = 24_101;
const PEER_PORT = 24_102;
/** Nothing listens here: the SDK must fail with its own error, not hang or crash. */
const CLOSED_PORT = 24_103;
const INSTALL_TIMEOUT_MS = 180_000;

const APP = `
import { Client, isLockstepError } from 'lockstep-client';
const [endpoint, closed] = process.argv.slice(2);
const client = new Client({ endpoints: [endpoint], totalTimeoutMs: 30_000, maxAttempts: 100 });
const token = await client.withLock('pack:smoke', { ttlMs: 10_000 }, (hold) => hold.fencingToken);
const info = await client.getLock('pack:smoke');
let refused = null;
try {
  await new Client({ endpoints: [closed], totalTimeoutMs: 1_000 }).cluster();
} catch (err) {
  refused = isLockstepError(err) ? err.code : 'not a LockstepError: ' + String(err);
}
console.log(JSON.stringify({ token, heldAfter: info.holders.length, refused }));
`;

let work: string;
let clientTgz: string;
let serverTgz: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lockstep-pack-test-'));
  ({ clientTgz, serverTgz } = await packBoth(join(work, 'tarballs')));
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm run pack', () => {
  it('makes lockstep-client-<v>.tgz and lockstep-<v>.tgz', () => {
    expect(basename(clientTgz)).toMatch(/^lockstep-client-\d+\.\d+\.\d+\.tgz$/);
    expect(basename(serverTgz)).toMatch(/^lockstep-\d+\.\d+\.\d+\.tgz$/);
  });
});

describe('the CLI tarball', () => {
  let cliDir: string;

  beforeAll(async () => {
    cliDir = join(work, 'cli-app');
    emptyProject(cliDir, { dependencies: { lockstep: `file:${basename(serverTgz)}` }, allowScripts: APPROVED_INSTALL_SCRIPTS });
    copyFileSync(serverTgz, join(cliDir, basename(serverTgz)));
    lockLikeRepository(cliDir, join(cliDir, basename(serverTgz)));
  });

  it('installs offline from the npm cache without a warning and runs lockstep --version', async () => {
    const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], cliDir, INSTALL_TIMEOUT_MS);
    expect(install.code, install.stderr).toBe(0);
    expect(npmWarnings(install)).toEqual([]);
    // The SDK came inside the tarball, not from a registry.
    expect(readdirSync(join(cliDir, 'node_modules/lockstep/node_modules'))).toContain('lockstep-client');
    // The license both package.json files name comes with each package.
    expect(readdirSync(join(cliDir, 'node_modules/lockstep'))).toContain('LICENSE');
    expect(readdirSync(join(cliDir, 'node_modules/lockstep/node_modules/lockstep-client'))).toContain('LICENSE');
    const version = await run(join(cliDir, 'node_modules/.bin/lockstep'), ['--version'], cliDir);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^lockstep \d+\.\d+\.\d+$/);
  }, INSTALL_TIMEOUT_MS);

  describe('the SDK tarball', () => {
    let appDir: string;
    let server: ReturnType<typeof startNode> | undefined;

    afterAll(async () => {
      await server?.stop();
    });

    it('installs into an empty project without a warning and brings nothing else', async () => {
      appDir = emptyProject(join(work, 'sdk-app'));
      const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', clientTgz], appDir, INSTALL_TIMEOUT_MS);
      expect(install.code, install.stderr).toBe(0);
      expect(npmWarnings(install)).toEqual([]);
      // No fastify, level, pino, prom-client, msgpackr: the SDK alone.
      expect(readdirSync(join(appDir, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['lockstep-client']);
    }, INSTALL_TIMEOUT_MS);

    it('imports Client, takes a lock on a node of the installed CLI, and fails cleanly on a closed port', async () => {
      server = startNode(join(work, 'cli-app'), join(work, 'node-data'));
      writeFileSync(join(appDir, 'app.mjs'), APP);
      const app = await run(process.execPath, ['app.mjs', `http://127.0.0.1:${API_PORT}`, `http://127.0.0.1:${CLOSED_PORT}`], appDir, 60_000);
      expect(app.code, app.stderr).toBe(0);
      const out = JSON.parse(app.stdout.trim()) as { token: number; heldAfter: number; refused: string };
      expect(out.token).toBeGreaterThan(0);
      expect(out.heldAfter).toBe(0); // withLock released it
      expect(out.refused).toBe('unreachable');
    }, 90_000);
  });
});

describe('the CLI tarball, resolved fresh from the registry', () => {
  it('installs without a warning (no EBADENGINE: the pins reach consumers)', async (ctx) => {
    // Resolving version ranges needs the registry; where there is none (a
    // sandbox without network) this check is not exercised, and says so.
    const ping = await run('npm', ['ping', '--fetch-timeout=5000', '--fetch-retries=0'], work, 15_000);
    if (ping.code !== 0) ctx.skip('not exercised: the npm registry is not reachable from here');
    const dir = emptyProject(join(work, 'fresh-app'), { allowScripts: APPROVED_INSTALL_SCRIPTS });
    const install = await run('npm', ['install', '--no-audit', '--no-fund', serverTgz], dir, INSTALL_TIMEOUT_MS);
    expect(install.code, install.stderr).toBe(0);
    expect(npmWarnings(install)).toEqual([]);
    const version = await run(join(dir, 'node_modules/.bin/lockstep'), ['--version'], dir);
    expect(version.stdout.trim()).toMatch(/^lockstep \d+\.\d+\.\d+$/);
  }, INSTALL_TIMEOUT_MS);
});

/** One `lockstep serve` node of the installed CLI: a one-voter cluster that elects itself. */
function startNode(projectDir: string, dataDir: string) {
  const args = [
    'serve',
    '--id', 'n1',
    '--api', `127.0.0.1:${API_PORT}`,
    '--peer', `127.0.0.1:${PEER_PORT}`,
    '--peers', `n1=127.0.0.1:${PEER_PORT}`,
    '--data', dataDir,
    '--log-level', 'warn',
    '--heartbeat-ms', '50',
    '--election-ms', '300',
  ];
  const proc = spawn(join(projectDir, 'node_modules/.bin/lockstep'), args, { cwd: projectDir, stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
