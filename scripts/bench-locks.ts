// Lock benchmark: lockstep against etcd 3.4 (issue 12), side by side in one
// run on this machine. Each is a 3-node cluster of real processes on loopback
// with fsync on (lockstep's storage syncs every write; etcd fsyncs its WAL),
// default timings and log level. One load generator drives both: node:http
// with a keep-alive Agent, each client round-robin over all three nodes, the
// same lock names and TTLs. The systems are interleaved in rounds (A B, B A,
// ...) so that both see the same machine; server CPU per operation is read
// from /proc/<pid>/stat of every server process. Workloads (scripts/bench/
// workloads.ts, `kind-N`): uncontended acquire+release at 1/32/128 clients,
// contended handoffs at 8/32 clients on one lock, session keepalives at 32,
// lock sets (8/32 clients each waiting for 3 of 10 locks; etcd takes them one
// by one in sorted order, as its users do), and kill -9 of the leader (the longest gap any client saw, 500 ms client
// timeout). Not in the default run: `reads-N` (linearizable reads of who holds a lock; etcd: the
// range read its lock users make).
//
// etcd: Debian/Ubuntu `apt-get install -y etcd-server` (/usr/bin/etcd, 3.4);
// without it the etcd column is skipped with a message.
//
//   npm run bench -- [flags]        (--help lists them)
//
// A/B of a change: --systems lockstep,base runs this build against another
// build's CLI (--base-cli, default .bench-base/dist/cli/main.js: copy dist/
// there before the change), interleaved the same way. A/B of a Node.js flag:
// --base-cli dist/cli/main.js --base-node-flags="--max-semi-space-size=32" runs
// the same build with and without it; --base-lockstep-flags does the same for
// a serve flag (--lockstep-flags="--storage file" --base-lockstep-flags="--storage level").
//
// What TLS costs: --systems lockstep,lockstep-tls runs this build plain
// against itself with TLS on (HTTPS API, mutual-TLS peers, forwarding over
// HTTPS; certificates made under the run's temporary folder), the generator
// speaking HTTPS to it through a keep-alive Agent (a TLS handshake per
// connection, not per request), interleaved the same way.
//
// Run it alone on the machine, inside a network namespace if others use
// loopback ports. Prints the table and one JSON line (prefix "BENCH ").
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BenchHttp } from './bench/http.js';
import { type BenchSystem, ETCD_INSTALL, type LaunchOptions, startEtcd, startLockstep, waitForLeader } from './bench/systems.js';
import { ensureClusterCerts } from '../src/tls/cluster-certs.js';
import { DEFAULT_WORKLOADS, formatFailures, type Measurement, parseWorkloads, type Workload } from './bench/workloads.js';

const USAGE = `npm run bench -- [--seconds 5] [--rounds 3] [--warmup-seconds 10] [--workloads ${DEFAULT_WORKLOADS}]
                 [--systems lockstep,etcd|lockstep,lockstep-tls|lockstep,base] [--target all|leader]
                 [--heartbeat-ms 100] [--election-ms 1000] [--etcd /usr/bin/etcd] [--base-port 23900]
                 [--cli dist/cli/main.js] [--base-cli .bench-base/dist/cli/main.js]
                 [--node-flags="..."] [--lockstep-flags="..."] [--base-node-flags="..."] [--base-lockstep-flags="..."]
Workloads also: reads-1, reads-32, reads-128 (any kind-N). The header of scripts/bench-locks.ts says what each does.`;

const { values } = parseArgsOrUsage({
  options: {
    help: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    /** Unmeasured load on each system before round 1: a server's steady state is JIT-compiled and warm. */
    'warmup-seconds': { type: 'string', default: '10' },
    workloads: { type: 'string', default: DEFAULT_WORKLOADS },
    systems: { type: 'string', default: 'lockstep,etcd' },
    target: { type: 'string', default: 'all' },
    // 23900-24200: away from the test suites' ports (16000-22199), so a bench may run beside a suite.
    'base-port': { type: 'string', default: '23900' },
    // Both systems' defaults (etcd: --heartbeat-interval 100 --election-timeout 1000), passed to both.
    'heartbeat-ms': { type: 'string', default: '100' },
    'election-ms': { type: 'string', default: '1000' },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
    /** Another build's CLI (e.g. an older commit's dist/cli/main.js) for A/B runs. */
    cli: { type: 'string', default: 'dist/cli/main.js' },
    /** The `base` system: lockstep from another build's CLI (A/B of a change, interleaved like etcd). */
    'base-cli': { type: 'string', default: '.bench-base/dist/cli/main.js' },
    /** Extra flags for every lockstep node, space-separated (--lockstep-flags="--log-level warn"). */
    'lockstep-flags': { type: 'string', default: '' },
    /** Node.js flags for every lockstep process, space-separated (--node-flags="--cpu-prof --cpu-prof-dir /tmp/prof"). */
    'node-flags': { type: 'string', default: '' },
    /** Node.js flags for the `base` system's processes instead of --node-flags (A/B of a flag on one build). */
    'base-node-flags': { type: 'string' },
    /** `lockstep serve` flags for the `base` system instead of --lockstep-flags (A/B of a serve flag on one build). */
    'base-lockstep-flags': { type: 'string' },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** A mistyped flag is one line and the usage, not parseArgs' stack trace. */
function parseArgsOrUsage<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    usageError((error as Error).message);
  }
}

function usageError(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

function positive(flag: string, text: string | undefined, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) usageError(`--${flag} must be a number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

const SECONDS = positive('seconds', values.seconds, 1);
const ROUNDS = positive('rounds', values.rounds, 1);
const WARMUP_SECONDS = positive('warmup-seconds', values['warmup-seconds'], 0);
const WARMUP_MS = 500;
if (values.target !== 'all' && values.target !== 'leader') usageError(`--target must be all or leader, got ${JSON.stringify(values.target)}`);
const TARGET: 'all' | 'leader' = values.target;
const workloads = (() => {
  try {
    return parseWorkloads(values.workloads!);
  } catch (error) {
    return usageError((error as Error).message);
  }
})();
const [WARMUP_WORKLOAD] = parseWorkloads('uncontended-32');
const SYSTEMS = ['lockstep', 'etcd', 'lockstep-tls', 'base'];
let systemNames = values.systems!.split(',');
const unknownSystem = systemNames.find((s) => !SYSTEMS.includes(s));
if (unknownSystem !== undefined) usageError(`--systems: unknown system ${JSON.stringify(unknownSystem)} (one or two of ${SYSTEMS.join(', ')})`);
if (systemNames.includes('etcd') && !existsSync(values.etcd!)) {
  console.error(`etcd: ${values.etcd} not found, running lockstep alone (to compare: ${ETCD_INSTALL})`);
  systemNames = systemNames.filter((s) => s !== 'etcd');
}

type Results = Record<string, Record<string, Measurement[]>>;

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[], digits: number): string => {
  const s = xs.filter((x) => !Number.isNaN(x));
  if (s.length === 0) return '-';
  const lo = Math.min(...s).toFixed(digits);
  const hi = Math.max(...s).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

function headline(w: Workload, m: Measurement): number {
  return w.headline === 'gapMs' ? (m.gapMs ?? NaN) : w.headline === 'cpuMsPerOp' ? m.cpuMsPerOp : m.perSecond;
}

const HEADLINE_NAMES: Record<Workload['headline'], string> = { perSecond: 'throughput', gapMs: 'gap', cpuMsPerOp: 'CPU' };

function printTable(results: Results): void {
  const names = systemNames;
  const cell = (w: Workload, ms: Measurement[] | undefined): string => {
    if (!ms || ms.length === 0) return '-';
    const main =
      w.headline === 'gapMs'
        ? `${range(ms.map((m) => m.gapMs ?? NaN), 0)} ms`
        : w.headline === 'perSecond'
          ? `${range(ms.map((m) => m.perSecond), 0)}/s`
          : `term moved by ${range(ms.map((m) => m.termMoved ?? NaN), 0)}`;
    const cpu = ms.some((m) => !Number.isNaN(m.cpuMsPerOp)) ? `, CPU ${range(ms.map((m) => m.cpuMsPerOp), 2)} ms/${w.unit}` : '';
    const lat = w.headline === 'perSecond' ? `, ${w.latency} p50 ${range(ms.map((m) => m.p50Ms), 2)} ms p99 ${range(ms.map((m) => m.p99Ms), 2)} ms` : '';
    return main + lat + cpu;
  };
  console.log(`\n3-node clusters on loopback, fsync on, ${TARGET === 'all' ? 'clients round-robin over all nodes' : 'every request to the leader'}, ${SECONDS} s windows, ${ROUNDS} rounds (ranges are min–max over rounds; ratios of medians)\n`);
  console.log(`| workload | ${names.join(' | ')} |${names.length === 2 ? ` ${names[0]} / ${names[1]} |` : ''}`);
  console.log(`|---|${names.map(() => '---|').join('')}${names.length === 2 ? '---|' : ''}`);
  for (const w of workloads) {
    const per = names.map((n) => results[w.id]?.[n] ?? []);
    let ratio = '';
    if (names.length === 2) {
      const h = per.map((ms) => median(ms.map((m) => headline(w, m))));
      const c = per.map((ms) => median(ms.map((m) => m.cpuMsPerOp)));
      const p = per.map((ms) => median(ms.map((m) => m.p50Ms)));
      const parts = w.headline === 'cpuMsPerOp' ? [] : [`${(h[0] / h[1]).toFixed(2)}× ${HEADLINE_NAMES[w.headline]}`];
      if (w.headline === 'perSecond') parts.push(`${(p[0] / p[1]).toFixed(2)}× p50`);
      if (!Number.isNaN(c[0]) && !Number.isNaN(c[1])) parts.push(`${(c[0] / c[1]).toFixed(2)}× CPU/${w.unit}`);
      ratio = ` ${parts.join(', ')} |`;
    }
    console.log(`| ${w.label} | ${per.map((ms) => cell(w, ms)).join(' | ')} |${ratio}`);
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-locks-'));
  const tlsCerts = systemNames.includes('lockstep-tls') ? await ensureClusterCerts(join(root, 'lockstep-tls', 'certs'), ['n1', 'n2', 'n3']) : null;
  const http = new BenchHttp(tlsCerts === null ? undefined : readFileSync(tlsCerts.ca));
  const launch: LaunchOptions = {
    root,
    basePort: Number(values['base-port']),
    heartbeatMs: values['heartbeat-ms']!,
    electionMs: values['election-ms']!,
    lockstepFlags: values['lockstep-flags']!.split(' ').filter((s) => s.length > 0),
    nodeFlags: values['node-flags']!.split(' ').filter((s) => s.length > 0),
    cli: resolve(values.cli!),
    etcd: values.etcd!,
  };
  const systems: BenchSystem[] = [];
  const stopAll = () => Promise.all(systems.map((s) => s.cluster.stop()));
  const onSigint = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSigint);
  const results: Results = {};
  try {
    for (const name of systemNames) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const sys =
        name === 'etcd'
          ? startEtcd(launch, dir)
          : name === 'base'
            ? startLockstep(
                {
                  ...launch,
                  cli: resolve(values['base-cli']!),
                  basePort: launch.basePort + 100,
                  ...(values['base-node-flags'] === undefined ? {} : { nodeFlags: values['base-node-flags'].split(' ').filter((s) => s.length > 0) }),
                  ...(values['base-lockstep-flags'] === undefined ? {} : { lockstepFlags: values['base-lockstep-flags'].split(' ').filter((s) => s.length > 0) }),
                },
                dir,
                'base',
              )
            : name === 'lockstep-tls'
              ? startLockstep({ ...launch, basePort: launch.basePort + 200 }, dir, 'lockstep-tls', tlsCerts)
              : startLockstep(launch, dir);
      systems.push(sys);
      const leader = await waitForLeader(http, sys.cluster, name);
      console.error(`${name}: pids ${sys.cluster.endpoints.map((_, k) => sys.cluster.pid(k)).join(', ')}; leader is node ${leader + 1} (pid ${sys.cluster.pid(leader)})`);
    }
    const ctx = { http, seconds: SECONDS, warmupMs: WARMUP_MS, target: TARGET } as const;
    if (WARMUP_SECONDS > 0) {
      for (const sys of systems) {
        const m = await WARMUP_WORKLOAD.run(sys, { ...ctx, seconds: WARMUP_SECONDS });
        console.error(`warm-up ${WARMUP_WORKLOAD.id} ${sys.name}: ${m.perSecond}/s CPU ${m.cpuMsPerOp} ms/${WARMUP_WORKLOAD.unit} (not counted)`);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of workloads) {
        // A B in even rounds, B A in odd ones: neither always runs first.
        const order = round % 2 === 0 ? systems : [...systems].reverse();
        for (const sys of order) {
          await waitForLeader(http, sys.cluster, sys.name);
          const termBefore = await sys.cluster.term(http);
          const m = await w.run(sys, ctx);
          m.termMoved = (await sys.cluster.term(http)) - termBefore;
          ((results[w.id] ??= {})[sys.name] ??= []).push(m);
          const what = w.headline === 'gapMs' ? `gap ${m.gapMs} ms` : `${m.perSecond}/s p50 ${m.p50Ms} ms p99 ${m.p99Ms} ms CPU ${m.cpuMsPerOp} ms/${w.unit} syscalls ${m.syscallsPerOp}/${w.unit}`;
          console.error(`round ${round + 1}/${ROUNDS} ${w.id.padEnd(16)} ${sys.name.padEnd(9)} ${what}${m.failed ? ` (${m.failed} failed: ${formatFailures(m.failures)})` : ''}${m.termMoved ? ` (term moved by ${m.termMoved})` : ''}`);
        }
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    await stopAll();
    http.close();
    rmSync(root, { recursive: true, force: true });
  }
  printTable(results);
  console.log(
    'BENCH ' +
      JSON.stringify({
        bench: 'locks',
        nodes: 3,
        fsync: true,
        target: TARGET,
        seconds: SECONDS,
        rounds: ROUNDS,
        workloads: workloads.map((w) => ({ id: w.id, unit: w.unit, results: results[w.id] ?? {} })),
      }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
