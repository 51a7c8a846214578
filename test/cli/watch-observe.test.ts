// lockstep watch / observe against a live server: the stream's first line is
// the state now, then one line per change; Ctrl-C (SIGINT) ends it with 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { startLiveServer, type LiveServer } from '../client/live-server.js';
import { TEST_CLI_ARGS } from '../node/support/proc-cluster.js';
import { runCli } from './run-cli.js';
import { watchLine } from '../../src/cli/commands/watch.js';
import { startFakeApi } from './fake-api.js';

/** Waiting on another process's output: polling interval and bound, not a timing assumption. */
const POLL_MS = 20;
const OUTPUT_WAIT_MS = 20_000;

let live: LiveServer;
let client: Client;
beforeAll(async () => {
  live = await startLiveServer();
  client = new Client({ endpoints: [live.url] });
});
afterAll(async () => {
  await live.close();
});

interface Streamer {
  child: ChildProcess;
  lines(): string[];
  /** Resolves once `count` lines were printed. */
  waitLines(count: number): Promise<string[]>;
  exited: Promise<number | null>;
  stderr(): string;
}

function stream(args: string[]): Streamer {
  const child = spawn(process.execPath, [...TEST_CLI_ARGS, ...args, '--endpoints', live.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = () => out.split('\n').filter((l) => l !== '');
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    async waitLines(count) {
      for (let waited = 0; lines().length < count; waited += POLL_MS) {
        if (waited > OUTPUT_WAIT_MS || child.exitCode !== null) throw new Error(`expected ${count} lines, got:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      return lines();
    },
  };
}

describe('lockstep watch NAME', () => {
  it('prints the state, then acquired / released with the token, and exits 0 on Ctrl-C', async () => {
    const held = await client.acquire('watch:a', { ttlMs: 60_000, owner: 'alice' });
    expect(held.acquired).toBe(true);
    const first = held.acquired ? held.fencingToken : 0;
    const w = stream(['watch', 'watch:a']);
    const [state] = await w.waitLines(1);
    expect(state).toMatch(new RegExp(`^state +held by ${first} \\(alice\\); 0 waiting`));
    await client.release('watch:a', first);
    const second = await client.acquire('watch:a', { ttlMs: 60_000 });
    const token = second.acquired ? second.fencingToken : 0;
    const lines = await w.waitLines(3);
    expect(lines[1]).toMatch(new RegExp(`^released +token ${first} +\\[index \\d+\\]`));
    expect(lines[2]).toMatch(new RegExp(`^acquired +token ${token} +\\[index \\d+\\]`));
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.stderr()).toBe('');
  });

  it('--json prints one JSON object a line', async () => {
    const w = stream(['watch', 'watch:json', '--json']);
    await w.waitLines(1);
    const got = await client.acquire('watch:json', { ttlMs: 60_000 });
    const lines = await w.waitLines(2);
    w.child.kill('SIGINT');
    await w.exited;
    expect(JSON.parse(lines[0])).toMatchObject({ event: 'state', data: { name: 'watch:json', holders: [] } });
    expect(JSON.parse(lines[1])).toMatchObject({ event: 'acquired', data: { name: 'watch:json', fencingToken: got.acquired ? got.fencingToken : -1 } });
  });

  it('a state in lock-delay says for how long, as a duration for people (cli.md)', () => {
    expect(watchLine({ type: 'state', data: { name: 'x', holders: [], waiters: [], lockDelayRemainingMs: 4200, index: 9 } })).toBe('state     free; 0 waiting, in lock-delay for another 4.2s  [index 9]');
  });

  it('a stream ended by an error event (a revoked token) says what to do, as other commands do, not the raw body', async () => {
    const api = await startFakeApi();
    try {
      const r = await runCli(['watch', 'x', '--endpoints', api.url]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^state\s+free/);
      expect(r.stderr).toMatch(/^lockstep: the cluster wants a token \(or a different one, or yours was revoked\): pass --token/);
      expect(r.stderr).not.toContain('{"error"');
    } finally {
      await api.close();
    }
  });

  it('without a NAME, or with two, is a usage error (2); a bad name is 1 with the reason', async () => {
    expect((await runCli(['watch', '--endpoints', live.url])).status).toBe(2);
    expect((await runCli(['watch', 'a', 'b', '--endpoints', live.url])).status).toBe(2);
    const bad = await runCli(['watch', 'bad name', '--endpoints', live.url]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid_argument/);
  });
});

describe('lockstep observe NAME', () => {
  it('prints the leader now, each change, and "no leader" on a vacancy', async () => {
    const o = stream(['observe', 'observe:e']);
    expect((await o.waitLines(1))[0]).toBe('no leader');
    const session = await client.createSession({ ttlMs: 60_000 });
    const won = await client.campaign('observe:e', { sessionId: session.sessionId, value: 'host-a:80' });
    expect(won.elected).toBe(true);
    const term = won.elected ? won.term : 0;
    expect((await o.waitLines(2))[1]).toBe(`leader "host-a:80" term ${term} session ${session.sessionId}`);
    await client.resign('observe:e', term);
    expect((await o.waitLines(3))[2]).toBe('no leader');
    o.child.kill('SIGINT');
    expect(await o.exited).toBe(0);
  });
});
