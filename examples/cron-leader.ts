// cron-leader: run a periodic job on exactly one of several machines.
//
//   Start three copies (a cluster must be up: `npx lockstep cluster up`):
//     npx tsx examples/cron-leader.ts --id a &
//     npx tsx examples/cron-leader.ts --id b &
//     npx tsx examples/cron-leader.ts --id c &
//   One prints `elected` and then `run ...` every --interval-ms; the others wait in line.
//   Every line names the copy's own process id (`pid=`): `$!` after `npx ... &` is npx's
//   wrapper, and killing it leaves this process running (and leading).
//   kill -9 the leader's pid: its session stops being kept alive, the cluster expires it
//   after --ttl-ms, and the next copy in line is elected. Takeover bound:
//     ttl-ms + the leader's expiry check + one Raft election timeout if the Raft
//     leader died too (default 3000 + ~100 + 1000 ms ≈ 4.1 s).
//   A copy that loses leadership (a pause longer than its lease, a partition) stops
//   running the job BEFORE its lease can have ended on the server: the leadership
//   signal fires at ttl - margin after the last acknowledged heartbeat was sent.
//
// Each run carries the election term as a fencing token: a job that writes
// somewhere should pass it along so that a stale leader's late write is refused.

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Client, type ClientOptions, type Leadership } from 'lockstep-client';
import { clientOptionsFromEnv } from './client-env.js';

export const ELECTION_NAME = 'cron:nightly-report';

export interface CronOptions {
  id: string;
  /** The process id printed on every line (the process to kill). */
  pid: number;
  /** The cluster and how to reach it (clientOptionsFromEnv: the CLI's LOCKSTEP_* variables). */
  client: ClientOptions;
  ttlMs: number;
  intervalMs: number;
  /** One line per event, machine-readable: `<event> id=<id> term=<t> ...`. */
  log: (line: string) => void;
}

/** The job itself: here it only says it ran. Real work checks `signal` and passes `term` to what it writes. */
async function job(opts: CronOptions, leadership: Leadership, n: number): Promise<void> {
  opts.log(`run id=${opts.id} pid=${opts.pid} term=${leadership.term} n=${n}`);
}

export async function runCronLeader(opts: CronOptions, stop: AbortSignal): Promise<void> {
  const client = new Client(opts.client);
  const election = client.elect(ELECTION_NAME, opts.id, {
    sessionTtlMs: opts.ttlMs,
    onElected: (leadership) => {
      opts.log(`elected id=${opts.id} pid=${opts.pid} term=${leadership.term}`);
      // Run the job on a timer while leadership lasts; never after the signal fires.
      void (async () => {
        for (let n = 1; !leadership.signal.aborted; n++) {
          await job(opts, leadership, n);
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, opts.intervalMs);
            leadership.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
          });
        }
      })();
    },
    onDemoted: (reason, leadership) => opts.log(`demoted id=${opts.id} pid=${opts.pid} term=${leadership.term} reason=${reason}`),
    onError: (err) => opts.log(`error id=${opts.id} pid=${opts.pid} error=${(err as Error).message.replace(/\s+/g, '_')}`),
  });
  opts.log(`candidate id=${opts.id} pid=${opts.pid}`);
  // Until asked to stop, or until the election stops by itself: done rejects when the server
  // refuses the token (401/403) or the campaign (400/413), which no retry can change, so this
  // copy exits with that error.
  const stopped = new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
  await Promise.race([stopped, election.done]).finally(() => election.close());
  opts.log(`stopped id=${opts.id} pid=${opts.pid}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string', default: `cron-${process.pid}` },
      endpoints: { type: 'string' },
      'ttl-ms': { type: 'string', default: '3000' },
      'interval-ms': { type: 'string', default: '500' },
    },
  });
  const stop = new AbortController();
  process.on('SIGINT', () => stop.abort());
  process.on('SIGTERM', () => stop.abort());
  await runCronLeader(
    {
      id: values.id,
      pid: process.pid,
      client: clientOptionsFromEnv(process.env, values.endpoints ?? process.env.LOCKSTEP_ENDPOINTS),
      ttlMs: Number(values['ttl-ms']),
      intervalMs: Number(values['interval-ms']),
      log: (line) => console.log(line),
    },
    stop.signal,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
