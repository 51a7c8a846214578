// The benchmark's workloads. Each is `kind-N` (e.g. uncontended-32) made by a
// factory in WORKLOAD_KINDS, so a new row is one new entry there. A workload
// runs one measurement window on one system and returns a Measurement; server
// CPU is read from /proc for every server process at the window's start and
// end, so CPU per op counts every node's work (leader and followers).
import { totalCpuMs, totalSyscalls } from './cpu.js';
import type { BenchHttp } from './http.js';
import { BenchRefusal, type BenchSystem, waitForLeader } from './systems.js';

export interface RunContext {
  http: BenchHttp;
  seconds: number;
  warmupMs: number;
  /** 'all': each client round-robins over every node (the benchmark's rule); 'leader': every request to the leader. */
  target: 'all' | 'leader';
}

export interface Measurement {
  /** Operations completed inside the window, per second. */
  perSecond: number;
  /** Latency of the workload's timed step (see Workload.latency), ms. */
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (all nodes) per operation, ms; NaN where not meaningful. */
  cpuMsPerOp: number;
  /** Read and write system calls of all servers per operation (/proc/<pid>/io); NaN where not meaningful. */
  syscallsPerOp: number;
  /** Operations that failed inside the window. */
  failed: number;
  /** Those failures by cause: "release: 409 not_holder", "timeout", "ECONNRESET", ... */
  failures: Record<string, number>;
  /** failover: the longest time any client went without a success across the kill. */
  gapMs?: number;
  /** How far the Raft term moved during the run (elections); set by the runner. */
  termMoved?: number;
}

export interface Workload {
  id: string;
  /** The table's row label. */
  label: string;
  /** What one operation is (cycle, handoff, keepalive). */
  unit: string;
  /** What p50/p99 time. */
  latency: string;
  /** The figure the table compares: a rate (higher is better), the failover gap or CPU per op (lower is better). */
  headline: 'perSecond' | 'gapMs' | 'cpuMsPerOp';
  run(sys: BenchSystem, ctx: RunContext): Promise<Measurement>;
}

/** Lock and lease TTL for every client of both systems. */
export const LEASE_TTL_S = 120;
/** A waiting acquire's own bound, and the HTTP deadline around it. */
const WAIT_MS = 30_000;
export const REQUEST_TIMEOUT_MS = 10_000;
const SESSION_SETUP_TIMEOUT_MS = 30_000;
const SETUP_ATTEMPTS = 5;
/** The failover row's client timeout (the rule). */
const FAILOVER_CLIENT_TIMEOUT_MS = 500;
const FAILOVER_CLIENTS = 8;
const FAILOVER_BEFORE_MS = 1_500;
const FAILOVER_AFTER_MS = 1_000;
const FAILOVER_MAX_MS = 20_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One client: its session/lease and its place in the round-robin. */
export class BenchClient {
  private turn: number;
  constructor(
    private readonly endpoints: string[],
    readonly index: number,
    public session = '',
  ) {
    this.turn = index;
  }
  /** The next node to send to: the next in turn (round-robin over all nodes). */
  next(): string {
    return this.endpoints[this.turn++ % this.endpoints.length];
  }
}

async function endpointsFor(sys: BenchSystem, ctx: RunContext): Promise<string[]> {
  if (ctx.target === 'all') return sys.cluster.endpoints;
  return [sys.cluster.endpoints[await waitForLeader(ctx.http, sys.cluster, sys.name)]];
}

export async function makeClients(sys: BenchSystem, ctx: RunContext, n: number): Promise<BenchClient[]> {
  const endpoints = await endpointsFor(sys, ctx);
  const clients = Array.from({ length: n }, (_, i) => new BenchClient(endpoints, i));
  await Promise.all(clients.map(async (c) => (c.session = await setUp(() => sys.api.session(ctx.http, c.next(), LEASE_TTL_S, SESSION_SETUP_TIMEOUT_MS)))));
  return clients;
}

let runs = 0;

/**
 * A name part unique to one run of a workload: a hold left behind by an
 * earlier run (a release whose answer was lost: its session lives on for
 * LEASE_TTL_S) must not stand in a later round's way on the same lock name —
 * it made later rounds' try-once acquires fail as "not acquired" and could
 * hand a client an old hold back.
 */
function runTag(): string {
  return `r${++runs}`;
}

/** Ends every client's session or lease (their holds go with them), best effort: nothing lingers into the next run. */
export async function endClients(sys: BenchSystem, ctx: RunContext, clients: BenchClient[]): Promise<void> {
  const ended = await Promise.allSettled(clients.map((c) => sys.api.endSession(ctx.http, c.next(), c.session, SESSION_SETUP_TIMEOUT_MS)));
  const failed = ended.filter((r) => r.status === 'rejected').length;
  if (failed > 0) console.error(`${sys.name}: ${failed} of ${clients.length} sessions not ended (they expire in ${LEASE_TTL_S} s)`);
}

/**
 * Makes `n` clients, runs `body`, ends their sessions. A window longer than a
 * third of the sessions' TTL (term-stability's 10 minutes) keeps them alive
 * meanwhile; before, every session expired 120 s into such a window and the
 * rest of it measured fast 404s, not writes.
 */
async function withClients<T>(sys: BenchSystem, ctx: RunContext, n: number, body: (clients: BenchClient[]) => Promise<T>): Promise<T> {
  const clients = await makeClients(sys, ctx, n);
  const keepAlive = ctx.seconds * 1000 + ctx.warmupMs > SESSION_KEEPALIVE_MS ? keepSessionsAlive(sys, ctx, clients) : null;
  try {
    return await body(clients);
  } finally {
    keepAlive?.stop();
    await endClients(sys, ctx, clients);
  }
}

/** Every third of the TTL, in the background: the load itself never refreshes a session (nor an etcd lease). */
const SESSION_KEEPALIVE_MS = (LEASE_TTL_S * 1000) / 3;

function keepSessionsAlive(sys: BenchSystem, ctx: RunContext, clients: BenchClient[]): { stop(): void } {
  let failures = 0;
  const timer = setInterval(() => {
    for (const c of clients) {
      sys.api.keepalive(ctx.http, c.next(), c.session, REQUEST_TIMEOUT_MS).catch((err: unknown) => {
        if (failures++ === 0) console.error(`${sys.name}: a session keepalive failed: ${(err as Error).message}`);
      });
    }
  }, SESSION_KEEPALIVE_MS);
  return { stop: () => clearInterval(timer) };
}

/** Setup outside the window retries (a second session or lease is harmless; it expires). */
async function setUp<T>(make: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await make();
    } catch (err) {
      if (attempt >= SETUP_ATTEMPTS) throw err;
      console.error(`setup failed (attempt ${attempt}): ${(err as Error).message}`);
    }
  }
}

function serverPids(sys: BenchSystem): number[] {
  return sys.cluster.endpoints.map((_, k) => sys.cluster.pid(k)).filter((p): p is number => p !== null);
}

/** The measurement window: warm-up, then `seconds`; CPU sampled at both edges by timers. */
class Window {
  readonly startAt: number;
  readonly endAt: number;
  private cpuStartMs = NaN;
  private cpuEndMs = NaN;
  private syscallsStart = NaN;
  private syscallsEnd = NaN;
  private readonly timers: NodeJS.Timeout[];
  ops = 0;
  failed = 0;
  readonly failures: Record<string, number> = {};
  /** Causes already printed in full (reportFirst). */
  readonly reported = new Set<string>();
  readonly latencies: number[] = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly pids: number[],
  ) {
    this.startAt = performance.now() + ctx.warmupMs;
    this.endAt = this.startAt + ctx.seconds * 1000;
    this.timers = [
      setTimeout(() => this.sampleStart(), this.startAt - performance.now()),
      setTimeout(() => this.sampleEnd(), this.endAt - performance.now()),
    ];
  }
  private sampleStart(): void {
    this.cpuStartMs = totalCpuMs(this.pids);
    this.syscallsStart = totalSyscalls(this.pids);
  }
  private sampleEnd(): void {
    this.cpuEndMs = totalCpuMs(this.pids);
    this.syscallsEnd = totalSyscalls(this.pids);
  }
  /** One failed operation, counted by its cause. */
  fail(err: unknown): void {
    this.failed++;
    const cause = failureCause(err);
    this.failures[cause] = (this.failures[cause] ?? 0) + 1;
  }
  get open(): boolean {
    return performance.now() < this.endAt;
  }
  inside(t: number): boolean {
    return t >= this.startAt && t <= this.endAt;
  }
  result(): Measurement {
    for (const t of this.timers) clearTimeout(t);
    // A starved event loop may run the edge timers late, after the clients stopped: sample now then.
    if (Number.isNaN(this.cpuEndMs)) this.sampleEnd();
    this.latencies.sort((a, b) => a - b);
    const r2 = (x: number): number => Number(x.toFixed(2));
    const cpu = this.cpuEndMs - this.cpuStartMs;
    return {
      perSecond: Math.round(this.ops / this.ctx.seconds),
      p50Ms: r2(percentile(this.latencies, 50)),
      p99Ms: r2(percentile(this.latencies, 99)),
      cpuMsPerOp: this.ops > 0 ? Number((cpu / this.ops).toFixed(3)) : NaN,
      syscallsPerOp: this.ops > 0 ? Number(((this.syscallsEnd - this.syscallsStart) / this.ops).toFixed(1)) : NaN,
      failed: this.failed,
      failures: this.failures,
    };
  }
}

/** What a failure is counted as: a server's refusal by its code, else the socket error's code, else a timeout. */
export function failureCause(err: unknown): string {
  if (err instanceof BenchRefusal) return err.code;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') return e.code;
  if (/timed out/.test(String(e?.message))) return 'timeout';
  return String(e?.message ?? err).slice(0, 60);
}

/** The failure counts, most frequent first: "release: 409 not_holder ×48012, timeout ×3". */
export function formatFailures(failures: Record<string, number>): string {
  return Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .map(([cause, n]) => `${cause} ×${n}`)
    .join(', ');
}

/** Prints the first failure of each cause in full (the counts only keep its cause). */
function reportFirst(sys: BenchSystem, w: { reported: Set<string> }, err: unknown): void {
  const cause = failureCause(err);
  if (w.reported.has(cause)) return;
  w.reported.add(cause);
  console.error(`${sys.name}: ${(err as Error).message}`);
}

/**
 * Every client runs `step` in a loop until the window closes; a step that
 * starts and ends inside the window counts as one op (latency: what `step`
 * returns) or, if it throws, one failure.
 */
export async function loopInWindow(sys: BenchSystem, ctx: RunContext, clients: BenchClient[], step: (c: BenchClient) => Promise<number>): Promise<Measurement> {
  const w = new Window(ctx, serverPids(sys));
  await Promise.all(
    clients.map(async (c) => {
      while (w.open) {
        const t0 = performance.now();
        let latencyMs: number | null = null;
        let failure: unknown = null;
        try {
          latencyMs = await step(c);
        } catch (err) {
          reportFirst(sys, w, err);
          failure = err;
        }
        if (!w.inside(t0) || !w.inside(performance.now())) continue;
        if (latencyMs === null) w.fail(failure);
        else {
          w.ops++;
          w.latencies.push(latencyMs);
        }
      }
    }),
  );
  return w.result();
}

/** N clients, each on its own lock: try-once acquire, then release. One op = one cycle; latency = the acquire. */
function uncontended(n: number): Workload {
  return {
    id: `uncontended-${n}`,
    label: `uncontended acquire+release, ${n} client${n === 1 ? '' : 's'}`,
    unit: 'cycle',
    latency: 'acquire',
    headline: 'perSecond',
    async run(sys, ctx) {
      const tag = runTag();
      return withClients(sys, ctx, n, (clients) =>
        loopInWindow(sys, ctx, clients, async (c) => {
          const lock = `bench-u-${n}-${tag}-${c.index}`;
          const t0 = performance.now();
          const token = await sys.api.acquire(ctx.http, c.next(), c.session, lock, 0, REQUEST_TIMEOUT_MS);
          const acquireMs = performance.now() - t0;
          if (token === null) throw new BenchRefusal('acquire: not acquired', `${lock} not acquired`);
          await sys.api.release(ctx.http, c.next(), c.session, lock, token, REQUEST_TIMEOUT_MS);
          return acquireMs;
        }),
      );
    },
  };
}

/** N clients on ONE lock, each waiting in line; a holder releases at once. One op = one handoff; latency = release sent → next grant. */
function contended(n: number): Workload {
  return {
    id: `contended-${n}`,
    label: `contended, ${n} clients on one lock`,
    unit: 'handoff',
    latency: 'handover',
    headline: 'perSecond',
    run: (sys, ctx) => withClients(sys, ctx, n, async (clients) => {
      const lock = `bench-hot-${n}-${runTag()}`;
      const w = new Window(ctx, serverPids(sys));
      let releaseSentAt: number | null = null;
      await Promise.all(
        clients.map(async (c) => {
          while (w.open) {
            let token: string | null;
            try {
              token = await sys.api.acquire(ctx.http, c.next(), c.session, lock, WAIT_MS, WAIT_MS + REQUEST_TIMEOUT_MS);
            } catch (err) {
              reportFirst(sys, w, err);
              if (w.open) w.fail(err);
              continue;
            }
            const t = performance.now();
            if (token === null) continue;
            if (w.inside(t)) {
              w.ops++;
              if (releaseSentAt !== null && releaseSentAt >= w.startAt) w.latencies.push(t - releaseSentAt);
            }
            releaseSentAt = performance.now();
            try {
              await sys.api.release(ctx.http, c.next(), c.session, lock, token, REQUEST_TIMEOUT_MS);
            } catch (err) {
              reportFirst(sys, w, err);
              if (w.open) w.fail(err);
            }
          }
        }),
      );
      return w.result();
    }),
  };
}

/** The lock-set row's locks, and how many each set takes. */
const SET_LOCKS = 10;
const SET_SIZE = 3;

function randomSet(prefix: string): string[] {
  const pool = Array.from({ length: SET_LOCKS }, (_, i) => `${prefix}-${i}`);
  const out: string[] = [];
  while (out.length < SET_SIZE) out.push(...pool.splice(Math.floor(Math.random() * pool.length), 1));
  return out;
}

/**
 * N clients, each taking a random set of 3 of 10 locks, waiting until it has
 * all three, then releasing them at once. lockstep takes a set in one request
 * (all or nothing, one place in each line); etcd the way its users do,
 * one lock at a time in sorted name order (systems.ts acquireSet). One op =
 * one set held and released; latency = the wait for the whole set.
 */
function lockSets(n: number): Workload {
  return {
    id: `locksets-${n}`,
    label: `lock sets: ${SET_SIZE} of ${SET_LOCKS} locks, ${n} clients waiting (etcd: one by one, sorted)`,
    unit: 'set',
    latency: 'set wait',
    headline: 'perSecond',
    async run(sys, ctx) {
      const prefix = `bench-set-${n}-${runTag()}`;
      return withClients(sys, ctx, n, (clients) =>
        loopInWindow(sys, ctx, clients, async (c) => {
          const locks = randomSet(prefix);
          const next = () => c.next();
          const t0 = performance.now();
          const tokens = await sys.api.acquireSet(ctx.http, next, c.session, locks, WAIT_MS, WAIT_MS + REQUEST_TIMEOUT_MS);
          const waitMs = performance.now() - t0;
          await sys.api.releaseSet(ctx.http, next, c.session, locks, tokens, REQUEST_TIMEOUT_MS);
          return waitMs;
        }),
      );
    },
  };
}

/** N clients each keeping its own session/lease alive in a loop. One op = one keepalive. */
function keepalive(n: number): Workload {
  return {
    id: `keepalive-${n}`,
    label: `session keepalives, ${n} clients`,
    unit: 'keepalive',
    latency: 'keepalive',
    headline: 'perSecond',
    run: (sys, ctx) =>
      withClients(sys, ctx, n, (clients) =>
        loopInWindow(sys, ctx, clients, async (c) => {
          const t0 = performance.now();
          await sys.api.keepalive(ctx.http, c.next(), c.session, REQUEST_TIMEOUT_MS);
          return performance.now() - t0;
        }),
      ),
  };
}

/** N clients, each holding a lock of its own and reading who holds it (linearizable), again and again. One op = one read. */
function reads(n: number): Workload {
  return {
    id: `reads-${n}`,
    label: `linearizable reads of a held lock, ${n} client${n === 1 ? '' : 's'}`,
    unit: 'read',
    latency: 'read',
    headline: 'perSecond',
    async run(sys, ctx) {
      const tag = runTag();
      return withClients(sys, ctx, n, async (clients) => {
        const lockOf = (c: BenchClient) => `bench-r-${n}-${tag}-${c.index}`;
        await Promise.all(
          clients.map(async (c) => {
            const token = await setUp(() => sys.api.acquire(ctx.http, c.next(), c.session, lockOf(c), 0, SESSION_SETUP_TIMEOUT_MS));
            if (token === null) throw new Error(`${sys.name}: ${lockOf(c)} not acquired for the read workload`);
          }),
        );
        // The holds end with the clients' sessions (endClients).
        return loopInWindow(sys, ctx, clients, async (c) => {
          const t0 = performance.now();
          await sys.api.holder(ctx.http, c.next(), lockOf(c), REQUEST_TIMEOUT_MS);
          return performance.now() - t0;
        });
      });
    },
  };
}

/**
 * kill -9 of the leader process under N uncontended clients (500 ms client
 * timeout, on failure the next node in turn at once). The figure: the longest
 * time any client went from its last success before the kill to its first
 * after. The node is restarted and the cluster waited for afterwards.
 */
function failover(n: number): Workload {
  return {
    id: n === FAILOVER_CLIENTS ? 'failover' : `failover-${n}`,
    label: `kill -9 of the leader, ${n} clients: longest gap`,
    unit: 'cycle',
    latency: 'cycle',
    headline: 'gapMs',
    async run(sys, ctx) {
      const leader = await waitForLeader(ctx.http, sys.cluster, sys.name);
      const clients = await makeClients(sys, { ...ctx, target: 'all' }, n);
      const tag = runTag();
      const lastOk = clients.map(() => performance.now());
      const firstAfter: number[] = clients.map(() => NaN);
      const latencies: number[] = [];
      let failed = 0;
      const failures: Record<string, number> = {};
      let killedAt = Infinity;
      const started = performance.now();
      const done = (): boolean => {
        const now = performance.now();
        if (now - started > FAILOVER_MAX_MS) return true;
        return now > killedAt + FAILOVER_AFTER_MS && firstAfter.every((t) => !Number.isNaN(t));
      };
      const killer = (async () => {
        await new Promise((r) => setTimeout(r, FAILOVER_BEFORE_MS));
        killedAt = performance.now();
        await sys.cluster.kill(leader);
      })();
      await Promise.all(
        clients.map(async (c, i) => {
          const lock = `bench-f-${tag}-${c.index}`;
          while (!done()) {
            const t0 = performance.now();
            try {
              const token = await sys.api.acquire(ctx.http, c.next(), c.session, lock, 0, FAILOVER_CLIENT_TIMEOUT_MS);
              if (token === null) throw new BenchRefusal('acquire: not acquired', `${lock} not acquired`);
              await sys.api.release(ctx.http, c.next(), c.session, lock, token, FAILOVER_CLIENT_TIMEOUT_MS);
            } catch (err) {
              failed++;
              const cause = failureCause(err);
              failures[cause] = (failures[cause] ?? 0) + 1;
              continue;
            }
            const t1 = performance.now();
            latencies.push(t1 - t0);
            if (t1 > killedAt && Number.isNaN(firstAfter[i])) firstAfter[i] = t1 - lastOk[i];
            lastOk[i] = t1;
          }
        }),
      );
      await killer;
      sys.cluster.restart(leader);
      await waitForLeader(ctx.http, sys.cluster, sys.name);
      await endClients(sys, ctx, clients);
      latencies.sort((a, b) => a - b);
      const gaps = firstAfter.filter((g) => !Number.isNaN(g));
      return {
        perSecond: NaN,
        p50Ms: Number(percentile(latencies, 50).toFixed(2)),
        p99Ms: Number(percentile(latencies, 99).toFixed(2)),
        cpuMsPerOp: NaN,
        syscallsPerOp: NaN,
        failed,
        failures,
        // A client that never got through again counts as the whole run.
        gapMs: Math.round(gaps.length === clients.length ? Math.max(...gaps) : FAILOVER_MAX_MS),
      };
    },
  };
}

/**
 * N seconds with no load at all: server CPU per second at rest (the "op" is
 * one second), and, with the runner's term check, whether the term moves
 * (no spurious elections). Not in the default list; e.g. rest-600.
 */
function rest(n: number): Workload {
  const seconds = Number.isNaN(n) ? 10 : n;
  return {
    id: `rest-${seconds}`,
    label: `at rest for ${seconds} s`,
    unit: 'second',
    latency: 'none',
    headline: 'cpuMsPerOp',
    async run(sys, ctx) {
      const w = new Window({ ...ctx, seconds }, serverPids(sys));
      await new Promise((r) => setTimeout(r, w.endAt - performance.now()));
      w.ops = seconds;
      return { ...w.result(), perSecond: NaN };
    },
  };
}

/** `kind-N` → a workload. Add a row kind here (e.g. lock sets) and name it in --workloads. */
export const WORKLOAD_KINDS: Record<string, (n: number) => Workload> = {
  uncontended,
  contended,
  keepalive,
  reads,
  locksets: lockSets,
  failover: (n) => failover(Number.isNaN(n) ? FAILOVER_CLIENTS : n),
  rest,
};

export const DEFAULT_WORKLOADS = 'uncontended-1,uncontended-32,uncontended-128,contended-8,contended-32,keepalive-32,locksets-8,locksets-32,failover';

export function parseWorkloads(spec: string): Workload[] {
  return spec.split(',').map((item) => {
    const m = /^([a-z-]+?)(?:-(\d+))?$/.exec(item.trim());
    const make = m ? WORKLOAD_KINDS[m[1]] : undefined;
    if (!m || !make) throw new Error(`unknown workload ${item}: one of ${Object.keys(WORKLOAD_KINDS).join(', ')} as kind-N`);
    return make(m[2] === undefined ? NaN : Number(m[2]));
  });
}
