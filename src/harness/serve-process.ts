// One `lockstep serve` process, for tests, benchmarks and the chaos suite:
// its flags, spawn, graceful stop, kill -9, SIGSTOP/SIGCONT, restart on the
// same data directory, and what it said. The ONE place that turns serve's
// flags into a command line: a new `serve` flag is a field in ServeFlags and
// a line in serveArgs(), nothing else.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, createWriteStream, existsSync, openSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirectory } from '../make-dir.js';
import { type LogLevel, PARENT_WATCH_ENV } from '../cli/serve-options.js';

/**
 * Writes the root token for `ServeFlags.authTokenFile`: owner-only (0600), so
 * the secret is on no command line and readable by nobody else. An existing
 * file is narrowed first: writeFileSync's mode applies only when it creates one.
 */
export function writeAuthTokenFile(file: string, token: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
}

/** `lockstep serve`'s flags (src/cli/commands/serve.ts). Absent: serve's default. */
export interface ServeFlags {
  id: string;
  /** host:port */
  api: string;
  /** host:port */
  peer: string;
  /** id=host:port,... */
  peers: string;
  data: string;
  heartbeatMs?: number;
  electionMs?: number;
  logLevel?: LogLevel;
  clusterId?: string;
  snapshotEvery?: number;
  /**
   * The root token's file (serve --auth-token-file): auth is on. Never the
   * token itself on the command line, where any user of the machine reads it
   * in /proc/<pid>/cmdline.
   */
  authTokenFile?: string;
  /** TLS (serve --tls-cert --tls-key --tls-ca [--tls-client-ca]): paths. */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientCa?: string;
  /** serve --insecure: plain HTTP and TCP on an address that is not loopback. */
  insecure?: boolean;
}

export function serveArgs(f: ServeFlags): string[] {
  const args = ['serve', '--id', f.id, '--api', f.api, '--peer', f.peer, '--peers', f.peers, '--data', f.data];
  if (f.heartbeatMs !== undefined) args.push('--heartbeat-ms', String(f.heartbeatMs));
  if (f.electionMs !== undefined) args.push('--election-ms', String(f.electionMs));
  if (f.logLevel !== undefined) args.push('--log-level', f.logLevel);
  if (f.clusterId !== undefined) args.push('--cluster-id', f.clusterId);
  if (f.snapshotEvery !== undefined) args.push('--snapshot-every', String(f.snapshotEvery));
  if (f.authTokenFile !== undefined) args.push('--auth-token-file', f.authTokenFile);
  if (f.tlsCert !== undefined) args.push('--tls-cert', f.tlsCert);
  if (f.tlsKey !== undefined) args.push('--tls-key', f.tlsKey);
  if (f.tlsCa !== undefined) args.push('--tls-ca', f.tlsCa);
  if (f.tlsClientCa !== undefined) args.push('--tls-client-ca', f.tlsClientCa);
  if (f.insecure) args.push('--insecure');
  return args;
}

/** The repository root, from this module's place (src/harness or dist/harness). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Which CLI runs: 'dist' is the build (`npm test` builds first), 'source'
 * runs src/cli/main.ts under tsx (never a stale build), a string is a path to
 * another build's main.js (A/B benchmarks, `chaos --cli`).
 */
export type CliEntry = 'dist' | 'source' | string;

/** node's arguments that run `cli` (before the CLI's own). */
export function commandOf(cli: CliEntry): string[] {
  if (cli === 'source') return ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
  if (cli === 'dist') return [path.join(ROOT, 'dist/cli/main.js')];
  return [path.resolve(cli)];
}

/**
 * Where stdout and stderr go: kept in memory (`output`), appended to a file
 * (by the harness, so that it can add its own lines), written by the node
 * itself to a file it keeps after we die (`file-owned`), stderr only to ours,
 * or nowhere.
 */
export type ServeOutput = 'capture' | 'ignore' | 'stderr' | { file: string } | { fileOwned: string };

export interface ServeProcessOptions {
  /** Read at every start: the chaos suite's --peers go through link proxies that change. */
  flags: ServeFlags | (() => ServeFlags);
  cli?: CliEntry;
  /** Node's own flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /**
   * serve flags passed through as they are, after ServeFlags' (a benchmark's
   * --lockstep-flags from its own command line). Code that knows the flag
   * adds it to ServeFlags instead.
   */
  extraArgs?: string[];
  /** Added to (undefined: removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  output?: ServeOutput;
  /** An IPC channel: the node stops when this process dies, even by SIGKILL (`cluster up`). */
  stopWithParent?: boolean;
  /** Before every spawn (the log file is open: note() works). */
  onStart?: () => void;
  /** Every exit; `expected` is false when nobody here asked for it (a crash is a finding). */
  onExit?: (exit: ServeExit) => void;
}

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
}

/** After SIGTERM, how long a node gets to hand over and flush before SIGKILL. */
export const STOP_GRACE_MS = 15_000;

export class ServeProcess {
  /** Everything the process wrote ('capture' output), across restarts. */
  readonly output: string[] = [];
  readonly exits: ServeExit[] = [];
  paused = false;
  starts = 0;
  private child: ChildProcess | null = null;
  private expectingExit = false;
  private log: WriteStream | null = null;

  constructor(private readonly options: ServeProcessOptions) {}

  get flags(): ServeFlags {
    const f = this.options.flags;
    return typeof f === 'function' ? f() : f;
  }

  get id(): string {
    return this.flags.id;
  }

  /** https:// when the node serves TLS (its API is HTTPS only). */
  get apiUrl(): string {
    return `${this.flags.tlsCert === undefined ? 'http' : 'https'}://${this.flags.api}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The program and arguments start() runs (cluster up prints them to restart a node by hand). */
  commandLine(): string[] {
    return [process.execPath, ...(this.options.nodeArgs ?? []), ...commandOf(this.options.cli ?? 'dist'), ...serveArgs(this.flags), ...(this.options.extraArgs ?? [])];
  }

  /** Start (or restart, on the same data directory). */
  start(): void {
    if (this.child) throw new Error(`serve ${this.id}: already running`);
    // serve makes its data directory itself, and says so when it cannot (a test relies on that).
    const output = this.options.output ?? 'capture';
    let stdio: Array<'ignore' | 'pipe' | 'inherit' | 'ipc' | number>;
    let ownedFd: number | null = null;
    if (output === 'capture') stdio = ['ignore', 'pipe', 'pipe'];
    else if (output === 'ignore') stdio = ['ignore', 'ignore', 'ignore'];
    else if (output === 'stderr') stdio = ['ignore', 'ignore', 'inherit'];
    else if ('file' in output) {
      makeDirectory(path.dirname(output.file));
      this.log ??= createWriteStream(output.file, { flags: 'a' });
      stdio = ['ignore', 'pipe', 'pipe'];
    } else {
      // The node writes its log itself: it outlives us (and our pipes) if we die first.
      makeDirectory(path.dirname(output.fileOwned));
      ownedFd = openSync(output.fileOwned, 'a');
      stdio = ['ignore', ownedFd, ownedFd];
    }
    if (this.options.stopWithParent) stdio.push('ipc');
    this.options.onStart?.();
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.options.env, ...(this.options.stopWithParent ? { [PARENT_WATCH_ENV]: '1' } : {}) };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const [program, ...args] = this.commandLine();
    const child = spawn(program, args, { stdio, env });
    if (ownedFd !== null) closeSync(ownedFd);
    this.starts += 1;
    this.expectingExit = false;
    this.paused = false;
    if (output === 'capture') {
      const collect = (chunk: Buffer): void => void this.output.push(chunk.toString());
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
    } else if (this.log !== null) {
      child.stdout!.pipe(this.log, { end: false });
      child.stderr!.pipe(this.log, { end: false });
    }
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const exit = { code, signal, expected: this.expectingExit };
      this.exits.push(exit);
      this.options.onExit?.(exit);
    });
    this.child = child;
  }

  /** A line of our own in the node's log file (chaos: when it was started and stopped). */
  note(line: string): void {
    this.log?.write(`${line}\n`);
  }

  /** Sends `signal`; SIGKILL after `graceMs` if it has not exited. Resolves with the exit (null if not running). */
  async signal(signal: NodeJS.Signals, graceMs = STOP_GRACE_MS): Promise<ServeExit | null> {
    const child = this.child;
    if (!child) return null;
    this.expectingExit = true;
    const exited = new Promise<ServeExit>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig, expected: true })));
    if (this.paused) child.kill('SIGCONT');
    child.kill(signal);
    const timer = signal === 'SIGKILL' ? null : setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await exited;
    if (timer) clearTimeout(timer);
    this.paused = false;
    return exit;
  }

  /** kill -9: no chance to flush or hand over. */
  kill(): Promise<ServeExit | null> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: serve stops accepting, hands leadership over, flushes; SIGKILL after graceMs. */
  stop(graceMs = STOP_GRACE_MS): Promise<ServeExit | null> {
    return this.signal('SIGTERM', graceMs);
  }

  pause(): void {
    if (!this.child || this.paused) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** Stops it (gracefully) and closes its log file. */
  async close(graceMs = STOP_GRACE_MS): Promise<void> {
    await this.stop(graceMs);
    const log = this.log;
    this.log = null;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}
