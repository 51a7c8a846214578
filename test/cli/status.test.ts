import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderTable } from '../../src/cli/table.js';
import { makeClient, parseEndpoints } from '../../src/cli/endpoints.js';
import { FlagValueError } from '../../src/cli/command.js';
import { closedPort, startFakeApi, type FakeApi } from './fake-api.js';
import { runCli } from './run-cli.js';

let api: FakeApi;
beforeEach(async () => {
  api = await startFakeApi();
});
afterEach(async () => {
  await api.close();
});

describe('lockstep status', () => {
  it('prints leader, term, indexes and a member table with lag', async () => {
    const r = await runCli(['status', '--endpoints', api.url]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('leader n1');
    expect(r.stdout).toContain('term 4');
    expect(r.stdout).toContain('commit 57');
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('ID'));
    expect(header).toMatch(/ROLE.*MATCH.*APPLIED.*LAG/);
    const n2 = lines.find((l) => l.startsWith('n2'));
    // matchIndex 50 against commit 57: 7 behind; nobody answers for n2.
    expect(n2).toMatch(/\b50\b.*\b7\b.*DOWN/);
  });

  it('exits 1 with advice when the cluster is down', async () => {
    const port = await closedPort();
    const r = await runCli(['status', '--endpoints', `http://127.0.0.1:${port}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('lockstep cluster up');
  });

  it('exits 2 on an unknown flag', async () => {
    expect((await runCli(['status', '--bogus'])).status).toBe(2);
  });
});

describe('cli helpers', () => {
  it('renders aligned tables with - for missing cells', () => {
    expect(renderTable(['A', 'BB'], [['x', null], ['long', 3]])).toBe('A     BB\nx     -\nlong  3');
  });

  it('parses endpoints, adding http:// and refusing paths', () => {
    expect(parseEndpoints('127.0.0.1:7001, http://h:7002/')).toEqual(['http://127.0.0.1:7001', 'http://h:7002']);
    expect(() => parseEndpoints('http://h:1/v1')).toThrow(FlagValueError);
    expect(() => parseEndpoints(' , ')).toThrow(FlagValueError);
    expect(() => parseEndpoints('ftp://h:1')).toThrow(/not an http/);
    expect(parseEndpoints('')).toEqual(['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003']);
    expect(parseEndpoints(undefined)).toEqual(['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003']);
  });

  it('with --ca, the default endpoints and a bare host:port are https:// (cluster up --tls serves HTTPS only)', () => {
    // `lockstep status --ca data/certs/ca.crt` after `cluster up --tls` spoke http:// to its nodes and was cut off.
    expect(parseEndpoints(undefined, true)).toEqual(['https://127.0.0.1:7001', 'https://127.0.0.1:7002', 'https://127.0.0.1:7003']);
    expect(parseEndpoints('127.0.0.1:7001, http://h:7002', true)).toEqual(['https://127.0.0.1:7001', 'http://h:7002']);
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-ca-'));
    try {
      const ca = join(dir, 'ca.crt');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n(not parsed here)\n-----END CERTIFICATE-----\n');
      expect(makeClient(undefined, undefined, { ca }).endpoints).toEqual(['https://127.0.0.1:7001', 'https://127.0.0.1:7002', 'https://127.0.0.1:7003']);
      expect(makeClient(undefined).endpoints).toEqual(['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003']);
      // A key given for the certificate is said as such, not as an untrusted node certificate later.
      const key = join(dir, 'ca.key');
      writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      expect(() => makeClient(undefined, undefined, { ca: key })).toThrow(/--ca \S+ holds no PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
