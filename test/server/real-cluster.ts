// A real 3-node cluster of `lockstep serve` processes on 127.0.0.1 (ports
// 18000-18999, a block of PORT_BLOCK per cluster), for the HTTP black-box tests. Runs the CLI from source with
// tsx so that it never tests a stale build.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './net.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const READY_WAIT_MS = 30_000;

export interface ClusterNode {
  id: string;
  url: string;
  proc: ChildProcess;
  alive: boolean;
}

export interface Cluster {
  nodes: ClusterNode[];
  dir: string;
  /** The node every live node agrees leads. */
  leader(): Promise<ClusterNode>;
  kill(node: ClusterNode): Promise<void>;
  stop(): Promise<void>;
}

async function clusterView(url: string, headers: Record<string, string>): Promise<{ leader: string | null } | null> {
  try {
    const res = await fetch(`${url}/v1/cluster`, { headers, signal: AbortSignal.timeout(1_000) });
    if (res.status !== 200) return null;
    return (await res.json()) as { leader: string | null };
  } catch {
    return null;
  }
}

/**
 * Ports one cluster takes from its base: API base+1.., peer base+11... Blocks
 * of this size never overlap (peer ports at base+100 did: one file's peer
 * ports were another's API ports whenever their bases were 100 apart).
 */
export const PORT_BLOCK = 20;
const PEER_OFFSET = 10;

export interface ClusterOptions {
  /** Auth on: the root token, handed to every node in a 0600 file (serve --auth-token-file). */
  authToken?: string;
}

/** Node i (1-based) gets API port base+i and peer port base+10+i. */
export async function startCluster(basePort: number, size = 3, options: ClusterOptions = {}): Promise<Cluster> {
  if (size >= PEER_OFFSET) throw new Error(`at most ${PEER_OFFSET - 1} nodes per port block`);
  if (basePort < 18000 || basePort + PORT_BLOCK > 18999) throw new Error(`base port ${basePort} outside 18000-18999`);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-server-'));
  const peers = Array.from({ length: size }, (_, i) => `n${i + 1}=127.0.0.1:${basePort + PEER_OFFSET + 1 + i}`).join(',');
  const nodes: ClusterNode[] = [];
  const auth: string[] = [];
  const headers: Record<string, string> = {};
  if (options.authToken !== undefined) {
    const file = join(dir, 'root-token');
    writeFileSync(file, `${options.authToken}\n`, { mode: 0o600 });
    auth.push('--auth-token-file', file);
    headers.authorization = `Bearer ${options.authToken}`;
  }
  for (let i = 0; i < size; i++) {
    const id = `n${i + 1}`;
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'serve', '--id', id, '--api', `127.0.0.1:${basePort + 1 + i}`, '--peer', `127.0.0.1:${basePort + PEER_OFFSET + 1 + i}`, '--peers', peers, '--data', join(dir, id), '--log-level', 'warn', '--heartbeat-ms', '50', '--election-ms', '500', ...auth],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const node: ClusterNode = { id, url: `http://127.0.0.1:${basePort + 1 + i}`, proc, alive: true };
    proc.once('exit', () => {
      node.alive = false;
    });
    nodes.push(node);
  }
  const cluster: Cluster = {
    nodes,
    dir,
    async leader() {
      let found: ClusterNode | null = null;
      await until(async () => {
        const live = nodes.filter((n) => n.alive);
        const views = await Promise.all(live.map((n) => clusterView(n.url, headers)));
        const leaders = new Set(views.map((v) => v?.leader ?? null));
        const [leader] = [...leaders];
        if (leaders.size !== 1 || leader === null) return false;
        found = live.find((n) => n.id === leader) ?? null;
        if (found === null) return false;
        const ready = await Promise.all(live.map((n) => fetch(`${n.url}/readyz`).then((r) => r.status === 200, () => false)));
        return ready.every(Boolean);
      }, READY_WAIT_MS, 'a leader every live node agrees on');
      return found!;
    },
    async kill(node) {
      if (!node.alive) return;
      const exited = new Promise((resolve) => node.proc.once('exit', resolve));
      node.proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      await Promise.all(nodes.map((n) => cluster.kill(n)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

export interface Res {
  status: number;
  body: any;
  headers: Headers;
}

/** One JSON request to a node; the body parsed when it is JSON (metrics and SSE are text). */
export async function api(node: ClusterNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Res> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
