// TLS from the command line: `cluster up --tls` makes the certificates once
// under <data>/certs and starts HTTPS nodes; client commands reach them with
// --ca (or LOCKSTEP_CA) and fail without it; the certificates are reused.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureClusterCerts } from '../../src/tls/cluster-certs.js';
import { CLI } from '../node/support/proc-cluster.js';

describe('cluster up --tls and the client flags', () => {
  it('starts HTTPS nodes with certificates made under <data>/certs; status needs --ca', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-up-tls-'));
    let proc: ReturnType<typeof spawn> | null = null;
    try {
      const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--tls', '--base-port', '9540', '--data', dir, '--heartbeat-ms', '50', '--election-ms', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = child;
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 90_000;
      while (!out.includes('Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/leader n[123]/);
      const ca = join(dir, 'certs', 'ca.crt');
      expect(out).toContain('export LOCKSTEP_ENDPOINTS=https://127.0.0.1:9541,https://127.0.0.1:9542,https://127.0.0.1:9543');
      expect(out).toContain(`export LOCKSTEP_CA=${ca}`);
      for (const key of ['ca.key', 'n1.key', 'n2.key', 'n3.key']) expect(statSync(join(dir, 'certs', key)).mode & 0o777).toBe(0o600);
      const endpoints = 'https://127.0.0.1:9541,https://127.0.0.1:9542';
      const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOCKSTEP_CA: '', ...env } });
      const withCa = run(['status', '--endpoints', endpoints, '--ca', ca]);
      expect(withCa.stderr).toBe('');
      expect(withCa.status).toBe(0);
      expect(withCa.stdout.match(/\bup$/gm)).toHaveLength(3);
      expect(run(['locks', '--endpoints', endpoints], { LOCKSTEP_CA: ca }).status).toBe(0);
      // Without the CA the nodes' certificates are not trusted: nothing answers.
      expect(run(['status', '--endpoints', endpoints]).status).toBe(1);
      // ...and the message says what to do about TLS, not "is the cluster up?".
      const noCa = run(['locks', '--endpoints', endpoints]);
      expect(noCa.status).toBe(1);
      expect(noCa.stderr).toMatch(/not signed by a CA this command trusts; pass the cluster CA with --ca/);
      expect(noCa.stderr).not.toMatch(/is the cluster up/);
      const plain = run(['locks', '--endpoints', endpoints.replaceAll('https://', 'http://')]);
      expect(plain.status).toBe(1);
      expect(plain.stderr).toMatch(/use https:\/\/ endpoints and pass --ca/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc !== null && proc.exitCode === null) proc.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('makes the certificates once: a second run reuses them, and adds only what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-certs-once-'));
    try {
      const first = await ensureClusterCerts(dir, ['n1', 'n2']);
      const before = ['ca.crt', 'n1.crt', 'n2.crt'].map((f) => readFileSync(join(dir, f), 'utf8'));
      await ensureClusterCerts(dir, ['n1', 'n2', 'n3']);
      expect(['ca.crt', 'n1.crt', 'n2.crt'].map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
      expect(readFileSync(first.node('n3').cert, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
