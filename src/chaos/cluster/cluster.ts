// A chaos cluster: real `lockstep serve` processes on loopback
// (src/harness/serve-process.ts) whose peer traffic passes through the fault
// network, one clock fault file per node. Each node's log goes to
// nodes/<id>.log with the runner's start and exit lines; an exit the nemesis
// did not cause is recorded (a node that crashes by itself is a finding).
// Port layout from portBase: API base+i, peer base+10+i (i = 1..), proxies
// from base+30, the fenced register at base+99.
// With `tls`, every node (a joiner too) gets a certificate of one run CA under
// <runDir>/certs before its first start; the API is HTTPS and the peer
// channel mutual TLS through the same TCP link proxies (the dialer checks the
// node id a certificate names, not the proxy's address), and the run's own
// requests go through `fetch`, which trusts that CA.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeDirectory } from '../../make-dir.js';
import { httpsAgent, httpsFetch } from 'lockstep-client';
import { FaultNetwork } from '../net/fault-network.js';
import type { Prng } from '../prng.js';
import { ClockFaults } from './clock-faults.js';
import { ServeProcess, writeAuthTokenFile } from '../../harness/serve-process.js';
import { FAULT_CLOCK_ENV } from '../../node/clock.js';
import { ensureClusterCerts } from '../../tls/cluster-certs.js';
import type { PemPaths } from '../../tls/files.js';

export interface UnexpectedExit {
  node: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

/** After SIGTERM at the end of a run, how long a node gets before SIGKILL. */
const STOP_GRACE_MS = 3_000;

export const PORTS_PER_RUN = 100;
export const NODES_MAX = 9;

export interface ClusterOptions {
  nodes: number;
  runDir: string;
  portBase: number;
  heartbeatMs: number;
  electionMs: number;
  cliPath: string;
  snapshotEvery: number | null;
  /** serve --tls-cert/--tls-key/--tls-ca for every node. */
  tls: boolean;
  /** serve --auth-token-file for every node, with a root token made for the run. */
  auth: boolean;
}

export class ChaosCluster {
  readonly network: FaultNetwork;
  readonly clocks: ClockFaults;
  readonly nodes = new Map<string, ServeProcess>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  private nextProxyPort: number;
  private readonly freePorts: number[] = [];
  private nextSlot = 1;
  /** Slots (API and peer ports) of nodes removed for good, to be reused by the next joiner. */
  private readonly freeSlots: number[] = [];
  private readonly slotOf = new Map<string, number>();
  /** Nodes that joined by a membership change (their --peers omits themselves). */
  private readonly joiners = new Set<string>();
  private generation = 0;
  /** How the run's own requests reach the nodes: HTTPS trusting the run CA in a TLS run, after start(). */
  private transport: typeof fetch = globalThis.fetch;
  /** With auth: the run's root token and its file (0600; never on a command line). */
  private readonly root: { token: string; file: string } | null;
  /** The fetch the run's requests go through (tests: is it the TLS one). */
  get transportFetch(): typeof fetch {
    return this.transport;
  }
  /** The run's requests: through the transport, with the root token when auth is on. */
  readonly fetch: typeof fetch = (input, init) => this.transport(input, this.root === null ? init : withBearer(init, this.root.token));

  constructor(
    readonly options: ClusterOptions,
    prng: Prng,
    private readonly nowMs: () => number,
  ) {
    if (options.nodes < 1 || options.nodes > NODES_MAX) throw new Error(`ChaosCluster: nodes must be 1..${NODES_MAX}`);
    this.nextProxyPort = options.portBase + 30;
    this.network = new FaultNetwork(
      prng.fork(),
      // Fresh ports first, a removed node's only when they run out (oldest
      // first): the survivors' --peers still name the removed node at its
      // old proxies and they may dial it; handed at once to the joiner's
      // links, such a dial reached the joiner instead of nobody.
      () => {
        if (this.nextProxyPort < options.portBase + PORTS_PER_RUN - 1) return this.nextProxyPort++;
        const reused = this.freePorts.shift();
        if (reused === undefined) throw new Error('ChaosCluster: out of proxy ports');
        return reused;
      },
      '127.0.0.1',
      (port) => this.freePorts.push(port),
    );
    this.clocks = new ClockFaults(nowMs);
    this.root = options.auth ? makeRootToken(options.runDir) : null;
  }

  get registerPort(): number {
    return this.options.portBase + PORTS_PER_RUN - 1;
  }

  /** Create the next node (network links and process object; not started). */
  async addNode(id = `n${this.nextSlot}`, joiner = false): Promise<ServeProcess> {
    const slot = this.freeSlots.shift() ?? this.nextSlot++;
    if (slot > NODES_MAX) throw new Error('ChaosCluster: out of node slots');
    this.slotOf.set(id, slot);
    if (joiner) this.joiners.add(id);
    const o = this.options;
    const peerPort = o.portBase + 10 + slot;
    const clockFile = path.join(o.runDir, 'clocks', `${id}.json`);
    makeDirectory(path.dirname(clockFile));
    await this.network.addNode({ id, peerPort });
    this.clocks.register(id, clockFile);
    const tls = o.tls ? await this.certify(id) : null;
    const at = (): string => this.nowMs().toFixed(0);
    const node: ServeProcess = new ServeProcess({
      flags: () => ({
        id,
        api: `127.0.0.1:${o.portBase + slot}`,
        peer: `127.0.0.1:${peerPort}`,
        // Through the link proxies, computed at each start.
        peers: this.network.peersArg(id, !this.joiners.has(id)),
        data: path.join(o.runDir, 'data', id),
        heartbeatMs: o.heartbeatMs,
        electionMs: o.electionMs,
        ...(o.snapshotEvery !== null ? { snapshotEvery: o.snapshotEvery } : {}),
        ...(tls === null ? {} : { tlsCert: tls.cert, tlsKey: tls.key, tlsCa: tls.ca }),
        ...(this.root === null ? {} : { authTokenFile: this.root.file }),
      }),
      cli: o.cliPath,
      env: { [FAULT_CLOCK_ENV]: clockFile },
      output: { file: path.join(o.runDir, 'nodes', `${id}.log`) },
      onStart: () => node.note(`{"chaos":"start","atMs":${at()}}`),
      onExit: (exit) => {
        node.note(`{"chaos":"exit","code":${exit.code},"signal":"${exit.signal}","atMs":${at()}}`);
        if (!exit.expected) this.unexpectedExits.push({ node: id, code: exit.code, signal: exit.signal, atMs: this.nowMs() });
      },
    });
    this.nodes.set(id, node);
    return node;
  }

  /** The node's certificate and the CA (made once per run, reused by every node). */
  private async certify(id: string): Promise<PemPaths & { ca: string }> {
    const certs = await ensureClusterCerts(path.join(this.options.runDir, 'certs'), [id]);
    // The CA is made with the first node's certificate: from then on the run's requests trust it.
    if (this.transport === globalThis.fetch) this.transport = httpsFetch(httpsAgent({ ca: readFileSync(certs.ca) }));
    return { ...certs.node(id), ca: certs.ca };
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.options.nodes; i++) await this.addNode();
    for (const node of this.nodes.values()) node.start();
  }

  /** Forget a node for good (after it was removed from the membership): stop it and wipe its disk. */
  async dropNode(id: string): Promise<void> {
    const node = this.nodes.get(id);
    if (!node) return;
    // Its flags are computed from its links: read them before the links go.
    const dataDir = node.flags.data;
    await node.kill();
    await node.close(STOP_GRACE_MS);
    this.nodes.delete(id);
    await this.network.removeNode(id);
    rmSync(dataDir, { recursive: true, force: true });
    const slot = this.slotOf.get(id);
    if (slot !== undefined) this.freeSlots.push(slot);
    this.slotOf.delete(id);
  }

  /** A fresh id for a node that joins: ids are forever (docs/safety.md #10). */
  freshId(): string {
    this.generation += 1;
    return `j${this.generation}`;
  }

  /**
   * Create and start a node that will join by a membership change; returns
   * the peerUrl to announce in the change (its shared inbound proxy).
   */
  async startJoiner(id: string): Promise<{ node: ServeProcess; peerUrl: string }> {
    const node = await this.addNode(id, true);
    const ingress = await this.network.addIngress(id);
    node.start();
    return { node, peerUrl: `http://${ingress.address}` };
  }

  /** Per directed link: connections its proxy accepted (0: the link was never dialed through the proxy). */
  linkStats(): Array<{ link: string; connections: number; bytes: number }> {
    return this.network.stats();
  }

  /** How to watch the run in a browser (consoleLines below). */
  consoleLines(): string[] {
    const ca = this.options.tls ? path.join(this.options.runDir, 'certs', 'ca.crt') : null;
    return consoleLines(this.apiUrls().map((n) => n.url), this.root?.file ?? null, ca);
  }

  apiUrls(): Array<{ node: string; url: string }> {
    return [...this.nodes.values()].map((n) => ({ node: n.id, url: n.apiUrl }));
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }

  node(id: string): ServeProcess {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`ChaosCluster: no node ${id}`);
    return n;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) n.resume();
    await Promise.all([...this.nodes.values()].map((n) => n.close(STOP_GRACE_MS)));
    await this.network.close();
  }
}

/**
 * Every node serves the operator console at /ui/. The lines say where the
 * run's secrets are, never the secrets: they stay out of logs.
 */
export function consoleLines(apiUrls: string[], rootTokenFile: string | null, caFile: string | null): string[] {
  const lines = [`watch it live in a browser: ${apiUrls.map((url) => `${url}/ui/`).join('  ')}`];
  if (rootTokenFile !== null) lines.push(`  the console asks for a token: the run's root token is in ${rootTokenFile}`);
  if (caFile !== null) lines.push(`  the nodes' certificates are signed by the run's CA, ${caFile}: trust it in the browser, or accept its warning`);
  return lines;
}

/** A root token for one run, written where every node reads it. */
function makeRootToken(runDir: string): { token: string; file: string } {
  const token = `chaos-root-${randomBytes(18).toString('base64url')}`;
  const file = path.join(runDir, 'root-token');
  makeDirectory(runDir);
  writeAuthTokenFile(file, token);
  return { token, file };
}

function withBearer(init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}
