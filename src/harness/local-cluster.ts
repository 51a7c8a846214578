// A cluster of `lockstep serve` processes on 127.0.0.1 (ServeProcess each),
// for tests and benchmarks: the port layout, starting a node with a chosen
// --peers (a joiner lists only the others), kill / stop / restart, and
// leader discovery through GET /v1/cluster. Polling waits on real processes
// (there is no clock to inject into another process); they are bounded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeDirectory } from '../make-dir.js';
import { httpsAgent, httpsFetch, type TlsOptions } from 'lockstep-client';
import { type CliEntry, type ServeExit, type ServeFlags, type ServeOutput, ServeProcess, STOP_GRACE_MS, writeAuthTokenFile } from './serve-process.js';
import type { ClusterCerts } from '../tls/cluster-certs.js';

export interface ClusterView {
  self: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: { id: string; role: string; apiUrl: string | null; voter: boolean }[];
}

export interface LocalClusterOptions {
  size: number;
  /** Node i (1-based) listens on API port basePort+i and peer port basePort+peerPortOffset+i. */
  basePort: number;
  peerPortOffset?: number;
  /** Parent data directory (node i uses <dir>/n<i>); default a fresh temporary one, removed by destroy(). */
  dataDir?: string;
  /** Flags every node gets (serve's defaults otherwise). */
  flags?: Omit<ServeFlags, 'id' | 'api' | 'peer' | 'peers' | 'data'>;
  /**
   * Auth on: the root token, handed to every node in <dir>/root-token (mode
   * 0600, serve --auth-token-file); the harness's own requests carry it.
   */
  authToken?: string;
  cli?: CliEntry;
  nodeArgs?: string[];
  /** serve flags passed through as they are (ServeProcessOptions.extraArgs). */
  extraArgs?: string[];
  /** Added to (undefined: removed from) each node's environment. */
  env?: Record<string, string | undefined>;
  output?: ServeOutput;
  /**
   * TLS on: a CA and node certificates under <dir>/certs (made once by
   * LocalCluster.create, reused after), every node started with them, and the
   * harness's own requests over HTTPS trusting that CA.
   */
  tls?: boolean;
}

export interface LocalNode {
  id: string;
  /** http://127.0.0.1:<apiPort>, https:// with TLS */
  url: string;
  apiPort: number;
  peerPort: number;
  dataDir: string;
  process: ServeProcess;
}

/** Test defaults: a leader in well under a second on loopback. */
export const FAST_ELECTION = { heartbeatMs: 50, electionMs: 500 } as const;
const POLL_MS = 100;
const VIEW_TIMEOUT_MS = 1_000;
export const LEADER_WAIT_MS = 30_000;
/**
 * Until every started node answers HTTP at all: a process's own start-up
 * (loading, under tsx compiling, the CLI), which a machine loaded by a
 * full test run stretches from a second to tens of seconds. The leader
 * wait counts from there, so that it still bounds the election alone.
 */
export const START_WAIT_MS = 90_000;

/** Polls `check` every POLL_MS until it returns a value other than null, or throws after timeoutMs. */
export async function pollFor<T>(check: () => Promise<T | null>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export class LocalCluster {
  readonly nodes: LocalNode[];
  readonly dir: string;
  private readonly ownsDir: boolean;
  /** Headers the harness's own requests carry (the root token when auth is on). */
  readonly headers: Record<string, string> = {};
  /** --peers of each node as last started (the initial voters it was given). */
  private readonly voters = new Map<string, string[]>();
  /** With TLS, once made (create()). */
  certs: ClusterCerts | null = null;
  private readonly tlsWanted: boolean;
  /** fetch for the harness's own requests (and tests'): over HTTPS, trusting the cluster CA once certs exist. */
  fetch: typeof fetch = globalThis.fetch;

  /** A cluster whose certificates, with `tls`, exist before any node starts. */
  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = new LocalCluster(options);
    if (options.tls) {
      // Loaded only here: the certificate library is not small, and most clusters are plain.
      const { ensureClusterCerts } = await import('../tls/cluster-certs.js');
      cluster.certs = await ensureClusterCerts(path.join(cluster.dir, 'certs'), cluster.nodes.map((n) => n.id));
      cluster.fetch = httpsFetch(httpsAgent(cluster.clientTls!));
    }
    return cluster;
  }

  /** What a client passes as the SDK's `tls` (the CA), or null without TLS. */
  get clientTls(): TlsOptions | null {
    return this.certs ? { ca: readFileSync(this.certs.ca) } : null;
  }

  constructor(options: LocalClusterOptions) {
    this.ownsDir = options.dataDir === undefined;
    this.tlsWanted = options.tls === true;
    this.dir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'lockstep-cluster-'));
    const peerOffset = options.peerPortOffset ?? 100;
    if (peerOffset < options.size) throw new Error(`peer port offset ${peerOffset} overlaps the API ports of ${options.size} nodes`);
    let authTokenFile: string | undefined;
    if (options.authToken !== undefined) {
      makeDirectory(this.dir);
      authTokenFile = path.join(this.dir, 'root-token');
      writeAuthTokenFile(authTokenFile, options.authToken);
      this.headers.authorization = `Bearer ${options.authToken}`;
    }
    this.nodes = Array.from({ length: options.size }, (_, k) => {
      const id = `n${k + 1}`;
      const node: LocalNode = {
        id,
        url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${options.basePort + k + 1}`,
        apiPort: options.basePort + k + 1,
        peerPort: options.basePort + peerOffset + k + 1,
        dataDir: path.join(this.dir, id),
        process: null as unknown as ServeProcess,
      };
      node.process = new ServeProcess({
        flags: () => ({
          ...options.flags,
          ...(authTokenFile === undefined ? {} : { authTokenFile }),
          ...this.tlsFlags(id),
          id,
          api: `127.0.0.1:${node.apiPort}`,
          peer: `127.0.0.1:${node.peerPort}`,
          peers: this.peersArg(this.voters.get(id) ?? this.nodes.map((n) => n.id)),
          data: node.dataDir,
        }),
        cli: options.cli,
        nodeArgs: options.nodeArgs,
        extraArgs: options.extraArgs,
        env: options.env,
        output: options.output,
      });
      return node;
    });
  }

  private tlsFlags(id: string): Pick<ServeFlags, 'tlsCert' | 'tlsKey' | 'tlsCa'> {
    if (!this.tlsWanted) return {};
    if (!this.certs) throw new Error('a TLS cluster is made with await LocalCluster.create(...), which makes its certificates');
    const own = this.certs.node(id);
    return { tlsCert: own.cert, tlsKey: own.key, tlsCa: this.certs.ca };
  }

  private peersArg(ids: string[]): string {
    return ids.map((id) => `${id}=127.0.0.1:${this.node(id).peerPort}`).join(',');
  }

  node(id: string): LocalNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  url(id: string): string {
    return this.node(id).url;
  }

  get endpoints(): string[] {
    return this.nodes.map((n) => this.url(n.id));
  }

  running(): LocalNode[] {
    return this.nodes.filter((n) => n.process.running);
  }

  /** Start (or restart) `id`; `initialVoters` (default: every node) become its --peers. */
  start(id: string, initialVoters: string[] = this.nodes.map((x) => x.id)): void {
    this.voters.set(id, initialVoters);
    this.node(id).process.start();
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.id);
  }

  /** Sends `signal` (default kill -9) and waits for the exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<ServeExit> {
    const exit = await this.node(id).process.signal(signal);
    if (exit === null) throw new Error(`${id} is not running`);
    return exit;
  }

  async view(id: string): Promise<ClusterView | null> {
    try {
      const res = await this.fetch(`${this.url(id)}/v1/cluster`, { headers: this.headers, signal: AbortSignal.timeout(VIEW_TIMEOUT_MS) });
      return res.ok ? ((await res.json()) as ClusterView) : null;
    } catch {
      return null;
    }
  }

  async ready(id: string): Promise<boolean> {
    try {
      const res = await this.fetch(`${this.url(id)}/readyz`, { signal: AbortSignal.timeout(VIEW_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Whether `id` answers HTTP at all (/healthz: its process is up and listening). */
  async answers(id: string): Promise<boolean> {
    try {
      const res = await this.fetch(`${this.url(id)}/healthz`, { signal: AbortSignal.timeout(VIEW_TIMEOUT_MS) });
      await res.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }

  /** Until every running node answers HTTP (START_WAIT_MS: a process's start-up, not the election). */
  async waitAnswering(timeoutMs = START_WAIT_MS): Promise<void> {
    let silent: string[] = [];
    await pollFor(
      async () => {
        const live = this.running();
        const answered = await Promise.all(live.map((n) => this.answers(n.id)));
        silent = live.filter((_, k) => !answered[k]).map((n) => n.id);
        return live.length > 0 && silent.length === 0 ? true : null;
      },
      timeoutMs,
      () => `every running node to answer HTTP (silent: ${silent.join(', ') || 'none running'})\n${this.tail()}`,
    );
  }

  /**
   * The leader every running node names (http-api.md: GET /v1/cluster
   * agrees), itself running; with `ready`, every running node also answers
   * /readyz.
   */
  async waitForLeader(options: { timeoutMs?: number; ready?: boolean } = {}): Promise<string> {
    // What each node said last, for the message when no leader is agreed.
    let seen = 'no node running';
    return pollFor(
      async () => {
        const live = this.running();
        if (live.length === 0) return null;
        const views = await Promise.all(live.map((n) => this.view(n.id)));
        seen = live.map((n, k) => `${n.id}: ${views[k] === null ? 'no answer' : `leader ${views[k]!.leader} term ${views[k]!.term}`}`).join('; ');
        if (views.some((v) => v === null)) return null;
        const leaders = new Set(views.map((v) => v!.leader));
        const [leader] = [...leaders];
        if (leaders.size !== 1 || !leader || !live.some((n) => n.id === leader)) return null;
        if (options.ready && !(await Promise.all(live.map((n) => this.ready(n.id)))).every(Boolean)) return null;
        return leader;
      },
      options.timeoutMs ?? LEADER_WAIT_MS,
      () => `a leader every running node agrees on (${seen})\n${this.tail()}`,
    );
  }

  /** The agreed leader once every running node also answers /readyz. */
  async leader(timeoutMs = LEADER_WAIT_MS): Promise<LocalNode> {
    return this.node(await this.waitForLeader({ timeoutMs, ready: true }));
  }

  /** Until `id` has applied at least `index`. */
  async waitApplied(id: string, index: number, timeoutMs = 30_000): Promise<ClusterView> {
    let last: ClusterView | null = null;
    return pollFor(
      async () => {
        last = await this.view(id);
        return last && last.appliedIndex >= index ? last : null;
      },
      timeoutMs,
      () => `${id} to apply ${index} (at ${last?.appliedIndex})\n${this.tail()}`,
    );
  }

  /** The last lines each node wrote ('capture' output only). */
  tail(lines = 15): string {
    return this.nodes.map((n) => `--- ${n.id}\n${n.process.output.join('').split('\n').slice(-lines).join('\n')}`).join('\n');
  }

  /** SIGTERM to every running node (each hands over and flushes), SIGKILL after graceMs. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.close(graceMs)));
  }

  /** kill -9 every node and remove the data directory if it was made here. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.kill()));
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
