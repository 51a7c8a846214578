// One real `lockstep serve` process: spawn, kill -9, restart on the same
// data directory, SIGSTOP/SIGCONT. Logs go to a file in the run folder. An
// exit the nemesis did not cause is recorded: a node that crashes by itself
// is a finding.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export interface NodeSpec {
  id: string;
  apiPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  clockFile: string;
  heartbeatMs: number;
  electionMs: number;
  /** `--peers` value; a function because it is computed through the proxies. */
  peersArg: () => string;
  /** The CLI entry point (dist/cli/main.js). */
  cliPath: string;
  /** `--snapshot-every`, or null for the server's default. */
  snapshotEvery: number | null;
}

export interface UnexpectedExit {
  node: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

export class NodeProcess {
  private child: ChildProcess | null = null;
  private log: WriteStream | null = null;
  private expectingExit = false;
  paused = false;
  starts = 0;

  constructor(
    readonly spec: NodeSpec,
    private readonly nowMs: () => number,
    private readonly onUnexpectedExit: (e: UnexpectedExit) => void,
  ) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${this.spec.apiPort}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    if (this.child) throw new Error(`NodeProcess ${this.spec.id}: already running`);
    const s = this.spec;
    mkdirSync(s.dataDir, { recursive: true });
    mkdirSync(path.dirname(s.logFile), { recursive: true });
    this.log ??= createWriteStream(s.logFile, { flags: 'a' });
    this.log.write(`{"chaos":"start","atMs":${this.nowMs().toFixed(0)}}\n`);
    const args = [
      s.cliPath,
      'serve',
      '--id', s.id,
      '--api', `127.0.0.1:${s.apiPort}`,
      '--peer', `127.0.0.1:${s.peerPort}`,
      '--peers', s.peersArg(),
      '--data', s.dataDir,
      '--heartbeat-ms', String(s.heartbeatMs),
      '--election-ms', String(s.electionMs),
      ...(s.snapshotEvery !== null ? ['--snapshot-every', String(s.snapshotEvery)] : []),
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LOCKSTEP_FAULT_CLOCK_FILE: s.clockFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts += 1;
    this.expectingExit = false;
    this.paused = false;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.log?.write(`{"chaos":"exit","code":${code},"signal":"${signal}","atMs":${this.nowMs().toFixed(0)}}\n`);
      if (!this.expectingExit) this.onUnexpectedExit({ node: s.id, code, signal, atMs: this.nowMs() });
    });
    this.child = child;
  }

  private async signalAndWait(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.paused) child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.paused = false;
  }

  /** kill -9: no chance to flush or hand over. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL', 0);
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    await this.signalAndWait('SIGTERM', graceMs);
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

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    this.log = null;
  }
}
