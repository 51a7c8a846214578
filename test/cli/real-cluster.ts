// A real cluster of `lockstep serve` processes on 127.0.0.1 (LevelStorage,
// TCP transport, the real Raft node), for CLI and example tests where the
// processes are the point: kill -9 a node, fail over.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** How long a fresh cluster may take to elect a leader and get every node ready. */
const READY_WAIT_MS = 30_000;
const POLL_MS = 100;

export interface RealNode {
  id: string;
  apiUrl: string;
  proc: ChildProcess;
}

export interface RealCluster {
  endpoints: string[];
  nodes: RealNode[];
  /** The Raft leader's id, asked of any live node. */
  leader(): Promise<string | null>;
  kill(id: string): void;
  stop(): Promise<void>;
}

/** Node i gets API port basePort+i and peer port basePort+100+i. */
export async function startRealCluster(size: number, basePort: number): Promise<RealCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${basePort + 101 + i}`).join(',');
  const nodes: RealNode[] = ids.map((id, i) => {
    const api = `127.0.0.1:${basePort + 1 + i}`;
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'serve', '--id', id, '--api', api, '--peer', `127.0.0.1:${basePort + 101 + i}`, '--peers', peers, '--data', join(dir, id), '--log-level', 'warn', '--heartbeat-ms', '50', '--election-ms', '500'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return { id, apiUrl: `http://${api}`, proc };
  });
  const endpoints = nodes.map((n) => n.apiUrl);
  const alive = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  const leader = async (): Promise<string | null> => {
    for (const n of alive()) {
      try {
        const res = await fetch(`${n.apiUrl}/v1/cluster?consistency=stale`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) {
          const body = (await res.json()) as { leader: string | null };
          if (body.leader) return body.leader;
        }
      } catch {
        // not up yet
      }
    }
    return null;
  };
  const cluster: RealCluster = {
    endpoints,
    nodes,
    leader,
    kill(id) {
      nodes.find((n) => n.id === id)?.proc.kill('SIGKILL');
    },
    async stop() {
      await Promise.all(
        alive().map(
          (n) =>
            new Promise<void>((resolve) => {
              n.proc.once('exit', () => resolve());
              n.proc.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const t0 = Date.now();
  for (;;) {
    const ready = await Promise.all(
      endpoints.map((e) =>
        fetch(`${e}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) return cluster;
    if (Date.now() - t0 > READY_WAIT_MS) {
      await cluster.stop();
      throw new Error(`cluster on base port ${basePort} not ready in ${READY_WAIT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
