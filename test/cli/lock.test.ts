// `lockstep lock NAME -- CMD` as a process against a scripted API.
import { existsSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedPort, startFakeApi, type FakeApi } from './fake-api.js';
import { runCli } from './run-cli.js';
import { defaultOwner } from '../../src/cli/commands/lock.js';

let api: FakeApi;
beforeEach(async () => {
  api = await startFakeApi();
});
afterEach(async () => {
  await api.close();
});

describe('lockstep lock', () => {
  it("runs CMD with the fencing token, releases, and exits with CMD's status", async () => {
    const r = await runCli(['lock', 'job', '--endpoints', api.url, '--', 'sh', '-c', 'echo "token=$LOCKSTEP_FENCING_TOKEN"; exit 3']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('token=100');
    const paths = api.state.requests.map((q) => `${q.method} ${q.path}`);
    expect(paths).toContain('POST /v1/locks/job/release');
    expect(paths).toContain(`DELETE /v1/sessions/${(api.state.requests.find((q) => q.path.endsWith('/acquire'))?.body as { sessionId: string }).sessionId}`);
    const acquire = api.state.requests.find((q) => q.path === '/v1/locks/job/acquire');
    expect(acquire?.idempotencyKey).toBeTruthy();
  });

  it('sends SIGTERM to CMD when the hold is lost, and exits with its status', async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'lockstep-lock-')), 'started');
    // 'started' is printed before the mark appears: the TERM the mark lets loose cannot overtake it.
    const script = `trap "echo got-term; exit 42" TERM; echo started; touch ${mark}; while true; do sleep 0.05; done`;
    const run = runCli(['lock', 'job', '--ttl-ms', '1000', '--endpoints', api.url, '--', 'sh', '-c', script]);
    // Once CMD runs (with its trap set), the server starts refusing keepalives: the session is gone.
    // Generous: process start-up under tsx on a loaded machine can take seconds.
    for (let i = 0; i < 1000 && !existsSync(mark); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(mark)).toBe(true);
    api.state.expireSessions = true;
    const r = await run;
    expect(r.stdout).toContain('started');
    expect(r.stdout).toContain('got-term');
    expect(r.status).toBe(42);
    expect(r.stderr).toMatch(/lost the hold on 'job'/);
  });

  it('exits 1 and says who holds it when the lock is busy and --wait-ms 0', async () => {
    api.state.held.add('job');
    const r = await runCli(['lock', 'job', '--wait-ms', '0', '--endpoints', api.url, '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not acquired/);
    expect(r.stderr).toMatch(/someone/);
  });

  it('exits 1 with advice when no node answers', async () => {
    const port = await closedPort();
    const r = await runCli(['lock', 'job', '--endpoints', `http://127.0.0.1:${port}`, '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no node of http://127.0.0.1:${port} answered`);
    expect(r.stderr).toContain('lockstep cluster up');
  });

  it('reads the endpoints from LOCKSTEP_ENDPOINTS', async () => {
    const r = await runCli(['lock', 'job', '--', 'sh', '-c', 'exit 0'], { LOCKSTEP_ENDPOINTS: api.url });
    expect(r.status).toBe(0);
    expect(api.state.requests.length).toBeGreaterThan(0);
  });

  it('exits 2 on usage errors and 1 on a bad flag value (cli.md: "1 on a failure the user caused (bad flag, ...)")', async () => {
    expect((await runCli(['lock', 'job', '--endpoints', api.url])).status).toBe(2);
    expect((await runCli(['lock', '--endpoints', api.url, '--', 'true'])).status).toBe(2);
    expect((await runCli(['lock', 'job', '--bogus', '--', 'true'])).status).toBe(2);
    const noDashDash = await runCli(['lock', 'job', 'echo', 'hi']);
    expect(noDashDash.status).toBe(2);
    expect(noDashDash.stderr).toContain('lockstep lock job -- echo hi');
    const bad = await runCli(['lock', 'job', '--ttl-ms', 'soon', '--', 'true']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--ttl-ms must be a number/);
    expect((await runCli(['lock', 'job', '--', 'true'], { LOCKSTEP_WAIT_MS: '-5' })).status).toBe(1);
  });

  it('several names: one lock set, every token in $LOCKSTEP_FENCING_TOKENS, released together', async () => {
    const r = await runCli(['lock', 'acct:1', 'acct:2', '--endpoints', api.url, '--', 'sh', '-c', 'echo "names=$LOCKSTEP_LOCK_NAMES tokens=$LOCKSTEP_FENCING_TOKENS one=${LOCKSTEP_FENCING_TOKEN:-none}"']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('names=acct:1 acct:2 tokens=acct:1=100 acct:2=101 one=none');
    const acquire = api.state.requests.find((q) => q.path === '/v1/lock-sets/acquire');
    expect(acquire?.body).toMatchObject({ locks: [{ name: 'acct:1', mode: 'exclusive', limit: 1 }, { name: 'acct:2', mode: 'exclusive', limit: 1 }] });
    expect(acquire?.idempotencyKey).toBeTruthy();
    const release = api.state.requests.find((q) => q.path === '/v1/lock-sets/release');
    expect(release?.body).toEqual({ holds: [{ name: 'acct:1', fencingToken: 100 }, { name: 'acct:2', fencingToken: 101 }] });
    expect(api.state.held.size).toBe(0);
  });

  it('several names with one busy and --wait-ms 0: exit 1 naming what stood in the way, nothing taken', async () => {
    api.state.held.add('acct:2');
    const r = await runCli(['lock', 'acct:1', 'acct:2', '--wait-ms', '0', '--endpoints', api.url, '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/locks 'acct:1', 'acct:2' not acquired within 0ms \(all or nothing\); in the way: 'acct:2' held by token 1 \(someone\)/);
    expect(api.state.held.has('acct:1')).toBe(false);
  });

  it('several names: usage errors say where the command goes; a name twice is refused', async () => {
    const noDashDash = await runCli(['lock', 'a', 'b', 'c']);
    expect(noDashDash.status).toBe(2);
    expect(noDashDash.stderr).toContain('lockstep lock a -- b c');
    expect(noDashDash.stderr).toContain('lockstep lock NAME [NAME...] -- CMD');
    const twice = await runCli(['lock', 'a', 'a', '--endpoints', api.url, '--', 'true']);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/names a lock twice/);
  });

  it('a mistyped flag: "did you mean --endpoints", not parseArgs\' advice about --', async () => {
    const r = await runCli(['lock', 'job', '--endpoint', api.url, '--', 'true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown flag --endpoint; did you mean --endpoints?");
    expect(r.stderr).not.toMatch(/positional argument/);
    expect((await runCli(['lock', 'job', '--zzzz', '--', 'true'])).stderr).toMatch(/unknown flag --zzzz \(see --help\)/);
    expect(api.state.requests).toEqual([]);
  });

  it('--mode shared --limit 3: the error names the CLI flags, not body.limit, and no hint about lock names', async () => {
    const r = await runCli(['lock', 'job', '--mode', 'shared', '--limit', '3', '--endpoints', api.url, '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--limit applies to --mode exclusive only/);
    expect(r.stderr).not.toMatch(/body\.|names are|A-Za-z0-9/);
    expect(api.state.requests).toEqual([]);
  });

  it('--help exits 0 and names the flags', async () => {
    const r = await runCli(['lock', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--wait-ms');
    expect(r.stdout).toContain('LOCKSTEP_FENCING_TOKEN');
  });
});

describe('lockstep lock --owner default', () => {
  it('names the user from the system when $USER and $USERNAME are unset (a container, a cron job)', () => {
    const saved = { USER: process.env.USER, USERNAME: process.env.USERNAME };
    delete process.env.USER;
    delete process.env.USERNAME;
    try {
      expect(defaultOwner()).toBe(`${userInfo().username}@${hostname()}:${process.pid}`);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
  });
});
