// `lockstep cluster up`: a local cluster of `serve` processes on 127.0.0.1,
// node i with API port base+i and peer port base+100+i, data in <data>/n<i>.
import { readFileSync } from 'node:fs';
import { httpsAgent, httpsFetch } from 'lockstep-client';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlagValueError, UserError, type CliCommand } from '../command.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDataDir, rootToken } from './serve.js';
import { describeFlags, envName, parseFlagsAndWords } from '../flags.js';
import { LOG_LEVELS, type LogLevel } from '../serve-options.js';
import { ServeProcess, STOP_GRACE_MS, writeAuthTokenFile } from '../../harness/serve-process.js';
import { FileBootstrapVoters, sameVoters } from '../../node/bootstrap-voters.js';

const flags = {
  nodes: { type: 'number', default: 3, min: 1, max: 5, description: 'number of nodes: 1 (development: no fault tolerance), 3 or 5' },
  data: { type: 'string', default: './data', description: 'parent data directory; node i uses <data>/n<i>' },
  'base-port': { type: 'number', default: 7000, min: 1, max: 65_000 - 110, description: 'node i: API port base+i, peer port base+100+i' },
  'heartbeat-ms': { type: 'number', default: 100, min: 5, description: 'passed to each node' },
  'election-ms': { type: 'number', default: 1000, min: 10, description: 'passed to each node' },
  'log-level': { type: 'string', default: 'info', choices: LOG_LEVELS, description: 'passed to each node' },
  'auth-token': { type: 'string', description: 'the root token (admin): auth is on. Handed to the nodes in <data>/auth-token (mode 0600), never on their command line (clients: --token / LOCKSTEP_TOKEN)' },
  'auth-token-file': { type: 'string', description: 'read the root token from this file and hand the nodes this file' },
  tls: { type: 'boolean', description: 'TLS: make a CA and node certificates under <data>/certs once (reused later), start the nodes with them, print the --ca for clients' },
} as const;

/**
 * How long the nodes get to start (each answers HTTP): seconds on an idle
 * machine, tens of seconds on a loaded one; the leader wait counts from
 * there, so that a slow start is not reported as a failed election.
 */
export const START_WAIT_MS = 60_000;
/** How long to wait for the first leader, once every node answers: at least this long (leaderWaitMs). */
export const LEADER_WAIT_MS = 30_000;

/**
 * How long to wait for the first leader with election timeout `electionMs`: 30 s, or four
 * election timeouts when that is longer. A first election starts after one to two timeouts, and
 * a split vote takes another; with --election-ms 15000 a fixed 30 s failed clusters that were fine.
 */
export function leaderWaitMs(electionMs: number): number {
  return Math.max(LEADER_WAIT_MS, 4 * electionMs);
}
const POLL_MS = 200;
/** How often cluster up, started through npm, checks that its parent lives (onNpmParentGone). */
const PARENT_POLL_MS = 500;
/** serve flags whose LOCKSTEP_<FLAG> variables are removed from the nodes' environment (see where it is used). */
const NODE_ENV_CLEARED = ['auth-token', 'auth-token-file', 'tls-cert', 'tls-key', 'tls-ca', 'tls-client-ca', 'restore-from'];

const usage = `usage: lockstep cluster up [--nodes 1|3|5] [--data ./data] [--base-port 7000] [--tls] [--auth-token T]

Starts the nodes as separate 'lockstep serve' processes on 127.0.0.1 (node i:
API port base+i, peer port base+100+i, data <data>/n<i>, log <data>/n<i>.log),
waits until a leader is elected, prints the API URLs and each node's PID, and
stops them all on Ctrl-C or SIGTERM (each node hands leadership over and
flushes), then exits 0. A node that dies later is reported with the command
that restarts it (on its own: it is not stopped by this Ctrl-C).
Running it again on the same --data recovers the cluster's state. If this
process dies without stopping them (SIGKILL), the nodes notice and stop too.
Exit 1 if a port is taken, a node dies, a node does not answer within
${START_WAIT_MS / 1000} s of its start, or no leader is elected ${LEADER_WAIT_MS / 1000} s after that
(or four election timeouts, when --election-ms makes that longer).

flags:
${describeFlags(flags)}`;

export interface LocalNodePlan {
  id: string;
  apiAddress: string;
  peerAddress: string;
  dataDir: string;
  logFile: string;
}

export function planCluster(nodes: number, dataDir: string, basePort: number): LocalNodePlan[] {
  return Array.from({ length: nodes }, (_, k) => {
    const i = k + 1;
    return {
      id: `n${i}`,
      apiAddress: `127.0.0.1:${basePort + i}`,
      peerAddress: `127.0.0.1:${basePort + 100 + i}`,
      dataDir: join(dataDir, `n${i}`),
      logFile: join(dataDir, `n${i}.log`),
    };
  });
}

/** The CLI entry that spawned us (dist/cli/main.js, or src/cli/main.ts under tsx). */
function mainScript(): string {
  const here = import.meta.url;
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../main${ext}`, here));
}

/** How cluster up asks its nodes: plain fetch, or HTTPS trusting the cluster CA. */
interface Asker {
  scheme: 'http' | 'https';
  fetch: typeof fetch;
}
const PLAIN: Asker = { scheme: 'http', fetch: globalThis.fetch };

async function clusterView(apiAddress: string, signal?: AbortSignal, authToken?: string, asker: Asker = PLAIN): Promise<{ leader: string | null } | null> {
  try {
    const timeout = AbortSignal.timeout(1000);
    const headers: Record<string, string> = authToken ? { authorization: `Bearer ${authToken}` } : {};
    const res = await asker.fetch(`${asker.scheme}://${apiAddress}/v1/cluster`, { headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
    if (!res.ok) return null;
    return (await res.json()) as { leader: string | null };
  } catch {
    return null;
  }
}

/** Resolves once every node answers /healthz (its process is up); rejects when `signal` aborts. */
export async function waitAnswering(apiAddresses: string[], timeoutMs: number, signal?: AbortSignal, asker: Asker = PLAIN): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const answers = async (a: string): Promise<boolean> => {
    try {
      const timeout = AbortSignal.timeout(1000);
      const res = await asker.fetch(`${asker.scheme}://${a}/healthz`, { signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
      await res.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  };
  let silent: string[] = apiAddresses;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const answered = await Promise.all(apiAddresses.map(answers));
    silent = apiAddresses.filter((_, k) => !answered[k]);
    if (silent.length === 0) return;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
  signal?.throwIfAborted();
  throw new UserError(`${silent.join(', ')} did not answer within ${timeoutMs} ms of starting (see the node logs)`);
}

/** Resolves with the leader id once every node answers and all name the same leader; rejects when `signal` aborts. */
export async function waitForLeader(apiAddresses: string[], timeoutMs: number, signal?: AbortSignal, authToken?: string, asker: Asker = PLAIN): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const views = await Promise.all(apiAddresses.map((a) => clusterView(a, signal, authToken, asker)));
    const leaders = new Set(views.map((v) => v?.leader ?? null));
    const [only] = [...leaders];
    if (leaders.size === 1 && only) return only;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
  signal?.throwIfAborted();
  throw new UserError(`no leader elected within ${timeoutMs} ms (see the node logs)`);
}

/**
 * `--tls`: the CA and node certificates under `dir`, made once. What is on
 * disk is the user's (half of a pair copied in, a file that is no certificate):
 * said as a UserError (exit 1) with what to do, not a stack.
 */
async function clusterCerts(dir: string, ids: string[]) {
  const { ensureClusterCerts } = await import('../../tls/cluster-certs.js');
  try {
    return await ensureClusterCerts(dir, ids);
  } catch (err) {
    throw new UserError(`--tls: ${(err as Error).message}; ${dir} must hold whole pairs (<name>.crt with <name>.key) made by \`lockstep certs\`: remove the odd file, or the whole ${dir} to make them all anew`);
  }
}

/**
 * A --data that holds a cluster of another size (`cluster up --nodes 5` where `cluster up` made
 * three): its nodes keep the voters they first started with (bootstrap-voters.ts), so the new
 * ones would wait forever for a cluster that does not count them. Refused before anything starts.
 */
function refuseOtherCluster(plan: LocalNodePlan[], data: string): void {
  const planned = plan.map((p) => p.id);
  for (const p of plan) {
    let recorded: string[] | null;
    try {
      recorded = new FileBootstrapVoters(p.dataDir).read();
    } catch {
      // Unreadable or damaged (a file where the node's directory should be, say): the node
      // itself says what is wrong when it starts, and cluster up reports its exit.
      continue;
    }
    if (recorded !== null && !sameVoters(recorded, planned)) {
      throw new UserError(`--data ${data} holds a cluster of ${recorded.length} node${recorded.length === 1 ? '' : 's'} (${recorded.join(', ')}); run cluster up --nodes ${recorded.length} on it, or give another --data`);
    }
  }
}

/**
 * Started through npm (`npx lockstep cluster up`, `npm run cluster`), cluster up is the child of
 * npm's `sh -c`, and a SIGTERM sent to npx stopped there: npm passes it to the shell, which dies of
 * it without passing it on (dash), and cluster up lived on with its nodes, holding their ports.
 * Its parent's death (it is then reparented) counts as that SIGTERM. Only under npm: run directly,
 * `nohup lockstep cluster up &` must outlive the shell that started it. Returns the cancel.
 */
function onNpmParentGone(stop: () => void): () => void {
  if (process.env.npm_command === undefined) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) stop();
  }, PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Writes the root token to <data>/auth-token, readable by this user only; returns its path. */
function writeTokenFile(dataDir: string, token: string): string {
  const path = join(dataDir, 'auth-token');
  writeAuthTokenFile(path, token);
  return path;
}

/** Resolves with the first of `ports` something on 127.0.0.1 already listens on, or null. */
export async function firstPortInUse(ports: number[]): Promise<number | null> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolveFree) => {
      const probe = createServer();
      probe.once('error', () => resolveFree(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
    });
    if (!free) return port;
  }
  return null;
}

/** A word as the shell reads it: bare when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function shellCommand(words: string[]): string {
  return words.map(shellWord).join(' ');
}

export const clusterUpCommand: CliCommand = {
  name: 'cluster up',
  summary: 'start a local cluster of serve processes',
  usage,
  async run(argv) {
    const { values: v, given } = parseFlagsAndWords(argv, flags);
    const dataDir = resolve(v.data);
    // Absolute, as --data: the nodes are given this path, and so are the restart command and the
    // `export LOCKSTEP_TOKEN` line printed for another terminal, whose directory may be another.
    const authTokenFile = v['auth-token-file'] === undefined ? undefined : resolve(v['auth-token-file']);
    // 1 for development; an even count tolerates no more failures than the odd one below it.
    if (v.nodes !== 1 && v.nodes !== 3 && v.nodes !== 5) throw new FlagValueError(`--nodes must be 1, 3 or 5, got ${v.nodes}`);
    const plan = planCluster(v.nodes, dataDir, v['base-port']);
    refuseOtherCluster(plan, v.data);
    const { authToken, authWarnings } = rootToken(v['auth-token'], authTokenFile, given);
    for (const warning of authWarnings) console.error(`lockstep: warning: ${warning}`);
    const busy = await firstPortInUse(plan.flatMap((p) => [p.apiAddress, p.peerAddress].map((a) => Number(a.split(':')[1]))));
    if (busy !== null) {
      throw new UserError(`port ${busy} on 127.0.0.1 is already in use (another cluster?); stop it or pick another --base-port`);
    }
    makeDataDir(dataDir);
    const tokenFile = authToken === null ? null : (authTokenFile ?? writeTokenFile(dataDir, authToken));
    // Loaded only with --tls: the certificate library is not small.
    const certs = v.tls ? await clusterCerts(join(dataDir, 'certs'), plan.map((p) => p.id)) : null;
    const asker: Asker = certs ? { scheme: 'https', fetch: httpsFetch(httpsAgent({ ca: readFileSync(certs.ca) })) } : PLAIN;
    // The nodes read the token from the file: not from their command line (any user
    // of the machine can read /proc/<pid>/cmdline) nor from an inherited variable. TLS
    // is --tls's to set up, and a restore is a node's own start: serve variables left in
    // the user's shell for a node run by hand do not reach these nodes.
    const nodeEnv = Object.fromEntries(NODE_ENV_CLEARED.map((flag) => [envName(flag), undefined]));
    const peers = plan.map((p) => `${p.id}=${p.peerAddress}`).join(',');
    const nodes: ServeProcess[] = [];
    let shuttingDown = false;
    const earlyExit = new AbortController();
    let up = false;
    const stop = async (): Promise<void> => {
      shuttingDown = true;
      await Promise.all(nodes.map((n) => n.stop(STOP_GRACE_MS)));
    };
    for (const p of plan) {
      const node = new ServeProcess({
        flags: {
          id: p.id,
          api: p.apiAddress,
          peer: p.peerAddress,
          peers,
          data: p.dataDir,
          heartbeatMs: v['heartbeat-ms'],
          electionMs: v['election-ms'],
          logLevel: v['log-level'] as LogLevel,
          ...(tokenFile === null ? {} : { authTokenFile: tokenFile }),
          ...(certs === null ? {} : { tlsCert: certs.node(p.id).cert, tlsKey: certs.node(p.id).key, tlsCa: certs.ca }),
        },
        // This very CLI, under the same node flags (tsx when run from source).
        cli: mainScript(),
        nodeArgs: process.execArgv,
        env: nodeEnv,
        // The node writes its log file itself: it outlives us (and our pipes) if we die first.
        output: { fileOwned: p.logFile },
        // It sees us die even by SIGKILL (it stops on 'disconnect').
        stopWithParent: true,
        onExit: (exit) => {
          if (shuttingDown) return;
          const why = `node ${p.id} exited (${exit.signal ?? `status ${exit.code}`}); see ${p.logFile}`;
          // Before a leader is up this is fatal for `cluster up` (a taken port, a bad data dir): fail now, not in 30 s.
          if (!earlyExit.signal.aborted && !up) earlyExit.abort(new UserError(`${why}; the other nodes are stopped`));
          else if (up) {
            console.error(`lockstep: ${why}; restart it with:\n  ${shellCommand(node.commandLine())} >> ${shellWord(p.logFile)} 2>&1 &`);
            if (nodes.every((n) => !n.running)) console.error('lockstep: no node of this cluster runs now; restart them with the commands above, or Ctrl-C to quit');
          }
        },
      });
      nodes.push(node);
      try {
        node.start();
      } catch (err) {
        // Those started already must not outlive us holding their ports.
        await stop();
        throw err;
      }
    }
    let signalled: (() => void) | null = null;
    const interrupted = new AbortController();
    const onSignal = (): void => {
      interrupted.abort(new UserError('interrupted before a leader was elected; the nodes are stopped'));
      signalled?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const stopWatchingParent = onNpmParentGone(onSignal);
    try {
      const waiting = AbortSignal.any([interrupted.signal, earlyExit.signal]);
      await waitAnswering(plan.map((p) => p.apiAddress), START_WAIT_MS, waiting, asker);
      const leader = await waitForLeader(plan.map((p) => p.apiAddress), leaderWaitMs(v['election-ms']), waiting, authToken ?? undefined, asker);
      up = true;
      console.log(`lockstep cluster up: ${plan.length} node${plan.length === 1 ? '' : 's'}, leader ${leader}`);
      plan.forEach((p, i) => console.log(`  ${p.id}  ${asker.scheme}://${p.apiAddress}  pid ${nodes[i].pid}  (peer ${p.peerAddress}, data ${p.dataDir}, log ${p.logFile})`));
      console.log(`export LOCKSTEP_ENDPOINTS=${plan.map((p) => `${asker.scheme}://${p.apiAddress}`).join(',')}`);
      if (certs !== null) console.log(`export LOCKSTEP_CA=${shellWord(certs.ca)}   # the cluster CA: clients verify the nodes with it (--ca)`);
      if (tokenFile !== null) console.log(`export LOCKSTEP_TOKEN="$(cat ${shellWord(tokenFile)})"   # the root token (admin); make others with: lockstep token create`);
      console.log('Ctrl-C stops the cluster.');
    } catch (err) {
      await stop();
      stopWatchingParent();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      throw err;
    }
    // Until Ctrl-C or SIGTERM, also once every node has exited: the nodes' child processes held
    // the event loop open, and without this timer the last one's death ended cluster up at once,
    // with status 0 and no word after its restart command.
    const untilSignal = setInterval(() => undefined, 2 ** 30);
    if (!interrupted.signal.aborted) await new Promise<void>((r) => (signalled = r));
    clearInterval(untilSignal);
    console.log('stopping the cluster...');
    await stop();
    console.log('stopped.');
    stopWatchingParent();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 0;
  },
};
