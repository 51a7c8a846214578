// Real `lockstep serve` processes on 127.0.0.1 for crash and restart tests.
// Runs the built CLI (dist/cli/main.js): `npm test` builds first; by hand, run
// `npx tsc -p tsconfig.build.json` before.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve('dist/cli/main.js');
export const HEARTBEAT_MS = 50;
export const ELECTION_MS = 500;

export interface ClusterView {
  self: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: { id: string; role: string; apiUrl: string | null; voter: boolean }[];
}

export interface ProcNode {
  id: string;
  apiPort: number;
  peerPort: number;
  dataDir: string;
  proc: ChildProcess | null;
  /** Everything the process wrote (JSON log lines), across restarts. */
  output: string[];
  exits: { code: number | null; signal: NodeJS.Signals | null }[];
}

export class ProcCluster {
  readonly root: string;
  readonly nodes: ProcNode[];

  constructor(
    count: number,
    readonly basePort: number,
    private readonly extraArgs: string[] = [],
    private readonly env: Record<string, string> = {},
  ) {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.build.json first`);
    this.root = mkdtempSync(join(tmpdir(), 'lockstep-proc-'));
    this.nodes = Array.from({ length: count }, (_, k) => ({
      id: `n${k + 1}`,
      apiPort: basePort + k + 1,
      peerPort: basePort + 50 + k + 1,
      dataDir: join(this.root, `n${k + 1}`),
      proc: null,
      output: [],
      exits: [],
    }));
  }

  node(id: string): ProcNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  url(id: string): string {
    return `http://127.0.0.1:${this.node(id).apiPort}`;
  }

  /** Start `id`; `initialVoters` (default: every node) become its --peers. */
  start(id: string, initialVoters: string[] = this.nodes.map((x) => x.id)): void {
    const n = this.node(id);
    if (n.proc) throw new Error(`${id} is already running`);
    const peers = this.nodes.filter((x) => initialVoters.includes(x.id)).map((x) => `${x.id}=127.0.0.1:${x.peerPort}`).join(',');
    const proc = spawn(
      process.execPath,
      [
        CLI, 'serve',
        '--id', n.id,
        '--api', `127.0.0.1:${n.apiPort}`,
        '--peer', `127.0.0.1:${n.peerPort}`,
        '--peers', peers,
        '--data', n.dataDir,
        '--heartbeat-ms', String(HEARTBEAT_MS),
        '--election-ms', String(ELECTION_MS),
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } },
    );
    const collect = (chunk: Buffer): void => {
      n.output.push(chunk.toString());
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    proc.once('exit', (code, signal) => {
      n.exits.push({ code, signal });
      if (n.proc === proc) n.proc = null;
    });
    n.proc = proc;
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.id);
  }

  /** Send `signal` and wait for the process to exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const n = this.node(id);
    const proc = n.proc;
    if (!proc) throw new Error(`${id} is not running`);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, sig) => r({ code, signal: sig })));
    proc.kill(signal);
    return exited;
  }

  async view(id: string): Promise<ClusterView | null> {
    try {
      const res = await fetch(`${this.url(id)}/v1/cluster`, { signal: AbortSignal.timeout(1000) });
      return res.ok ? ((await res.json()) as ClusterView) : null;
    } catch {
      return null;
    }
  }

  running(): ProcNode[] {
    return this.nodes.filter((n) => n.proc);
  }

  /** Poll until every running node names the same leader (the spec's "GET /v1/cluster agrees"). */
  async waitForLeader(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const views = await Promise.all(this.running().map((n) => this.view(n.id)));
      if (views.every((v) => v !== null)) {
        const leaders = new Set(views.map((v) => v!.leader));
        const [leader] = [...leaders];
        if (leaders.size === 1 && leader && this.running().some((n) => n.id === leader)) return leader;
      }
      await pause(100);
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms\n${this.tail()}`);
  }

  /** Poll until `id` has applied at least `index`. */
  async waitApplied(id: string, index: number, timeoutMs = 30_000): Promise<ClusterView> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterView | null = null;
    while (Date.now() < deadline) {
      last = await this.view(id);
      if (last && last.appliedIndex >= index) return last;
      await pause(100);
    }
    throw new Error(`${id} did not apply ${index} within ${timeoutMs} ms (at ${last?.appliedIndex})\n${this.tail()}`);
  }

  tail(lines = 15): string {
    return this.nodes
      .map((n) => `--- ${n.id}\n${n.output.join('').split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((n) => this.kill(n.id, 'SIGKILL').catch(() => {})));
    rmSync(this.root, { recursive: true, force: true });
  }
}

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
