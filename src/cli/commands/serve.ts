// `lockstep serve`: one node. FileStorage (or LevelStorage) + TcpTransport + LockMachine +
// RaftNode + the HTTP server, wired here and nowhere else.
import { readdirSync, statSync } from 'node:fs';
import { makeDirectory } from '../../make-dir.js';
import { readInputFile } from '../../read-input.js';
import { isSendableToken } from 'lockstep-client';
import pino, { type Logger } from 'pino';
import { createRegistry } from '../../metrics.js';
import { LockMachine } from '../../locks/machine.js';
import { encodeProposal } from '../../locks/codec.js';
import { RESTORE_TOKEN_GAP } from '../../locks/limits.js';
import { decodeSnapshot, raiseTokenFloor } from '../../locks/snapshot.js';
import { clockFromEnv, FAULT_CLOCK_ENV, FAULT_CLOCK_POLL_MS } from '../../node/clock.js';
import { BackupFormatError, decodeBackup, restoreBackup, RestoreRefusedError, type Backup } from '../../node/backup.js';
import { RaftNode } from '../../node/node.js';
import { Raft } from '../../raft/raft.js';
import { nodeId, type NodeId } from '../../raft/types.js';
import { createLockServer } from '../../server/index.js';
import { EventDispatcher } from '../../server/dispatcher.js';
import { FileBootstrapVoters } from '../../node/bootstrap-voters.js';
import { openStorage, STORAGE_ENGINES, type StorageEngine } from '../../storage/open-storage.js';
import { isLoopbackHost } from '../../transport/address.js';
import { TcpTransport } from '../../transport/tcp-transport.js';
import { PeerKey } from '../../transport/peer-proof.js';
import { FlagValueError, UserError, type CliCommand } from '../command.js';
import { CERT_NODE_ID, NODE_ID_RULE } from '../../tls/identity.js';
import { NodeTls, TlsConfigError, type TlsPaths } from '../../tls/node-tls.js';
import { describeFlags, parseFlagsAndWords } from '../flags.js';
import { heldStopSignal, takeOverHangups, takeOverStops } from '../hangup.js';
import { isDataLockFile, lockDataDir } from '../data-lock.js';
import { LOG_LEVELS, PARENT_WATCH_ENV, TEST_HOOKS_ENV } from '../serve-options.js';


const flags = {
  id: { type: 'string', required: true, description: `this node's id, forever (a node that lost its disk rejoins under a new id): ${NODE_ID_RULE}` },
  api: { type: 'string', required: true, description: 'HTTP API address host:port' },
  peer: { type: 'string', required: true, description: 'peer (Raft) address host:port' },
  peers: { type: 'string', required: true, description: 'initial voters: id=host:port,... (this node included; a joiner lists the existing cluster only)' },
  data: { type: 'string', required: true, description: 'data directory' },
  'heartbeat-ms': { type: 'number', default: 100, min: 5, max: 60_000, description: 'leader heartbeat interval; also the Raft tick' },
  'election-ms': { type: 'number', default: 1000, min: 10, max: 600_000, description: 'minimum election timeout (actual: random in [e, 2e))' },
  'log-level': { type: 'string', default: 'info', choices: LOG_LEVELS, description: 'log level' },
  'cluster-id': { type: 'string', default: 'lockstep', description: 'peers of another cluster id are refused' },
  'snapshot-every': { type: 'number', default: 10_000, min: 1, max: 100_000_000, description: 'snapshot the state machine and compact the log every N applied entries' },
  'auth-token': { type: 'string', description: 'the root token (role admin): auth is on, every API request but /healthz and /readyz must carry "Authorization: Bearer <token>" (else 401 unauthorized). Visible to other users of this machine in the process list: prefer --auth-token-file or the environment' },
  'auth-token-file': { type: 'string', description: 'read the root token from this file (trailing newline ignored; mode 0600 advised), so that it is on no command line' },
  'tls-cert': { type: 'string', description: 'this node\'s certificate (PEM, from `lockstep certs node`): with --tls-key and --tls-ca the API is HTTPS only and the peer channel mutual TLS' },
  'tls-key': { type: 'string', description: 'the key of --tls-cert (PEM)' },
  'tls-ca': { type: 'string', description: 'the cluster CA (PEM): peers must present a certificate it signed naming the node they claim to be' },
  'tls-client-ca': { type: 'string', description: 'API clients must present a certificate signed by this CA (PEM)' },
  insecure: { type: 'boolean', description: 'allow plain HTTP and TCP on an address that is not loopback (anyone who reaches the ports can speak Raft); logged as a warning' },
  storage: { type: 'string', default: 'file', choices: STORAGE_ENGINES, description: 'the storage engine of a NEW data directory: file (an append-only log with fdatasync, snapshot files) or level (LevelDB); a directory keeps the engine it was made with' },
  'restore-from': { type: 'string', description: 'start a NEW cluster from a backup (`lockstep snapshot save FILE`): --data must hold no state yet; start every node of the new cluster with the same FILE, the new --peers and a --cluster-id of its own (so that no node of the old cluster can join it)' },
} as const;

/** How long SIGTERM waits for in-flight HTTP requests before moving on. */
export const SHUTDOWN_HTTP_DRAIN_MS = 5_000;

const usage = `usage: lockstep serve --id ID --api HOST:PORT --peer HOST:PORT --peers ID=HOST:PORT,... --data DIR [flags]

Runs one node of a lockstep cluster: the Raft peer channel on --peer, the HTTP
API on --api. A node that finds state in --data recovers from it and uses
--peers only to learn addresses. SIGTERM/SIGINT: stop accepting, finish
in-flight requests, hand leadership over if leader, flush, exit 0.
Logs: one JSON line per event (pino) on stdout, with the node id and term.
With --tls-*: SIGHUP re-reads the certificate files (rotation); a failed
re-read is logged and the certificates in force stay. Without TLS a SIGHUP
is logged and changes nothing (it never stops the node).

flags:
${describeFlags(flags)}

testing:
  $${FAULT_CLOCK_ENV}=PATH  fault-inject this node's clock (monotonic and wall) from a JSON
      file {"offsetMs": n, "rate": r}, re-read within ${FAULT_CLOCK_POLL_MS} ms of a change: from
      the change on, the clock reads (its unfaulted value at the change) + offsetMs
      + (real ms since the change) * rate. Negative offsets jump back, rate 0 freezes,
      a missing or malformed file means no fault.
  $${TEST_HOOKS_ENV}=1  enable POST /v1/_test/bulk {count, concurrency}: the leader
      proposes count no-op commands (for catch-up tests and benchmarks).`;

export interface PeerEntry {
  id: NodeId;
  peerUrl: string;
}

/** Parses --peers: 'n1=127.0.0.1:7101,n2=127.0.0.1:7102'. */
export function parsePeers(text: string): PeerEntry[] {
  const out: PeerEntry[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new FlagValueError(`--peers entry '${part}' is not id=host:port`);
    const id = checkNodeId('--peers', part.slice(0, eq).trim());
    const address = part.slice(eq + 1).trim();
    checkHostPort('--peers', address);
    if (out.some((p) => p.id === id)) throw new FlagValueError(`--peers lists ${id} twice`);
    const same = out.find((p) => p.peerUrl === address);
    // Each node listens on its own peer address: this one would dial itself under another id, for ever.
    if (same) throw new FlagValueError(`--peers gives ${same.id} and ${id} the same address ${address}: each node has its own peer address`);
    out.push({ id: nodeId(id), peerUrl: address });
  }
  if (out.length === 0) throw new FlagValueError('--peers is empty');
  return out;
}

/**
 * A node id by the one rule of the member routes and of node certificates
 * (CERT_NODE_ID, tls/identity.ts): a node started under another id could not
 * be named to remove it, hand it leadership or give it a certificate.
 */
export function checkNodeId(flag: string, id: string): string {
  if (!CERT_NODE_ID.test(id)) throw new FlagValueError(`${flag}: node id ${JSON.stringify(id)} must be ${NODE_ID_RULE}`);
  return id;
}

export function checkHostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^\[?([^\]\s]*?)\]?:(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port < 1 || port > 65535) throw new FlagValueError(`${flag} must be host:port, got '${value}'`);
  return { host: m[1], port };
}

export interface ServeConfig {
  id: NodeId;
  api: { host: string; port: number };
  apiUrl: string;
  peer: string;
  peers: PeerEntry[];
  data: string;
  heartbeatMs: number;
  electionTicks: number;
  logLevel: string;
  clusterId: string;
  snapshotEvery: number;
  /** The root token (admin); null: no auth. */
  authToken: string | null;
  /** Why the operator should look at the root token's setup, if anything (logged as a warning at start). */
  authWarnings: string[];
  /** TLS certificate files; null: plain HTTP and TCP. */
  tls: TlsPaths | null;
  /** --insecure: plain on a non-loopback address was asked for (warned about at start). */
  insecure: boolean;
  /** A backup file to start a new cluster from (--restore-from); null: start from --data as it is. */
  restoreFrom: string | null;
  /** The engine for a new data directory (--storage). */
  storage: StorageEngine;
}


/** Secure by default: plain HTTP and TCP only on loopback addresses (its own and the peers' it dials), unless --insecure. */
function checkSecureByDefault(tls: TlsPaths | null, insecure: boolean, addresses: Array<[string, string]>): void {
  if (tls !== null || insecure) return;
  const exposed = addresses.filter(([, host]) => !isLoopbackHost(host));
  if (exposed.length === 0) return;
  const which = exposed.map(([flag, host]) => `${flag} ${host}`).join(' and ');
  throw new FlagValueError(`${which} is not a loopback address: this node refuses to start without TLS (give --tls-cert, --tls-key and --tls-ca; make them with \`lockstep certs\`), or pass --insecure to run plain anyway`);
}

/** --tls-cert, --tls-key and --tls-ca go together; --tls-client-ca needs them. */
export function tlsPaths(v: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-ca'?: string; 'tls-client-ca'?: string }): TlsPaths | null {
  const given = [v['tls-cert'], v['tls-key'], v['tls-ca']].filter((x) => x !== undefined && x !== '').length;
  if (given === 0) {
    if (v['tls-client-ca']) throw new FlagValueError('--tls-client-ca needs --tls-cert, --tls-key and --tls-ca');
    return null;
  }
  if (given < 3) throw new FlagValueError('TLS needs all three of --tls-cert, --tls-key and --tls-ca');
  return { cert: v['tls-cert']!, key: v['tls-key']!, ca: v['tls-ca']!, clientCa: v['tls-client-ca'] || null };
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const { values: v, given } = parseFlagsAndWords(argv, flags, { env });
  checkNodeId('--id', v.id);
  const api = checkHostPort('--api', v.api);
  checkHostPort('--peer', v.peer);
  const peers = parsePeers(v.peers);
  const heartbeatMs = v['heartbeat-ms'];
  const electionMs = v['election-ms'];
  // The tick is the heartbeat interval; the election timeout is a whole number of ticks.
  const electionTicks = Math.round(electionMs / heartbeatMs);
  if (electionTicks < 2) throw new FlagValueError(`--election-ms (${electionMs}) must be at least twice --heartbeat-ms (${heartbeatMs})`);
  if (v.api === v.peer) throw new FlagValueError(`--api and --peer are both ${v.api}: the HTTP API and the peer channel need a port each`);
  const onApi = peers.find((p) => p.peerUrl === v.api);
  if (onApi) throw new FlagValueError(`--peers gives ${onApi.id} the address ${v.api}, this node's --api: a peer address is a node's --peer`);
  const self = peers.find((p) => p.id === v.id);
  if (self && self.peerUrl !== v.peer) {
    throw new FlagValueError(`--peers gives ${v.id} the address ${self.peerUrl} but --peer is ${v.peer}`);
  }
  const tls = tlsPaths(v);
  // The peers it dials count too: plain TCP to another host carries clients' tokens and lock data in the clear.
  const dialed = peers.filter((p) => p.id !== v.id).map((p): [string, string] => [`--peers ${p.id}`, checkHostPort('--peers', p.peerUrl).host]);
  checkSecureByDefault(tls, v.insecure, [['--api', api.host], ['--peer', checkHostPort('--peer', v.peer).host], ...dialed]);
  return {
    id: nodeId(v.id),
    api,
    apiUrl: `${tls ? 'https' : 'http'}://${v.api}`,
    peer: v.peer,
    peers,
    data: v.data,
    heartbeatMs,
    electionTicks,
    logLevel: v['log-level'],
    clusterId: v['cluster-id'],
    snapshotEvery: v['snapshot-every'],
    restoreFrom: v['restore-from'] ?? null,
    storage: v.storage as StorageEngine,
    ...rootToken(v['auth-token'], v['auth-token-file'], given),
    tls,
    insecure: v.insecure,
  };
}

/** --data is made readable by its owner only. */
export const DATA_DIR_MODE = 0o700;

/**
 * Makes --data (serve: the node's directory; cluster up: the parent of its nodes'), owner only
 * (as etcd makes its data dir): it holds session ids, which are capabilities, lock values and
 * token hashes. A file in the way or no permission is the user's to fix, said as the flag
 * (exit 1), not a stack.
 */
export function makeDataDir(dir: string): void {
  try {
    makeDirectory(dir, DATA_DIR_MODE);
  } catch (err) {
    throw new UserError(`--data ${dir}: cannot make the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Root tokens shorter than this are refused as guessable. */
export const ROOT_TOKEN_CHARS_MIN = 8;
/** Shorter than this earns a warning at start. */
const ROOT_TOKEN_CHARS_ADVISED = 20;
/** What a pipe may send for --auth-token-file (a token is one short line). */
const TOKEN_PIPE_BYTES_MAX = 64 * 1024;
/** What a pipe may send for --restore-from (a larger backup: give it as a file). */
const BACKUP_PIPE_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The root token from --auth-token or --auth-token-file (one of them), checked. `given` is the
 * flags typed on the command line: the two are one setting, so a flag typed wins over the other's
 * variable (cli.md: "a flag wins over the environment"), e.g. `serve --auth-token-file F` in a
 * shell that exports LOCKSTEP_AUTH_TOKEN takes F. Both typed, or both from the environment, is refused.
 */
export function rootToken(inline: string | undefined, file: string | undefined, given: ReadonlySet<string> = new Set()): { authToken: string | null; authWarnings: string[] } {
  const warnings: string[] = [];
  if (inline && file) {
    if (given.has('auth-token-file') && !given.has('auth-token')) inline = undefined;
    else if (given.has('auth-token') && !given.has('auth-token-file')) file = undefined;
    else throw new FlagValueError('give the root token once: --auth-token (LOCKSTEP_AUTH_TOKEN) or --auth-token-file (LOCKSTEP_AUTH_TOKEN_FILE), not both');
  }
  let token: string | null = inline ? inline : null;
  if (file) {
    let text: string;
    try {
      text = readInputFile(file, TOKEN_PIPE_BYTES_MAX).toString('utf8');
      // Group- or world-readable: anyone on the machine may read the cluster's admin secret.
      if ((statSync(file).mode & 0o077) !== 0) warnings.push(`--auth-token-file ${file} is readable by other users (chmod 600 it)`);
    } catch (err) {
      throw new FlagValueError(`--auth-token-file ${file} cannot be read: ${(err as Error).message}`);
    }
    token = text.replace(/[\r\n]+$/, '');
    if (token === '') throw new FlagValueError(`--auth-token-file ${file} is empty: it must hold the root token`);
    if (/[\r\n]/.test(token)) throw new FlagValueError(`--auth-token-file ${file} must hold one line`);
  }
  if (token === null) return { authToken: null, authWarnings: warnings };
  if (token.length < ROOT_TOKEN_CHARS_MIN || !isSendableToken(token)) {
    // A token no client can send would lock every client out while the nodes run on.
    throw new FlagValueError(`the root token must be at least ${ROOT_TOKEN_CHARS_MIN} characters of visible ASCII, without spaces: what an Authorization header carries (a long random one: openssl rand -hex 32)`);
  }
  if (token.length < ROOT_TOKEN_CHARS_ADVISED) warnings.push(`the root token has ${token.length} characters; use a long random one (openssl rand -hex 32)`);
  return { authToken: token, authWarnings: warnings };
}

export async function runServe(config: ServeConfig): Promise<number> {
  // Stopped while its modules loaded: nothing has started, nothing to flush (src/cli/hangup.ts).
  if (heldStopSignal() !== null) return 0;
  // Watch the parent from the first moment: it may die while we are still starting.
  let onParentGone: (() => void) | null = null;
  let parentGone = false;
  // process.send exists iff we were spawned with an IPC channel, even after it closed.
  if (process.env[PARENT_WATCH_ENV] === '1' && typeof process.send === 'function') {
    if (process.channel && process.connected) {
      // The channel must not keep us alive after shutdown; 'disconnect' still fires.
      process.channel.unref();
      process.once('disconnect', () => {
        parentGone = true;
        onParentGone?.();
      });
    } else {
      // It closed while our modules were loading, with nobody listening.
      parentGone = true;
    }
  }
  let node: RaftNode | null = null;
  const logger: Logger = pino({
    level: config.logLevel,
    base: { node: config.id },
    mixin: () => (node ? { term: node.status().term } : {}),
  });
  const clock = clockFromEnv(process.env, (fault, error) =>
    logger.warn({ fault, error }, 'fault clock changed'),
  );
  let tls: NodeTls | null = null;
  try {
    if (config.tls) tls = new NodeTls(config.tls, config.id);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new UserError(err.message);
    throw err;
  }
  // From here, not once serving: a SIGHUP while the node still starts (replaying its log can take
  // seconds) would otherwise kill it by the signal's default action; main.ts held those that came
  // before (src/cli/hangup.ts). Servers made later read the material in force; those already made
  // swap it through NodeTls.onReload. Without TLS a SIGHUP changes nothing, and says so.
  const tlsNow = tls;
  const held = takeOverHangups(tlsNow ? () => reloadTls(tlsNow, logger) : () => logger.info('SIGHUP: this node runs without TLS, nothing to reload'));
  if (held > 0) logger.info({ signals: held }, 'SIGHUP while the node was loading: nothing to reload yet (the certificate files, if any, were read after it)');
  // Read and checked before touching --data: a damaged or foreign file changes nothing.
  const backup = config.restoreFrom === null ? null : readBackupFile(config.restoreFrom, config);
  if (backup !== null) refuseUnlessEmpty(config.data, config.restoreFrom!);
  makeDataDir(config.data);
  lockDataDir(config.data);
  if ((statSync(config.data).mode & 0o077) !== 0) {
    logger.warn({ data: config.data }, `--data ${config.data} is readable by other users (chmod 700 it): it holds session ids, lock values and token hashes`);
  }
  const { storage, engine } = await openStorage(config.data, config.storage, logger);
  logger.info({ engine }, 'storage engine');
  if (backup !== null) {
    try {
      await restoreBackup(storage, backup, config.peers);
    } catch (err) {
      await storage.close();
      if (err instanceof RestoreRefusedError) throw new UserError(`--restore-from ${config.restoreFrom}: ${err.message}`);
      throw err;
    }
    const { clusterId, takenBy, index, term } = backup.header;
    logger.info({ file: config.restoreFrom, from: { clusterId, takenBy, index, term }, voters: config.peers.map((p) => p.id) }, 'restored a backup into an empty data directory: this node starts a new cluster from it');
    // Tokens live in the replicated state, the root token does not: a backup of a cluster with auth
    // on, restored without one, makes an open cluster that keeps its tokens and checks none of them.
    const tokens = config.authToken === null ? decodeSnapshot(backup.data, index).tokens.size : 0;
    if (tokens > 0) {
      logger.warn({ tokens }, `the backup holds ${tokens} token(s) of a cluster with auth on, but this node has no root token: auth is off and every request is allowed (the tokens are kept, not checked). Start every node of the new cluster with --auth-token-file (the old root token or a new one: the tokens' secrets do not depend on it) to turn auth on`);
    }
    // Under the old cluster's id, a node of the old cluster that comes back on its old data at a
    // member's peer address is let in: with a higher term and a longer log it wins an election, the
    // restored members refuse its appends (they would overwrite committed entries), and the new
    // cluster stalls. Another --cluster-id keeps it out at the handshake.
    if (clusterId === config.clusterId) {
      logger.warn({ clusterId }, `the restored cluster keeps the backup's cluster id '${clusterId}': a node of the old cluster restarted on its old data at one of these peer addresses could join it and stall it. Start every node of the new cluster with its own --cluster-id (the same on all of them) to keep the old cluster out`);
    }
  }
  const peerMap = new Map<NodeId, string>(config.peers.map((p) => [p.id, p.peerUrl]));
  const transport = new TcpTransport({
    self: config.id,
    clusterId: config.clusterId,
    listen: config.peer,
    apiUrl: config.apiUrl,
    peers: peerMap,
    logger,
    ...(tls ? { tls } : {}),
    // Without TLS the peer port has no certificates to check: with auth on, members prove the root token instead.
    ...(!tls && config.authToken !== null ? { peerKey: PeerKey.fromRootToken(config.authToken) } : {}),
    forwarding: true,
  });
  // The node applies through the dispatcher; the server connects its consumers to it.
  const dispatcher = new EventDispatcher(new LockMachine());
  const registry = createRegistry();
  // A joiner (not in --peers) starts with the existing voters as its initial
  // configuration, like etcd's --initial-cluster; the config entries in the
  // log (or the leader's snapshot) add it.
  const members = config.peers;
  node = new RaftNode({
    id: config.id,
    clusterId: config.clusterId,
    members: members.map((p) => ({ id: p.id, peerUrl: p.peerUrl, apiUrl: p.id === config.id ? config.apiUrl : null })),
    bootstrapVoters: new FileBootstrapVoters(config.data),
    apiUrl: config.apiUrl,
    tickMs: config.heartbeatMs,
    electionTimeoutTicks: config.electionTicks,
    heartbeatIntervalTicks: 1,
    storage,
    transport,
    stateMachine: dispatcher,
    logger: logger.child({ component: 'node' }),
    clock,
    snapshotEveryEntries: config.snapshotEvery,
    registry,
    createRaft: (c, p) => new Raft(c, p),
    onFatal: (err) => {
      logger.fatal({ err }, 'fatal node error; exiting');
      process.exit(1);
    },
  });
  if (!config.peers.some((p) => p.id === config.id)) {
    logger.info({ peers: config.peers.map((p) => p.id) }, '--peers does not list this node: starting as a joiner');
  }
  for (const warning of config.authWarnings) logger.warn(warning);
  if (config.insecure && config.tls === null) logger.warn('--insecure: the API is plain HTTP and the peer channel plain TCP; anyone who reaches the peer port can speak Raft');
  try {
    await node.start();
  } catch (err) {
    // The peer channel could not listen (a taken --peer port): stop what started, say which flag.
    await node.stop().catch(() => undefined);
    clock.close();
    throw addressError('--peer', config.peer, err);
  }
  const server = await createLockServer({ node, dispatcher, registry, logger: logger.child({ component: 'http' }), clock, authToken: config.authToken, tls, peers: transport, loopbackOnly: tls === null && !config.insecure });
  if (process.env[TEST_HOOKS_ENV] === '1') registerTestHooks(server.app, node);
  try {
    await server.listen(config.api.host, config.api.port);
  } catch (err) {
    // Raft and the peer channel run already: a member nobody can reach through the API
    // must not linger (it would never exit, and SIGTERM would not find its handler).
    await server.close().catch(() => undefined);
    await node.stop().catch(() => undefined);
    clock.close();
    throw addressError('--api', config.apiUrl.replace(/^https?:\/\//, ''), err);
  }
  logger.info({ api: config.apiUrl, peer: config.peer, data: config.data }, 'serving');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // Stop accepting and let in-flight requests finish, bounded: connections still open then are cut
      // (and should the close hang anyway, the node stops a second later all the same).
      await Promise.race([
        server.close(SHUTDOWN_HTTP_DRAIN_MS).catch((err: unknown) => logger.warn({ err }, 'http close failed')),
        new Promise((r) => setTimeout(r, SHUTDOWN_HTTP_DRAIN_MS + 1_000).unref()),
      ]);
      // Hands leadership over if leader, then flushes storage and closes the transport.
      await node!.stop().catch((err: unknown) => logger.error({ err }, 'node stop failed'));
      clock.close();
      logger.info('stopped');
      logger.flush?.();
      resolve(0);
    };
    // A stop signal that came while the node started (held since main.ts) stops it now.
    const held = takeOverStops((signal) => void shutdown(signal));
    if (held !== null) void shutdown(held);
    onParentGone = () => void shutdown('parent exited');
    if (parentGone) onParentGone();
  });
}

/** Why an address cannot be listened on, as the flag that gave it (a UserError: exit 1); other errors as they are. */
export function addressError(flag: string, address: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new UserError(`${flag} ${address}: the address is in use (another node or program listens there); stop it or pick another port`);
  if (code === 'EADDRNOTAVAIL') return new UserError(`${flag} ${address}: no interface of this machine has that address`);
  if (code === 'EACCES') return new UserError(`${flag} ${address}: not allowed to listen there (ports below 1024 need privileges)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return new UserError(`${flag} ${address}: the host name does not resolve (${code}); give an address of this machine`);
  return err;
}

/** SIGHUP: certificate rotation. New connections use the new files; open ones keep theirs. */
function reloadTls(tls: NodeTls, logger: Logger): void {
  try {
    tls.reload();
    logger.info({ cert: tls.paths.cert }, 'reloaded the TLS certificate files');
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'TLS certificate files not reloaded; the ones in force stay');
  }
}

/** The backup named by --restore-from, decoded and checked; a UserError says what is wrong. */
function readBackupFile(file: string, config: ServeConfig): Backup {
  if (!config.peers.some((p) => p.id === config.id)) {
    throw new FlagValueError(`--restore-from: --peers must list this node (${config.id}): a restored node is a voter of the new cluster`);
  }
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file, BACKUP_PIPE_BYTES_MAX);
  } catch (err) {
    throw new FlagValueError(`--restore-from ${file} cannot be read: ${(err as Error).message}`);
  }
  let backup: Backup;
  try {
    backup = decodeBackup(bytes);
  } catch (err) {
    if (err instanceof BackupFormatError) throw new UserError(`--restore-from ${file}: ${err.message}`);
    throw err;
  }
  try {
    // Tokens continue far above the backup's: the old cluster may have granted more after it was saved.
    return { ...backup, data: raiseTokenFloor(backup.data, RESTORE_TOKEN_GAP) };
  } catch (err) {
    throw new UserError(`--restore-from ${file}: the state in it cannot be read (${(err as Error).message})`);
  }
}

interface RouteHost {
  post(path: string, options: { schema: unknown }, handler: (req: { body: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => Promise<unknown>): unknown;
}

/** Test-only: bulk no-op proposals, `concurrency` in flight at a time (drives group commit). */
function registerTestHooks(app: unknown, node: RaftNode): void {
  const host = app as RouteHost;
  host.post('/v1/_test/bulk', {
    // Its fields, declared: every body schema is closed (src/server/closed-bodies.ts).
    schema: { hide: true, body: { type: 'object', properties: { count: { type: 'integer' }, concurrency: { type: 'integer' } } } },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { count?: number; concurrency?: number };
    const count = Math.min(Math.max(1, Number(body.count ?? 1000)), 1_000_000);
    const concurrency = Math.min(Math.max(1, Number(body.concurrency ?? 256)), 10_000);
    const data = encodeProposal({ command: { type: 'expire', sessionIds: [], holds: [], lockDelays: [] }, nowMs: Date.now(), idempotency: null });
    let next = 0;
    let committed = 0;
    let lastIndex = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next++;
        const r = await node.propose(data, 30_000);
        committed++;
        lastIndex = Math.max(lastIndex, r.index);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    } catch (err) {
      return reply.code(503).send({ error: { code: 'unavailable', message: String(err), committed, lastIndex } });
    }
    return { committed, lastIndex };
  });
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run one node of a cluster',
  usage,
  async run(argv) {
    return runServe(parseServeArgs(argv));
  },
};

/**
 * cli.md: `--restore-from` needs an EMPTY --data. A folder holding anything
 * (an old node's files, a stray copy, another program's) is refused before a
 * byte is written: the restored node would otherwise start beside them.
 */
export function refuseUnlessEmpty(data: string, restoreFrom: string): void {
  let names: string[];
  try {
    // lost+found is the file system's, not data: every freshly made ext4 volume has one at its root.
    // The lock file of a node that died starting (and its takeover's files) is no data either.
    names = readdirSync(data).filter((name) => name !== 'lost+found' && !isDataLockFile(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError(`--data ${data}: ${(err as Error).message}`);
  }
  if (names.length === 0) return;
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, and ${names.length - 3} more` : '');
  throw new UserError(`--restore-from ${restoreFrom}: --data ${data} is not empty (${shown}); a restore starts a NEW cluster from an empty --data (to restart this node from its own data, leave --restore-from off)`);
}
