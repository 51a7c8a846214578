// A node of a new cluster restored from a backup (`serve --restore-from`),
// for the tests that read what it says at start.
import { spawn } from 'node:child_process';
import { CLI } from '../node/support/proc-cluster.js';

/**
 * Starts `serve --restore-from file` as a one-node cluster on `port` (peer
 * port+1) with `extra` flags and `env` over a neutral environment, waits for
 * its 'serving' line, stops it; its log.
 */
export async function restoredLog(file: string, data: string, port: number, extra: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--id', 'n1', '--api', `127.0.0.1:${port}`, '--peer', `127.0.0.1:${port + 1}`, '--peers', `n1=127.0.0.1:${port + 1}`, '--data', data, '--restore-from', file, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOCKSTEP_CLUSTER_ID: '', LOCKSTEP_AUTH_TOKEN: '', LOCKSTEP_AUTH_TOKEN_FILE: '', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 60_000;
  while (!out.includes('"serving"') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await exited;
  return out;
}
