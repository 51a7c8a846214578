// Lock benchmark: lockstep against etcd 3.4, side by side in one run, each a
// 3-node cluster of real processes on loopback with fsync on (LevelStorage
// syncs every write; etcd fsyncs its WAL by default), both driven over HTTP
// with Node's fetch, every request sent to the leader.
//
//   (a) uncontended: N clients, each on its own lock, loop acquire + release;
//       latency of one acquire+release pair (p50/p99) and pairs per second.
//   (b) contended: K clients on ONE lock, each waiting in the queue; each
//       holder releases at once. Handovers per second, and handover latency:
//       from the holder sending its release to the next waiter's acquire
//       returning.
//
// lockstep: a session per client (POST /v1/sessions), POST /v1/locks/{name}/acquire
// {sessionId, waitMs} and /release {fencingToken}. etcd: a lease per client
// (/v3/lease/grant), then its gRPC gateway's lock service, /v3/lock/lock
// {name, lease} (waits until held) and /v3/lock/unlock {key} (etcd's own lock
// recipe run inside the server: create a key under the lease, wait for the
// deletion of every earlier key).
//
// Both clusters run side by side for the whole run; each workload is measured
// on one right after the other.
//
//   npx tsc -p tsconfig.build.json && npx tsx scripts/bench-locks.ts [--seconds 5] [--clients 1,32] [--contenders 8] [--systems lockstep,etcd]
//
// Prints a table and one JSON line (prefix "BENCH ").
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../src/harness/local-cluster.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '1,32' },
    contenders: { type: 'string', default: '8' },
    systems: { type: 'string', default: 'lockstep,etcd' },
    'base-port': { type: 'string', default: '17900' },
    'heartbeat-ms': { type: 'string', default: '50' },
    'election-ms': { type: 'string', default: '500' },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
    /** Another build's CLI (e.g. an older commit's dist/cli/main.js) for A/B runs. */
    cli: { type: 'string', default: 'dist/cli/main.js' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENT_LEVELS = values.clients!.split(',').map(Number);
const CONTENDERS = Number(values.contenders);
const SYSTEMS = values.systems!.split(',');
const BASE = Number(values['base-port']);
const HEARTBEAT_MS = values['heartbeat-ms']!;
const ELECTION_MS = values['election-ms']!;
const WARMUP_MS = 500;
const WAIT_MS = 30_000;
const LEASE_TTL_S = 120;
const CLI = resolve(values.cli!);
const STOP_GRACE_MS = 5_000;

/** One lock system as the benchmark sees it. */
interface LockSystem {
  name: string;
  /** Per-client setup (a session or a lease); returns the client's handle. */
  client(): Promise<string>;
  /** Returns a release token once held (waits up to WAIT_MS when waitMs > 0); null if not acquired. */
  acquire(client: string, lock: string, wait: boolean): Promise<string | null>;
  release(client: string, lock: string, token: string): Promise<void>;
}

interface Stats {
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function stats(latencies: number[], failed: number): Stats {
  latencies.sort((a, b) => a - b);
  const r = (x: number): number => Number(x.toFixed(2));
  return {
    count: latencies.length,
    perSecond: Math.round(latencies.length / SECONDS),
    p50Ms: r(percentile(latencies, 50)),
    p99Ms: r(percentile(latencies, 99)),
    maxMs: r(latencies.at(-1) ?? NaN),
    failed,
  };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

// ---- lockstep ---------------------------------------------------------------

function lockstepSystem(url: string): LockSystem {
  return {
    name: 'lockstep',
    async client() {
      const r = await postJson(`${url}/v1/sessions`, { ttlMs: LEASE_TTL_S * 1000 });
      if (r.status !== 201) throw new Error(`session create: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.sessionId as string;
    },
    async acquire(sessionId, lock, wait) {
      const r = await postJson(`${url}/v1/locks/${lock}/acquire`, { sessionId, waitMs: wait ? WAIT_MS : 0 });
      if (r.status !== 200) throw new Error(`acquire: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.acquired ? String(r.json.fencingToken) : null;
    },
    async release(_sessionId, lock, token) {
      const r = await postJson(`${url}/v1/locks/${lock}/release`, { fencingToken: Number(token) });
      if (r.status !== 200) throw new Error(`release: ${r.status} ${JSON.stringify(r.json)}`);
    },
  };
}

async function startLockstep(dir: string, clusters: LocalCluster[]): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p tsconfig.build.json first`);
  const cluster = new LocalCluster({
    size: 3,
    basePort: BASE,
    peerPortOffset: 50,
    dataDir: dir,
    cli: CLI,
    flags: { heartbeatMs: Number(HEARTBEAT_MS), electionMs: Number(ELECTION_MS), logLevel: 'warn' },
    output: 'stderr',
  });
  clusters.push(cluster);
  cluster.startAll();
  return cluster.url(await cluster.waitForLeader());
}

// ---- etcd ---------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function etcdSystem(url: string): LockSystem {
  return {
    name: 'etcd',
    async client() {
      const r = await postJson(`${url}/v3/lease/grant`, { TTL: LEASE_TTL_S });
      if (r.status !== 200 || !r.json.ID) throw new Error(`lease grant: ${r.status} ${JSON.stringify(r.json)}`);
      return String(r.json.ID);
    },
    async acquire(lease, lock) {
      // /v3/lock/lock always waits until held; uncontended it returns at once.
      const r = await postJson(`${url}/v3/lock/lock`, { name: b64(lock), lease });
      if (r.status !== 200 || typeof r.json.key !== 'string') throw new Error(`lock: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.key;
    },
    async release(_lease, _lock, key) {
      const r = await postJson(`${url}/v3/lock/unlock`, { key });
      if (r.status !== 200) throw new Error(`unlock: ${r.status} ${JSON.stringify(r.json)}`);
    },
  };
}

async function startEtcd(root: string, procs: ChildProcess[]): Promise<string> {
  const etcd = values.etcd!;
  if (!existsSync(etcd)) throw new Error(`${etcd} missing: apt-get install -y etcd-server`);
  const names = ['e1', 'e2', 'e3'];
  const client = (k: number): number => BASE + 20 + k + 1;
  const peer = (k: number): number => BASE + 70 + k + 1;
  const cluster = names.map((n, k) => `${n}=http://127.0.0.1:${peer(k)}`).join(',');
  for (const [k, name] of names.entries()) {
    procs.push(
      spawn(
        etcd,
        [
          '--name', name,
          '--data-dir', join(root, name),
          '--listen-client-urls', `http://127.0.0.1:${client(k)}`,
          '--advertise-client-urls', `http://127.0.0.1:${client(k)}`,
          '--listen-peer-urls', `http://127.0.0.1:${peer(k)}`,
          '--initial-advertise-peer-urls', `http://127.0.0.1:${peer(k)}`,
          '--initial-cluster', cluster,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', 'bench-locks',
          '--heartbeat-interval', HEARTBEAT_MS,
          '--election-timeout', ELECTION_MS,
          '--logger', 'zap',
          '--log-level', 'error',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const views = await Promise.all(
      names.map(async (_, k) => {
        try {
          const res = await fetch(`http://127.0.0.1:${client(k)}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
          if (!res.ok) return null;
          const st = (await res.json()) as { leader?: string; header?: { member_id?: string } };
          return st.leader && st.leader !== '0' ? { leader: st.leader, self: st.header?.member_id, k } : null;
        } catch {
          return null;
        }
      }),
    );
    const me = views.find((v) => v && v.leader === v.self);
    if (me && views.every((v) => v && v.leader === me.leader)) return `http://127.0.0.1:${client(me.k)}`;
    await sleep(100);
  }
  throw new Error('etcd: no leader within 30 s');
}

// ---- workloads ----------------------------------------------------------------

async function uncontended(sys: LockSystem, clients: number): Promise<Stats> {
  const handles = await Promise.all(Array.from({ length: clients }, () => sys.client()));
  const latencies: number[] = [];
  let failed = 0;
  const startAt = performance.now() + WARMUP_MS;
  const endAt = startAt + SECONDS * 1000;
  await Promise.all(
    handles.map(async (h, i) => {
      const lock = `bench-u-${clients}-${i}`;
      while (performance.now() < endAt) {
        const t0 = performance.now();
        let ok = false;
        try {
          const token = await sys.acquire(h, lock, false);
          if (token !== null) {
            await sys.release(h, lock, token);
            ok = true;
          }
        } catch (err) {
          if (failed === 0) console.error(`${sys.name}: ${(err as Error).message}`);
        }
        const t1 = performance.now();
        if (t0 < startAt || t1 > endAt) continue;
        if (ok) latencies.push(t1 - t0);
        else failed++;
      }
    }),
  );
  return stats(latencies, failed);
}

async function contended(sys: LockSystem, contenders: number): Promise<Stats> {
  const handles = await Promise.all(Array.from({ length: contenders }, () => sys.client()));
  const lock = `bench-hot-${contenders}`;
  const latencies: number[] = [];
  let failed = 0;
  /** When the last holder sent its release: the next acquire to return is the handover. */
  let releaseSentAt: number | null = null;
  const startAt = performance.now() + WARMUP_MS;
  const endAt = startAt + SECONDS * 1000;
  await Promise.all(
    handles.map(async (h) => {
      while (performance.now() < endAt) {
        let token: string | null;
        try {
          token = await sys.acquire(h, lock, true);
        } catch (err) {
          if (failed++ === 0) console.error(`${sys.name}: ${(err as Error).message}`);
          continue;
        }
        const t = performance.now();
        if (token === null) continue;
        if (releaseSentAt !== null && releaseSentAt >= startAt && t <= endAt) latencies.push(t - releaseSentAt);
        releaseSentAt = performance.now();
        try {
          await sys.release(h, lock, token);
        } catch (err) {
          if (failed++ === 0) console.error(`${sys.name}: ${(err as Error).message}`);
        }
      }
    }),
  );
  return stats(latencies, failed);
}

// ---- processes (etcd's; lockstep's are src/harness) -------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SIGTERM, then SIGKILL whatever still runs after a grace period; resolves once all exited. */
async function stopAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((done) => {
          if (p.exitCode !== null || p.signalCode !== null) return done();
          const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
          p.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          p.kill('SIGTERM');
        }),
    ),
  );
}

interface SystemResult {
  system: string;
  uncontended: (Stats & { clients: number })[];
  contended: Stats & { contenders: number };
}

/**
 * Both clusters run for the whole benchmark and each workload is measured on
 * one system right after the other: on a shared machine whose load changes
 * from minute to minute, adjacent windows are the fairest comparison.
 */
async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-locks-'));
  const procs: ChildProcess[] = [];
  const clusters: LocalCluster[] = [];
  const kill = (): void => {
    for (const p of procs) p.kill('SIGKILL');
    for (const c of clusters) void c.destroy();
  };
  process.once('SIGINT', kill);
  const results: SystemResult[] = [];
  try {
    const systems: LockSystem[] = [];
    for (const name of SYSTEMS) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      systems.push(name === 'etcd' ? etcdSystem(await startEtcd(dir, procs)) : lockstepSystem(await startLockstep(dir, clusters)));
    }
    for (const sys of systems) results.push({ system: sys.name, uncontended: [], contended: { contenders: CONTENDERS, ...stats([], 0) } });
    for (const n of CLIENT_LEVELS) {
      for (const [k, sys] of systems.entries()) results[k].uncontended.push({ clients: n, ...(await uncontended(sys, n)) });
    }
    for (const [k, sys] of systems.entries()) results[k].contended = { contenders: CONTENDERS, ...(await contended(sys, CONTENDERS)) };
  } finally {
    process.off('SIGINT', kill);
    await Promise.all([stopAll(procs), ...clusters.map((c) => c.stop(STOP_GRACE_MS))]);
    rmSync(root, { recursive: true, force: true });
  }
  const f = (x: number, w: number): string => (Number.isNaN(x) ? '-' : x.toFixed(2)).padStart(w);
  console.log(`3-node loopback clusters, fsync on, HTTP/JSON to the leader, ${SECONDS}s per row; uncontended rows are acquire+release pairs`);
  console.log('workload                    system       ops/s    p50 ms    p99 ms    max ms  failed');
  const row = (what: string, system: string, r: Stats): void =>
    console.log(`${what.padEnd(27)} ${system.padEnd(9)} ${String(r.perSecond).padStart(8)} ${f(r.p50Ms, 9)} ${f(r.p99Ms, 9)} ${f(r.maxMs, 9)} ${String(r.failed).padStart(7)}`);
  for (const [i, n] of CLIENT_LEVELS.entries()) for (const r of results) row(`acquire+release, ${n} cl`, r.system, r.uncontended[i]);
  for (const r of results) row(`handover, ${CONTENDERS} on 1 lock`, r.system, r.contended);
  console.log('BENCH ' + JSON.stringify({ bench: 'locks', nodes: 3, fsync: true, seconds: SECONDS, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
