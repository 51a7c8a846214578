// The examples as real processes against a real lock server (createLockServer
// over the in-memory node, real clock and lease timer): cron-leader runs the
// job on exactly one copy and another takes over after kill -9; ticket-hold's
// story runs end to end and the order store refuses the stale token;
// transfer's lock sets move money both ways with no deadlock and no lost update.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptionsFromEnv } from '../../examples/client-env.js';
import { LedgerStore, StaleTokenError as LedgerStaleTokenError } from '../../examples/ledger-store.js';
import { OrderStore, StaleTokenError } from '../../examples/order-store.js';
import { startLiveServer, type LiveServer } from '../client/live-server.js';
import { CLUSTER_START_MS, sourceCluster } from '../node/support/proc-cluster.js';

/** API ports 19501-19503, peer ports 19601-19603 (test/cli uses base 19700). */
const REAL_CLUSTER_BASE_PORT = 19_500;

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const SESSION_TTL_MS = 1500;

let live: LiveServer;
beforeAll(async () => {
  live = await startLiveServer();
});
afterAll(async () => {
  await live.close();
});

interface Line {
  proc: number;
  text: string;
}

function start(script: string, args: string[], lines: Line[], proc: number, endpoints: string = live.url, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLES + script, ...args], {
    env: { ...process.env, LOCKSTEP_ENDPOINTS: endpoints, LOCKSTEP_TOKEN: '', LOCKSTEP_CA: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const text of parts) lines.push({ proc, text });
  });
  child.stderr!.on('data', (d: Buffer) => lines.push({ proc, text: `stderr: ${d.toString()}` }));
  return child;
}

async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const field = (text: string, key: string): string | undefined => new RegExp(`\\b${key}=(\\S+)`).exec(text)?.[1];

describe('cron-leader', () => {
  it('runs the job on exactly one copy; after kill -9 of the leader another takes over', async () => {
    await cronScenario(live.url);
  });

  it('on a real 3-node cluster too, with the Raft leader killed along with the job leader', async () => {
    const cluster = await sourceCluster(3, REAL_CLUSTER_BASE_PORT);
    try {
      await cronScenario(cluster.endpoints.join(','), async () => {
        await cluster.kill(await cluster.waitForLeader());
        // A TTL well above a Raft failover (election-ms 500), so the survivors' sessions ride it out.
      }, 3 * SESSION_TTL_MS);
    } finally {
      await cluster.destroy();
    }
  }, CLUSTER_START_MS + 60_000);
});

async function cronScenario(endpoints: string, alsoKill: () => Promise<void> = async () => undefined, ttlMs = SESSION_TTL_MS): Promise<void> {
  {
    const lines: Line[] = [];
    const procs = ['a', 'b', 'c'].map((id, i) => start('cron-leader.ts', ['--id', id, '--ttl-ms', String(ttlMs), '--interval-ms', '100'], lines, i, endpoints));
    try {
      await until(() => lines.filter((l) => l.text.startsWith('run ')).length >= 5, 'five runs');
      const runs = () => lines.filter((l) => l.text.startsWith('run '));
      const first = runs();
      // Exactly one copy runs the job.
      expect(new Set(first.map((l) => l.proc)).size).toBe(1);
      const leaderProc = first[0].proc;
      const leaderTerm = Number(field(first[0].text, 'term'));
      // The example names its own process (the README's failover steps kill that pid, not npx's wrapper).
      const leaderPid = Number(field(first[0].text, 'pid'));
      expect(leaderPid).toBe(procs[leaderProc].pid);
      const before = lines.length;
      process.kill(leaderPid, 'SIGKILL');
      const killedAtMs = Date.now();
      await alsoKill();
      await until(() => lines.slice(before).some((l) => l.text.startsWith('run ') && l.proc !== leaderProc), 'a new leader to run the job');
      const tookOverMs = Date.now() - killedAtMs;
      const after = lines.slice(before).filter((l) => l.text.startsWith('run ') && l.proc !== leaderProc);
      // One new leader, with a larger term (the fencing token moved forward).
      expect(new Set(after.map((l) => l.proc)).size).toBe(1);
      expect(Number(field(after[0].text, 'term'))).toBeGreaterThan(leaderTerm);
      // Liveness, not speed: the stated bound is ttl + the expiry check (+ an election timeout on a real cluster); allow far more.
      expect(tookOverMs).toBeLessThan(ttlMs * 10);
      // Let it run a while: still exactly one runner.
      const mark = lines.length;
      await until(() => lines.slice(mark).filter((l) => l.text.startsWith('run ')).length >= 3, 'three more runs');
      expect(new Set(lines.slice(mark).filter((l) => l.text.startsWith('run ')).map((l) => l.proc)).size).toBe(1);
    } finally {
      for (const p of procs) p.kill('SIGKILL');
    }
  }
}

describe('ticket-hold', () => {
  it('tells the story and refuses the stale write', async () => {
    const lines: Line[] = [];
    const child = start('ticket-hold.ts', [], lines, 0);
    const status = await new Promise<number | null>((r) => child.on('exit', r));
    const text = lines.map((l) => l.text).join('\n');
    expect(text).not.toContain('stderr:');
    expect(status).toBe(0);
    expect(text).toMatch(/alice holds ticket:abc token=\d+ for 10 min/);
    expect(text).toContain('bob is told ticket:abc is taken');
    expect(text).toMatch(/carol wakes and writes with token=\d+: REFUSED/);
    expect(text).toMatch(/orders: alice#\d+, dave#\d+/);
  });
});

describe('the examples reach a cluster as the CLI does', () => {
  // After `cluster up` with auth on prints `export LOCKSTEP_TOKEN=...`, the CLI works and the
  // examples answered 401: they read LOCKSTEP_ENDPOINTS only (found on the README walk-through).
  it('ticket-hold takes LOCKSTEP_TOKEN on a server with auth on', async () => {
    const root = 'examples-root-token-0123456789';
    const authed = await startLiveServer({ authToken: root });
    try {
      const lines: Line[] = [];
      const child = start('ticket-hold.ts', [], lines, 0, authed.url, { LOCKSTEP_TOKEN: root });
      const status = await new Promise<number | null>((r) => child.on('exit', r));
      const text = lines.map((l) => l.text).join('\n');
      expect(text).not.toContain('stderr:');
      expect(status).toBe(0);
      expect(text).toMatch(/orders: alice#\d+, dave#\d+/);
    } finally {
      await authed.close();
    }
  });

  it('clientOptionsFromEnv: the CLI\'s variables, https:// defaults with LOCKSTEP_CA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-examples-env-'));
    try {
      const ca = join(dir, 'ca.crt');
      writeFileSync(ca, 'PEM');
      expect(clientOptionsFromEnv({})).toEqual({ endpoints: ['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003'] });
      const tls = clientOptionsFromEnv({ LOCKSTEP_CA: ca, LOCKSTEP_TOKEN: 'lst_x' });
      expect(tls.endpoints).toEqual(['https://127.0.0.1:7001', 'https://127.0.0.1:7002', 'https://127.0.0.1:7003']);
      expect(tls.token).toBe('lst_x');
      expect(String(tls.tls?.ca)).toBe('PEM');
      expect(clientOptionsFromEnv({ LOCKSTEP_ENDPOINTS: 'https://a:1,https://b:2' }).endpoints).toEqual(['https://a:1', 'https://b:2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('transfer', () => {
  it('one lock at a time deadlocks (refused); lock sets move money both ways with no deadlock and no lost update; a paused write is refused', async () => {
    const lines: Line[] = [];
    const child = start('transfer.ts', ['--workers', '6', '--transfers', '10', '--accounts', '3', '--prefix', 'ex'], lines, 0);
    const status = await new Promise<number | null>((r) => child.on('exit', r));
    const text = lines.map((l) => l.text).join('\n');
    expect(text).not.toContain('stderr:');
    expect(status).toBe(0);
    expect(text).toMatch(/y asks for ex:lock-a: 409 deadlock, cycle ex:lock-a -> ex:lock-b/);
    expect(text).toMatch(/lock sets: 6 workers made \d+ transfers between 3 accounts .* no deadlock/);
    expect(text).toContain('total 3000 before and after; every balance equals its opening plus its transfers: no lost update');
    expect(text).toMatch(/the paused transfer wakes and writes with token \d+: REFUSED/);
    expect(text).toMatch(/1 stale write\(s\) refused/);
  });
});

describe('LedgerStore', () => {
  it('refuses older tokens per account; unguarded read-modify-writes that interleave lose an update (what the locks prevent)', async () => {
    const s = new LedgerStore({ a: 100 });
    await s.write('a', 90, 5);
    await expect(s.write('a', 80, 4)).rejects.toBeInstanceOf(LedgerStaleTokenError);
    expect(s.refused).toBe(1);
    const add = async (n: number, token: number) => {
      const balance = await s.read('a');
      await s.write('a', balance + n, token);
    };
    await Promise.all([add(10, 6), add(20, 7)]);
    expect(s.snapshot().a).not.toBe(120);
  });
});

describe('OrderStore', () => {
  it('accepts equal or newer tokens and refuses older ones per ticket', () => {
    const s = new OrderStore();
    s.write({ ticket: 't', user: 'a', fencingToken: 5 });
    s.write({ ticket: 't', user: 'a', fencingToken: 5 });
    s.write({ ticket: 't', user: 'b', fencingToken: 9 });
    expect(() => s.write({ ticket: 't', user: 'a', fencingToken: 5 })).toThrow(StaleTokenError);
    s.write({ ticket: 'u', user: 'a', fencingToken: 1 });
    expect(s.orders.map((o) => o.fencingToken)).toEqual([5, 5, 9, 1]);
  });
});
