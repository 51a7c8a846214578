// Run the real `lockstep` entry point as a process (the process is the point:
// exit statuses, signals to the child): TEST_CLI, the source under tsx (no
// build needed) or the build `npm test` just made.
import { spawn } from 'node:child_process';
import { TEST_CLI_ARGS } from '../node/support/proc-cluster.js';

/** A CLI run that takes longer than this is a hung test, not a slow machine. */
const CLI_RUN_TIMEOUT_MS = 30_000;

/**
 * The timeout of a test that runs the CLI `runs` times: each run has its own
 * bound (under tsx on a loaded machine one takes seconds), and the test's
 * must not cut a slow but healthy sequence short.
 */
export function cliTestTimeout(runs: number, extraMs = 10_000): number {
  return runs * CLI_RUN_TIMEOUT_MS + extraMs;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TEST_CLI_ARGS, ...args], {
      env: { ...process.env, LOCKSTEP_ENDPOINTS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lockstep ${args.join(' ')} did not finish in ${CLI_RUN_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, CLI_RUN_TIMEOUT_MS);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A `cluster up` left running: what it said so far, its being up, and its stop by SIGTERM. */
export interface RunningClusterUp {
  output(): string;
  /** Resolves once it says the cluster is up ("Ctrl-C"), or it exited, or `timeoutMs` passed; true if up. */
  up(timeoutMs: number): Promise<boolean>;
  /** True until it exits. */
  running(): boolean;
  /** SIGTERM, and its exit status. */
  stop(): Promise<number | null>;
}

export function startClusterUp(args: string[], env: Record<string, string> = {}): RunningClusterUp {
  const child = spawn(process.execPath, [...TEST_CLI_ARGS, 'cluster', 'up', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOCKSTEP_AUTH_TOKEN: '', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    output: () => out,
    async up(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      return out.includes('Ctrl-C');
    },
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
