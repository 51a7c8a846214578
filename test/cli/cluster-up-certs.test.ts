// `cluster up --tls` on a <data>/certs that holds half of a certificate pair
// (a copied ca.crt without its key, a node's .crt without its .key): exit 1
// with what to do, before any node starts, not a raw stack.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli } from './run-cli.js';

/** Nothing listens here: the command stops before starting a node. API 9551, peer 9651. */
const BASE_PORT = '9550';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-up-certs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster up --tls with half-made certificates', () => {
  it('a ca.crt without ca.key, or n1.crt without n1.key: exit 1 naming the file and what to do, no stack', async () => {
    // A whole CA, made as a user would, to copy halves of.
    const made = join(dir, 'made');
    expect((await runCli(['certs', 'ca', '--dir', made])).status).toBe(0);
    expect((await runCli(['certs', 'node', 'n1', '--dir', made, '--hosts', '127.0.0.1,localhost'])).status).toBe(0);
    const cases: Array<[string, string[]]> = [
      ['ca-only', ['ca.crt']],
      ['node-half', ['ca.crt', 'ca.key', 'n1.crt']],
    ];
    for (const [name, files] of cases) {
      const data = join(dir, name);
      mkdirSync(join(data, 'certs'), { recursive: true });
      for (const f of files) copyFileSync(join(made, f), join(data, 'certs', f));
      const r = await runCli(['cluster', 'up', '--tls', '--nodes', '1', '--base-port', BASE_PORT, '--data', data]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^lockstep: --tls: .*${files.at(-1)!.replace('.', '\\.')} exists already`));
      expect(r.stderr).toContain(join(data, 'certs'));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, cliTestTimeout(4));
});
