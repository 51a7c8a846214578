// One node per --data: a second `serve` on a data directory a running node
// holds exits 1 and touches nothing (two nodes on one log would corrupt it:
// the file engine had no lock, so both ran); once that node is gone, even by
// kill -9, the directory is taken over. Ports 24201/24211 and 24202/24212.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_LOCK_FILE } from '../../src/cli/data-lock.js';
import { pollFor, START_WAIT_MS } from '../../src/harness/local-cluster.js';
import { ServeProcess } from '../../src/harness/serve-process.js';
import { TEST_CLI } from '../node/support/proc-cluster.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-data-lock-'));
const data = path.join(dir, 'n1');
const serve = (api: number, peer: number): ServeProcess =>
  new ServeProcess({
    flags: { id: 'n1', api: `127.0.0.1:${api}`, peer: `127.0.0.1:${peer}`, peers: `n1=127.0.0.1:${peer}`, data, heartbeatMs: 50, electionMs: 500, logLevel: 'info' },
    cli: TEST_CLI,
    output: 'capture',
  });
const first = serve(24201, 24211);
const second = serve(24202, 24212);

afterAll(async () => {
  await first.close();
  await second.close();
  rmSync(dir, { recursive: true, force: true });
});

const answers = async (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);

describe('serve on a data directory a running node holds', () => {
  it('is refused (exit 1), and taken over once that node was killed', async () => {
    first.start();
    await pollFor(async () => ((await answers(24201)) ? true : null), START_WAIT_MS, () => 'the first node answering');
    const lockFile = path.join(data, DATA_LOCK_FILE);
    expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${first.pid} `));

    const refused = await runCli(['serve', '--id', 'n1', '--api', '127.0.0.1:24202', '--peer', '127.0.0.1:24212', '--peers', 'n1=127.0.0.1:24212', '--data', data]);
    expect(refused.status, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`--data ${data} is in use by a running node (pid ${first.pid}`);
    expect(await answers(24201)).toBe(true);

    await first.kill();
    second.start();
    await pollFor(async () => ((await answers(24202)) || !second.running ? true : null), START_WAIT_MS, () => 'the second node answering');
    expect(second.running, second.output.join('')).toBe(true);
    expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${second.pid} `));
    // A clean stop gives the directory back.
    await second.close();
    expect(existsSync(lockFile)).toBe(false);
  }, 2 * START_WAIT_MS + 30_000);
});
