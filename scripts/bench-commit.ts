// Commit benchmark: a 3-node cluster of real `lockstep serve` processes on
// loopback, fsync on (the default engine syncs every save before it resolves), measuring how many
// writes per second commit and their latency at 1 and at 64 concurrent
// proposers. Each proposal is a session create (POST /v1/sessions) sent to the
// leader: it returns once the command is committed on a quorum and applied.
//
//   npx tsc -p tsconfig.build.json && npx tsx scripts/bench-commit.ts [--seconds 5] [--base-port 17800]
//
// Prints a table and one JSON line (prefix "BENCH ").
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../src/harness/local-cluster.js';
import type { ServeFlags } from '../src/harness/serve-process.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'base-port': { type: 'string', default: '17800' },
    concurrency: { type: 'string', default: '1,64' },
    'heartbeat-ms': { type: 'string', default: '50' },
    'election-ms': { type: 'string', default: '500' },
    /** Another build's CLI (e.g. an older commit's dist/cli/main.js) for A/B runs. */
    cli: { type: 'string', default: 'dist/cli/main.js' },
    /** The nodes' --log-level (serve's own default is info, which logs every request). */
    'log-level': { type: 'string', default: 'warn' },
    /** Write a V8 CPU profile of every node into this directory (nodes are stopped with SIGTERM so it is flushed). */
    'prof-dir': { type: 'string' },
    /** After each level, print every node's Ready/save counters from GET /metrics (where the time goes). */
    metrics: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const BASE = Number(values['base-port']);
const LEVELS = values.concurrency!.split(',').map(Number);
const WARMUP_MS = 500;
const CLI = resolve(values.cli!);
const STOP_GRACE_MS = 5_000;

interface Level {
  concurrency: number;
  committed: number;
  failed: number;
  seconds: number;
  /** Every request answered during the level, warm-up included (the divisor for CPU per request). */
  answered: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The node's synced-save histogram totals (lockstep_node_save_duration_seconds, lockstep_node_entries_per_save). */
async function saveCounters(port: number): Promise<{ count: number; sum: number; entries: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    count: num('lockstep_node_save_duration_seconds_count'),
    sum: num('lockstep_node_save_duration_seconds_sum'),
    entries: num('lockstep_node_entries_per_save_sum'),
  };
}

/** User + system CPU time of a process so far (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number | null): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const CLOCK_TICKS_PER_S = 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

async function runLevel(url: string, concurrency: number): Promise<Level> {
  const latencies: number[] = [];
  let failed = 0;
  let measuring = false;
  let answered = 0;
  const startAt = performance.now() + WARMUP_MS;
  const endAt = startAt + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      let ok = false;
      try {
        const res = await fetch(`${url}/v1/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ttlMs: 300_000 }),
        });
        await res.arrayBuffer();
        ok = res.status === 201;
      } catch {
        ok = false;
      }
      const t1 = performance.now();
      if (ok) answered++;
      measuring = t0 >= startAt && t1 <= endAt;
      if (!measuring) continue;
      if (ok) latencies.push(t1 - t0);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    committed: latencies.length,
    failed,
    seconds: SECONDS,
    answered,
    perSecond: Math.round(latencies.length / SECONDS),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    maxMs: Number((latencies.at(-1) ?? NaN).toFixed(2)),
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p tsconfig.build.json first`);
  const cluster = new LocalCluster({
    size: 3,
    basePort: BASE,
    peerPortOffset: 50,
    cli: CLI,
    nodeArgs: values['prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['prof-dir'])] : [],
    flags: { heartbeatMs: Number(values['heartbeat-ms']), electionMs: Number(values['election-ms']), logLevel: values['log-level'] as ServeFlags['logLevel'] },
    output: 'stderr',
  });
  const ids = cluster.nodes.map((n) => n.id);
  const pids = (): Array<number | null> => cluster.nodes.map((n) => n.process.pid);
  cluster.startAll();
  try {
    const leader = await cluster.waitForLeader();
    const url = `http://127.0.0.1:${BASE + ids.indexOf(leader) + 1}`;
    const results: Level[] = [];
    for (const c of LEVELS) {
      const before = values.metrics ? await Promise.all(ids.map((_, k) => saveCounters(BASE + k + 1))) : [];
      const cpuBefore = pids().map(cpuMs);
      results.push(await runLevel(url, c));
      if (values.metrics) {
        const after = await Promise.all(ids.map((_, k) => saveCounters(BASE + k + 1)));
        const commits = results.at(-1)!.answered + results.at(-1)!.failed;
        ids.forEach((id, k) => {
          const saves = after[k].count - before[k].count;
          const ms = ((after[k].sum - before[k].sum) * 1000) / Math.max(1, saves);
          const entries = (after[k].entries - before[k].entries) / Math.max(1, saves);
          // CPU per request is what a shared, busy machine cannot blur (throughput and latency it does).
          const cpuPerCommit = (cpuMs(pids()[k]) - cpuBefore[k]) / Math.max(1, commits);
          console.log(`  c=${c} ${id}${id === leader ? ' (leader)' : ''}: ${saves} saves, ${ms.toFixed(3)} ms/save, ${entries.toFixed(1)} entries/save, ${cpuPerCommit.toFixed(3)} CPU ms/request (warm-up requests counted too)`);
        });
      }
    }
    console.log(`3-node loopback cluster, fsync on, session creates via HTTP to the leader, ${SECONDS}s per level`);
    console.log('concurrency  commits/s   p50 ms   p99 ms   max ms   failed');
    for (const r of results) {
      console.log(
        `${String(r.concurrency).padStart(11)}  ${String(r.perSecond).padStart(9)}  ${r.p50Ms.toFixed(2).padStart(7)}  ${r.p99Ms.toFixed(2).padStart(7)}  ${r.maxMs.toFixed(2).padStart(7)}  ${String(r.failed).padStart(7)}`,
      );
    }
    console.log('BENCH ' + JSON.stringify({ bench: 'commit', nodes: 3, fsync: true, seconds: SECONDS, levels: results }));
  } finally {
    // SIGTERM first: a graceful stop flushes CPU profiles.
    await cluster.stop(STOP_GRACE_MS);
    await cluster.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
