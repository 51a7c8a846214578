// `lockstep cluster up`: a local cluster of `serve` processes on 127.0.0.1,
// node i with API port base+i and peer port base+100+i, data in <data>/n<i>.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, type CliCommand } from '../command.js';
import { describeFlags, parseFlags } from '../flags.js';

const flags = {
  nodes: { type: 'number', default: 3, min: 1, max: 9, description: 'number of nodes (3 or 5 for a real quorum)' },
  data: { type: 'string', default: './data', description: 'parent data directory; node i uses <data>/n<i>' },
  'base-port': { type: 'number', default: 7000, min: 1, max: 65_000 - 110, description: 'node i: API port base+i, peer port base+100+i' },
  'heartbeat-ms': { type: 'number', default: 100, min: 5, description: 'passed to each node' },
  'election-ms': { type: 'number', default: 1000, min: 10, description: 'passed to each node' },
  'log-level': { type: 'string', default: 'info', description: 'passed to each node' },
} as const;

/** How long to wait for the first leader. */
export const LEADER_WAIT_MS = 30_000;
const POLL_MS = 200;
/** After SIGTERM, how long a node gets to hand over and flush before SIGKILL. */
export const STOP_GRACE_MS = 15_000;

const usage = `usage: lockstep cluster up [--nodes 3|5] [--data ./data] [--base-port 7000]

Starts the nodes as separate 'lockstep serve' processes on 127.0.0.1 (node i:
API port base+i, peer port base+100+i, data <data>/n<i>, log <data>/n<i>.log),
waits until a leader is elected, prints the API URLs, and stops them all on
Ctrl-C or SIGTERM (each node hands leadership over and flushes).

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

async function clusterView(apiAddress: string): Promise<{ leader: string | null } | null> {
  try {
    const res = await fetch(`http://${apiAddress}/v1/cluster`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return null;
    return (await res.json()) as { leader: string | null };
  } catch {
    return null;
  }
}

/** Resolves with the leader id once every node answers and all name the same leader. */
export async function waitForLeader(apiAddresses: string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const views = await Promise.all(apiAddresses.map(clusterView));
    const leaders = new Set(views.map((v) => v?.leader ?? null));
    const [only] = [...leaders];
    if (leaders.size === 1 && only) return only;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new UserError(`no leader elected within ${timeoutMs} ms (see the node logs)`);
}

function stopAll(children: ChildProcess[]): Promise<void> {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  return new Promise((resolveAll) => {
    if (alive.length === 0) return resolveAll();
    let left = alive.length;
    const kill = setTimeout(() => alive.forEach((c) => c.kill('SIGKILL')), STOP_GRACE_MS);
    for (const c of alive) {
      c.once('exit', () => {
        if (--left === 0) {
          clearTimeout(kill);
          resolveAll();
        }
      });
      c.kill('SIGTERM');
    }
  });
}

export const clusterUpCommand: CliCommand = {
  name: 'cluster up',
  summary: 'start a local cluster of serve processes',
  usage,
  async run(argv) {
    const v = parseFlags(argv, flags);
    const dataDir = resolve(v.data);
    const plan = planCluster(v.nodes, dataDir, v['base-port']);
    mkdirSync(dataDir, { recursive: true });
    const peers = plan.map((p) => `${p.id}=${p.peerAddress}`).join(',');
    const children: ChildProcess[] = [];
    let shuttingDown = false;
    for (const p of plan) {
      const log = createWriteStream(p.logFile, { flags: 'a' });
      const child = spawn(
        process.execPath,
        [
          ...process.execArgv,
          mainScript(),
          'serve',
          '--id', p.id,
          '--api', p.apiAddress,
          '--peer', p.peerAddress,
          '--peers', peers,
          '--data', p.dataDir,
          '--heartbeat-ms', String(v['heartbeat-ms']),
          '--election-ms', String(v['election-ms']),
          '--log-level', v['log-level'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
      child.once('exit', (code, signal) => {
        if (!shuttingDown) console.error(`lockstep: node ${p.id} exited (${signal ?? `status ${code}`}); see ${p.logFile}`);
      });
      children.push(child);
    }
    const stop = async (): Promise<void> => {
      shuttingDown = true;
      await stopAll(children);
    };
    let signalled: (() => void) | null = null;
    const onSignal = (): void => signalled?.();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const leader = await Promise.race([
        waitForLeader(plan.map((p) => p.apiAddress), LEADER_WAIT_MS),
        new Promise<never>((_, reject) => (signalled = () => reject(new UserError('interrupted')))),
      ]);
      console.log(`lockstep cluster up: ${plan.length} nodes, leader ${leader}`);
      for (const p of plan) console.log(`  ${p.id}  http://${p.apiAddress}  (peer ${p.peerAddress}, data ${p.dataDir}, log ${p.logFile})`);
      console.log(`export LOCKSTEP_ENDPOINTS=${plan.map((p) => `http://${p.apiAddress}`).join(',')}`);
      console.log('Ctrl-C stops the cluster.');
    } catch (err) {
      await stop();
      throw err;
    }
    await new Promise<void>((r) => (signalled = r));
    console.log('stopping the cluster...');
    await stop();
    console.log('stopped.');
    return 0;
  },
};
