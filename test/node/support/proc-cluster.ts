// Real `lockstep serve` processes on 127.0.0.1 (src/harness/local-cluster.ts)
// as the tests use them, and the write streams they are checked with.
// procCluster runs the built CLI (dist/cli/main.js): `npm test` builds first;
// by hand, run `npx tsc -p tsconfig.build.json` before.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FAST_ELECTION, LEADER_WAIT_MS, LocalCluster, type LocalClusterOptions, pollFor, START_WAIT_MS } from '../../../src/harness/local-cluster.js';
import { type CliEntry, commandOf } from '../../../src/harness/serve-process.js';

export const CLI = resolve('dist/cli/main.js');

/**
 * The CLI that the tests which need no particular one run: the build when
 * `npm test` has just made it (scripts/test.mjs sets LOCKSTEP_TEST_CLI=dist;
 * the source under tsx costs each process start up to a second of CPU),
 * else src/cli/main.ts under tsx, so that a test run by hand never runs a
 * stale build.
 */
export const TEST_CLI: CliEntry = process.env.LOCKSTEP_TEST_CLI === 'dist' ? 'dist' : 'source';
/** node's arguments that run TEST_CLI: spawn(process.execPath, [...TEST_CLI_ARGS, ...args]). */
export const TEST_CLI_ARGS: readonly string[] = commandOf(TEST_CLI);

/** Node i: API port basePort+i, peer port basePort+50+i; the built CLI; output kept for the test. */
export function procCluster(size: number, basePort: number, flags: LocalClusterOptions['flags'] = {}, env: Record<string, string> = {}): LocalCluster {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.build.json first`);
  return new LocalCluster({ size, basePort, peerPortOffset: 50, cli: 'dist', flags: { ...FAST_ELECTION, ...flags }, env, output: 'capture' });
}

/**
 * How long sourceCluster may take: its nodes' start-up (three processes
 * compiling under tsx at once, on a loaded machine), then the election, and
 * a margin. For the timeout of the hook or test that starts one.
 */
export const CLUSTER_START_MS = START_WAIT_MS + LEADER_WAIT_MS + 10_000;

/**
 * A started cluster running TEST_CLI (the source under tsx, or the build
 * `npm test` just made), for the HTTP, CLI and example tests against real processes: node i
 * on API port basePort+i and peer port basePort+peerPortOffset+i (default
 * 100), warnings to stderr. Resolves once every node answers HTTP, then
 * agrees on a leader and answers /readyz (CLUSTER_START_MS in all).
 * `timings`: 'fast' (FAST_ELECTION, the default) for tests that wait out
 * elections; 'default' keeps `serve`'s own timings, as `cluster up` does,
 * for tests that follow a user's steps and must not see a leader change
 * that a loaded machine's pause would cause at 500 ms.
 */
export async function sourceCluster(
  size: number,
  basePort: number,
  options: Pick<LocalClusterOptions, 'peerPortOffset' | 'authToken' | 'tls'> & { timings?: 'fast' | 'default' } = {},
): Promise<LocalCluster> {
  const { timings = 'fast', ...rest } = options;
  const cluster = await LocalCluster.create({ size, basePort, ...rest, cli: TEST_CLI, flags: { ...(timings === 'fast' ? FAST_ELECTION : {}), logLevel: 'warn' }, output: 'stderr' });
  cluster.startAll();
  try {
    await cluster.waitAnswering();
    await cluster.waitForLeader({ ready: true });
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

/**
 * Until `stream` has `count` acknowledged writes, bounded (a cluster that
 * stopped acknowledging fails here, naming its error count, instead of at
 * the test's timeout).
 */
export async function untilAcked(stream: { acked: unknown[]; errors(): number }, count: number, timeoutMs = 60_000): Promise<void> {
  await pollFor(async () => (stream.acked.length >= count ? true : null), timeoutMs, () => `${count} acknowledged writes (have ${stream.acked.length}, ${stream.errors()} errors)`);
}

/**
 * The timeout of a scenario test on real processes: each of its waits is
 * bounded on its own (start-up, election, acknowledged writes, catch-up),
 * and on a loaded machine they add up to minutes; this only ends one that
 * hangs between them.
 */
export const PROC_TEST_MS = 240_000;

/** Waiting on a real process (not a timing assumption): polling interval only. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Acked {
  sessionId: string;
  index: number;
}

/**
 * A steady stream of session creates through the API of `targets` (followers
 * forward to the leader), `concurrency` at a time, until stop() is called.
 * Records each acknowledged create (201) with its Raft index.
 */
export function sessionStream(targets: () => string[], concurrency: number) {
  const acked: Acked[] = [];
  let stopped = false;
  let errors = 0;
  const worker = async (w: number): Promise<void> => {
    let k = w;
    while (!stopped) {
      const urls = targets();
      const url = urls[k++ % urls.length];
      try {
        const res = await fetch(`${url}/v1/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ttlMs: 300_000 }),
          signal: AbortSignal.timeout(3000),
        });
        if (res.status === 201) {
          const body = (await res.json()) as { sessionId: string };
          acked.push({ sessionId: body.sessionId, index: Number(res.headers.get('x-lockstep-index') ?? 0) });
        } else {
          errors++;
          await res.arrayBuffer();
          await pause(20);
        }
      } catch {
        errors++;
        await pause(20);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  return {
    acked,
    errors: () => errors,
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** Which of `sessions` are missing from `url`'s local state (stale read: what this node itself has applied). */
export async function missingSessions(url: string, sessions: Acked[]): Promise<string[]> {
  const missing: string[] = [];
  const batch = 32;
  for (let i = 0; i < sessions.length; i += batch) {
    const slice = sessions.slice(i, i + batch);
    const results = await Promise.all(
      slice.map(async (s) => {
        const res = await fetch(`${url}/v1/sessions/${s.sessionId}?consistency=stale`);
        await res.arrayBuffer();
        return res.status === 200 ? null : `${s.sessionId}@${s.index}:${res.status}`;
      }),
    );
    for (const r of results) if (r) missing.push(r);
  }
  return missing;
}
