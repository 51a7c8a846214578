// The two systems as the benchmark sees them: a 3-node cluster of real
// processes (pids for /proc, kill -9 and restart of one node) and the lock
// API the workloads call, each over the same BenchHttp client.
//
// lockstep: a session per client (POST /v1/sessions), POST /v1/locks/{name}/acquire
// {sessionId, waitMs} and /release {fencingToken}, POST /v1/sessions/{id}/keepalive.
// etcd 3.4: a lease per client (/v3/lease/grant), its gRPC gateway's lock
// service /v3/lock/lock {name, lease} (waits until held; etcd's own lock recipe
// run inside the server) and /v3/lock/unlock {key}, /v3/lease/keepalive {ID}.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serveArgs } from '../../src/harness/serve-process.js';
import type { ClusterCerts } from '../../src/tls/cluster-certs.js';
import type { BenchHttp } from './http.js';

/** The lock operations a workload may call; `url` is the node the client picked. */
export interface LockApi {
  /** Per-client setup (a session or a lease) with this TTL; returns the client's handle. */
  session(http: BenchHttp, url: string, ttlS: number, timeoutMs: number): Promise<string>;
  /** A release token once held; null if not acquired (try-once only). `waitMs` 0 is try-once. */
  acquire(http: BenchHttp, url: string, session: string, lock: string, waitMs: number, timeoutMs: number): Promise<string | null>;
  release(http: BenchHttp, url: string, session: string, lock: string, token: string, timeoutMs: number): Promise<void>;
  /**
   * Several locks, waiting until all are held: one release token per lock, in
   * the order of `locks`. lockstep: one lock-set request; etcd: the way its
   * users do it, one lock at a time in sorted name order (a fixed order, so
   * no deadlock), holding the first while waiting for the next. `next` picks
   * the node of each request.
   */
  acquireSet(http: BenchHttp, next: () => string, session: string, locks: string[], waitMs: number, timeoutMs: number): Promise<string[]>;
  /** Releases what acquireSet took (tokens in the order of `locks`). */
  releaseSet(http: BenchHttp, next: () => string, session: string, locks: string[], tokens: string[], timeoutMs: number): Promise<void>;
  keepalive(http: BenchHttp, url: string, session: string, timeoutMs: number): Promise<void>;
  /**
   * Who holds `lock`, read linearizably; fails unless exactly one holder is seen (the reading
   * client holds it). lockstep: GET /v1/locks/{name}; etcd: the range read its lock users make
   * to see the holder (the first key under `name/` by create revision).
   */
  holder(http: BenchHttp, url: string, lock: string, timeoutMs: number): Promise<void>;
  /** Ends the session or lease; its holds are released. */
  endSession(http: BenchHttp, url: string, session: string, timeoutMs: number): Promise<void>;
}

/** A running 3-node cluster. Node k is endpoints[k] and pid(k). */
export interface Cluster {
  readonly endpoints: string[];
  pid(k: number): number | null;
  /** The index of the node every running node agrees leads, or null. */
  leader(http: BenchHttp): Promise<number | null>;
  /** The highest Raft term any running node reports (NaN if none answers): a term that moves under load means elections. */
  term(http: BenchHttp): Promise<number>;
  kill(k: number): Promise<void>;
  restart(k: number): void;
  stop(): Promise<void>;
}

function highest(terms: (number | null)[]): number {
  const known = terms.filter((t): t is number => t !== null && Number.isFinite(t));
  return known.length === 0 ? NaN : Math.max(...known);
}

export interface BenchSystem {
  name: string;
  api: LockApi;
  cluster: Cluster;
}

export interface LaunchOptions {
  root: string;
  basePort: number;
  heartbeatMs: string;
  electionMs: string;
  /** Extra `lockstep serve` flags (e.g. --log-level). */
  lockstepFlags: string[];
  /** Node.js flags for every lockstep process (e.g. --cpu-prof --cpu-prof-dir DIR). */
  nodeFlags: string[];
  cli: string;
  etcd: string;
}

const STOP_GRACE_MS = 5_000;
const LEADER_WAIT_MS = 30_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A refusal by a server: `code` is what the failure counts are keyed by ("release: 409 not_holder"). */
export class BenchRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The error code in a refusal's body: lockstep's {error: {code}}, etcd's gateway {error: "..."} or {code: n}. */
function errorCodeOf(json: unknown): string {
  const body = json as { error?: unknown; code?: unknown } | null;
  const nested = (body?.error as { code?: unknown } | undefined)?.code;
  if (typeof nested === 'string') return nested;
  if (typeof body?.error === 'string') return body.error.slice(0, 60);
  return body?.code === undefined ? '-' : String(body.code);
}

function expect(ok: boolean, what: string, status: number, json: unknown): void {
  if (!ok) throw new BenchRefusal(`${what}: ${status} ${errorCodeOf(json)}`, `${what}: ${status} ${JSON.stringify(json).slice(0, 300)}`);
}

/** Processes started from argv lists, each restartable with the same argv. */
class Processes {
  private readonly procs: (ChildProcess | null)[];
  constructor(
    private readonly command: string,
    private readonly argvs: string[][],
  ) {
    this.procs = argvs.map(() => null);
    for (let k = 0; k < argvs.length; k++) this.restart(k);
  }
  pid(k: number): number | null {
    const p = this.procs[k];
    return p && p.exitCode === null && p.signalCode === null ? (p.pid ?? null) : null;
  }
  restart(k: number): void {
    this.procs[k] = spawn(this.command, this.argvs[k], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  async kill(k: number): Promise<void> {
    const p = this.procs[k];
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((done) => {
      p.once('exit', () => done());
      p.kill('SIGKILL');
    });
  }
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((done) => {
            if (!p || p.exitCode !== null || p.signalCode !== null) return done();
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
}

/** Polls until every running node agrees on one leader. */
export async function waitForLeader(http: BenchHttp, cluster: Cluster, name: string, timeoutMs = LEADER_WAIT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const k = await cluster.leader(http);
    if (k !== null) return k;
    await sleep(50);
  }
  throw new Error(`${name}: no leader within ${timeoutMs} ms`);
}

// ---- lockstep -------------------------------------------------------------------

export const lockstepApi: LockApi = {
  async session(http, url, ttlS, timeoutMs) {
    const r = await http.post(`${url}/v1/sessions`, { ttlMs: ttlS * 1000 }, timeoutMs);
    expect(r.status === 201, 'session create', r.status, r.json);
    return r.json.sessionId as string;
  },
  async acquire(http, url, sessionId, lock, waitMs, timeoutMs) {
    const r = await http.post(`${url}/v1/locks/${lock}/acquire`, { sessionId, waitMs }, timeoutMs);
    expect(r.status === 200, 'acquire', r.status, r.json);
    return r.json.acquired ? String(r.json.fencingToken) : null;
  },
  async release(http, url, _sessionId, lock, token, timeoutMs) {
    const r = await http.post(`${url}/v1/locks/${lock}/release`, { fencingToken: Number(token) }, timeoutMs);
    expect(r.status === 200, 'release', r.status, r.json);
  },
  async acquireSet(http, next, sessionId, locks, waitMs, timeoutMs) {
    const r = await http.post(`${next()}/v1/lock-sets/acquire`, { locks: locks.map((name) => ({ name })), sessionId, waitMs }, timeoutMs);
    expect(r.status === 200 && r.json.acquired === true, 'lock set', r.status, r.json);
    const holds = r.json.holds as Array<{ name: string; fencingToken: number }>;
    return locks.map((name) => String(holds.find((h) => h.name === name)!.fencingToken));
  },
  async releaseSet(http, next, _sessionId, locks, tokens, timeoutMs) {
    const holds = locks.map((name, i) => ({ name, fencingToken: Number(tokens[i]) }));
    const r = await http.post(`${next()}/v1/lock-sets/release`, { holds }, timeoutMs);
    expect(r.status === 200, 'lock set release', r.status, r.json);
  },
  async keepalive(http, url, sessionId, timeoutMs) {
    const r = await http.post(`${url}/v1/sessions/${sessionId}/keepalive`, {}, timeoutMs);
    expect(r.status === 200, 'keepalive', r.status, r.json);
  },
  async holder(http, url, lock, timeoutMs) {
    const r = await http.send('GET', `${url}/v1/locks/${lock}`, undefined, timeoutMs);
    expect(r.status === 200 && (r.json.holders as unknown[]).length === 1, 'lock read', r.status, r.json);
  },
  async endSession(http, url, sessionId, timeoutMs) {
    const r = await http.send('DELETE', `${url}/v1/sessions/${sessionId}`, undefined, timeoutMs);
    expect(r.status === 200 || r.status === 204 || r.status === 404, 'session delete', r.status, r.json);
  },
};

/** `tls`: the nodes serve HTTPS and mutual-TLS peers with these certificates (the lockstep-tls system). */
export function startLockstep(o: LaunchOptions, dir: string, name = 'lockstep', tls: ClusterCerts | null = null): BenchSystem {
  if (!existsSync(o.cli)) throw new Error(`${o.cli} missing: run npm run build first`);
  const ids = ['n1', 'n2', 'n3'];
  const apiPort = (k: number): number => o.basePort + k + 1;
  const peerPort = (k: number): number => o.basePort + 50 + k + 1;
  const peers = ids.map((id, k) => `${id}=127.0.0.1:${peerPort(k)}`).join(',');
  // serve's flags from the one place that spells them (src/harness/serve-process.ts); this file keeps its own process lifecycle.
  const argvs = ids.map((id, k) => [
    ...o.nodeFlags,
    o.cli,
    ...serveArgs({
      id,
      api: `127.0.0.1:${apiPort(k)}`,
      peer: `127.0.0.1:${peerPort(k)}`,
      peers,
      data: join(dir, id),
      heartbeatMs: Number(o.heartbeatMs),
      electionMs: Number(o.electionMs),
      ...(tls === null ? {} : { tlsCert: tls.node(id).cert, tlsKey: tls.node(id).key, tlsCa: tls.ca }),
    }),
    ...o.lockstepFlags,
  ]);
  const procs = new Processes(process.execPath, argvs);
  const endpoints = ids.map((_, k) => `${tls === null ? 'http' : 'https'}://127.0.0.1:${apiPort(k)}`);
  const cluster: Cluster = {
    endpoints,
    pid: (k) => procs.pid(k),
    async leader(http) {
      const views = await Promise.all(endpoints.map((u, k) => (procs.pid(k) === null ? Promise.resolve(undefined) : http.getJson(`${u}/v1/cluster`, 1000))));
      const running = views.filter((v) => v !== undefined);
      const leaders = new Set(running.map((v) => (v ? (v.leader as string | null) : null)));
      const [leader] = [...leaders];
      if (leaders.size !== 1 || !leader) return null;
      const k = ids.indexOf(leader);
      return k >= 0 && procs.pid(k) !== null ? k : null;
    },
    async term(http) {
      const views = await Promise.all(endpoints.map((u, k) => (procs.pid(k) === null ? null : http.getJson(`${u}/v1/cluster`, 1000))));
      return highest(views.map((v) => (v ? Number(v.term) : null)));
    },
    kill: (k) => procs.kill(k),
    restart: (k) => procs.restart(k),
    stop: () => procs.stop(),
  };
  return { name, api: lockstepApi, cluster };
}

// ---- etcd ---------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export const etcdApi: LockApi = {
  async session(http, url, ttlS, timeoutMs) {
    const r = await http.post(`${url}/v3/lease/grant`, { TTL: ttlS }, timeoutMs);
    expect(r.status === 200 && !!r.json.ID, 'lease grant', r.status, r.json);
    return String(r.json.ID);
  },
  async acquire(http, url, lease, lock, _waitMs, timeoutMs) {
    // /v3/lock/lock always waits until held; uncontended it returns at once.
    const r = await http.post(`${url}/v3/lock/lock`, { name: b64(lock), lease }, timeoutMs);
    expect(r.status === 200 && typeof r.json.key === 'string', 'lock', r.status, r.json);
    return r.json.key as string;
  },
  async release(http, url, _lease, _lock, key, timeoutMs) {
    const r = await http.post(`${url}/v3/lock/unlock`, { key }, timeoutMs);
    expect(r.status === 200, 'unlock', r.status, r.json);
  },
  async acquireSet(http, next, lease, locks, waitMs, timeoutMs) {
    const keys = new Map<string, string>();
    try {
      for (const name of [...locks].sort()) keys.set(name, await etcdApi.acquire(http, next(), lease, name, waitMs, timeoutMs) as string);
    } catch (err) {
      // Let go of what is held, as a careful user would, then report the failure.
      await Promise.allSettled([...keys.values()].map((key) => etcdApi.release(http, next(), lease, '', key, timeoutMs)));
      throw err;
    }
    return locks.map((name) => keys.get(name)!);
  },
  async releaseSet(http, next, lease, locks, keys, timeoutMs) {
    await Promise.all(locks.map((name, i) => etcdApi.release(http, next(), lease, name, keys[i], timeoutMs)));
  },
  async keepalive(http, url, lease, timeoutMs) {
    // The gateway's LeaseKeepAlive stream: one request message, one answer, then the body ends.
    const r = await http.post(`${url}/v3/lease/keepalive`, { ID: lease }, timeoutMs);
    const result = r.json.result as { TTL?: string } | undefined;
    expect(r.status === 200 && !!result && Number(result.TTL) > 0, 'lease keepalive', r.status, r.json);
  },
  async holder(http, url, lock, timeoutMs) {
    // etcd's lock keys are `name/<lease hex>`; the holder is the one created first (clientv3 WithFirstCreate).
    const prefix = `${lock}/`;
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const r = await http.post(`${url}/v3/kv/range`, { key: b64(prefix), range_end: b64(end), limit: 1, sort_order: 'ASCEND', sort_target: 'CREATE' }, timeoutMs);
    expect(r.status === 200 && Array.isArray(r.json.kvs) && r.json.kvs.length === 1, 'range', r.status, r.json);
  },
  async endSession(http, url, lease, timeoutMs) {
    const r = await http.post(`${url}/v3/lease/revoke`, { ID: lease }, timeoutMs);
    expect(r.status === 200 || r.status === 404, 'lease revoke', r.status, r.json);
  },
};

export const ETCD_INSTALL = 'apt-get install -y etcd-server (Debian/Ubuntu: etcd 3.4), or pass --etcd PATH';

export function startEtcd(o: LaunchOptions, dir: string): BenchSystem {
  if (!existsSync(o.etcd)) throw new Error(`${o.etcd} missing: ${ETCD_INSTALL}`);
  const names = ['e1', 'e2', 'e3'];
  const clientPort = (k: number): number => o.basePort + 20 + k + 1;
  const peerPort = (k: number): number => o.basePort + 70 + k + 1;
  const initial = names.map((n, k) => `${n}=http://127.0.0.1:${peerPort(k)}`).join(',');
  mkdirSync(dir, { recursive: true });
  const argvs = names.map((name, k) => [
    '--name', name,
    '--data-dir', join(dir, name),
    '--listen-client-urls', `http://127.0.0.1:${clientPort(k)}`,
    '--advertise-client-urls', `http://127.0.0.1:${clientPort(k)}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort(k)}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort(k)}`,
    '--initial-cluster', initial,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', 'bench-locks',
    '--heartbeat-interval', o.heartbeatMs,
    '--election-timeout', o.electionMs,
    '--logger', 'zap',
    '--log-level', 'error',
  ]);
  const procs = new Processes(o.etcd, argvs);
  const endpoints = names.map((_, k) => `http://127.0.0.1:${clientPort(k)}`);
  const cluster: Cluster = {
    endpoints,
    pid: (k) => procs.pid(k),
    async leader(http) {
      const views = await Promise.all(
        endpoints.map(async (u, k) => {
          if (procs.pid(k) === null) return undefined;
          try {
            const r = await http.post(`${u}/v3/maintenance/status`, {}, 1000);
            const header = r.json.header as { member_id?: string } | undefined;
            return r.status === 200 ? { leader: String(r.json.leader ?? '0'), self: String(header?.member_id), k } : null;
          } catch {
            return null;
          }
        }),
      );
      const running = views.filter((v) => v !== undefined);
      const me = running.find((v) => v && v.leader !== '0' && v.leader === v.self);
      return me && running.every((v) => v && v.leader === me.leader) ? me.k : null;
    },
    async term(http) {
      const views = await Promise.all(
        endpoints.map(async (u, k) => {
          if (procs.pid(k) === null) return null;
          try {
            const r = await http.post(`${u}/v3/maintenance/status`, {}, 1000);
            return r.status === 200 ? Number(r.json.raftTerm) : null;
          } catch {
            return null;
          }
        }),
      );
      return highest(views);
    },
    kill: (k) => procs.kill(k),
    restart: (k) => procs.restart(k),
    stop: () => procs.stop(),
  };
  return { name: 'etcd', api: etcdApi, cluster };
}
