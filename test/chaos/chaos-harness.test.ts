// The chaos harness itself, without a real cluster: ports handed to a joiner
// (ChaosCluster) and a member replacement cut short (Nemesis), with
// test/chaos/fake-serve.mjs standing in for `lockstep serve`. Both come from
// a failed CI run (seed 20261122): after n3 was replaced by j1, n1 and n2
// still dialed n3 at its old proxies and reached j1 there; then every node
// was stopped from outside mid-replacement, the round threw, and its record
// (n3 removed, j1 started) was lost, so the run said no member was replaced.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosCluster } from '../../src/chaos/cluster/cluster.js';
import { Nemesis } from '../../src/chaos/nemesis/nemesis.js';
import { Prng } from '../../src/chaos/prng.js';
import { pollFor } from '../../src/harness/local-cluster.js';
import { nodeIdOfSubjectAltName } from '../../src/tls/identity.js';

// Ports 22200-22399 are this file's (a chaos cluster uses 100 from its base).
const FAKE_SERVE = fileURLToPath(new URL('./fake-serve.mjs', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function cluster(portBase: number, nodes = 3, tls = false, auth = false): ChaosCluster {
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-chaos-harness-'));
  const t0 = Date.now();
  const c = new ChaosCluster({ nodes, runDir, portBase, heartbeatMs: 100, electionMs: 1000, cliPath: FAKE_SERVE, snapshotEvery: null, tls, auth }, new Prng(1), () => Date.now() - t0);
  cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
  cleanups.push(() => c.stop());
  return c;
}

describe('ChaosCluster ports', () => {
  it("a joiner's proxies do not take a removed node's proxy ports while fresh ones are left", async () => {
    const c = cluster(22200);
    for (let i = 0; i < 3; i++) await c.addNode();
    // What the survivors' --peers (fixed at their start) name n3 by.
    const staleN3 = [c.network.addressFor('n1', 'n3'), c.network.addressFor('n2', 'n3')];
    await c.dropNode('n3');
    await c.addNode('j1', true);
    const ingress = await c.network.addIngress('j1');
    const joinerAddresses = [ingress.address, ...['n1', 'n2'].flatMap((x) => [c.network.addressFor(x, 'j1'), c.network.addressFor('j1', x)])];
    for (const a of staleN3) expect(joinerAddresses).not.toContain(a);
  });

  it('reuses removed nodes\' proxy ports once fresh ones run out, so a long run keeps replacing members', async () => {
    const c = cluster(22200);
    for (let i = 0; i < 3; i++) await c.addNode();
    // 69 proxy ports; each replacement in a 3-node cluster takes 5 (4 links, 1 ingress): 30 need reuse.
    let victim = 'n3';
    for (let k = 0; k < 30; k++) {
      await c.dropNode(victim);
      victim = c.freshId();
      await c.addNode(victim, true);
      await c.network.addIngress(victim);
    }
    expect(c.ids()).toEqual(['n1', 'n2', 'j30']);
  });
});

describe('ChaosCluster with TLS', () => {
  it('gives every node, a joiner too, a certificate naming it from one run CA, an https API URL, and the run a fetch that trusts the CA', async () => {
    const c = cluster(22200, 3, true);
    expect(c.transportFetch).toBe(globalThis.fetch);
    for (let i = 0; i < 3; i++) await c.addNode();
    await c.addNode('j1', true);
    const ca = new X509Certificate(readFileSync(path.join(c.options.runDir, 'certs', 'ca.crt')));
    for (const id of c.ids()) {
      const { tlsCert, tlsKey, tlsCa } = c.node(id).flags;
      expect(tlsCa).toBe(path.join(c.options.runDir, 'certs', 'ca.crt'));
      const cert = new X509Certificate(readFileSync(tlsCert!));
      expect(cert.checkIssued(ca)).toBe(true);
      expect(nodeIdOfSubjectAltName(cert.subjectAltName)).toBe(id);
      expect(existsSync(tlsKey!)).toBe(true);
      expect(c.node(id).apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
    }
    expect(c.transportFetch).not.toBe(globalThis.fetch);
  });

  it('a plain run has none of it', async () => {
    const c = cluster(22200);
    await c.addNode();
    expect(c.node('n1').flags.tlsCert).toBeUndefined();
    expect(c.node('n1').apiUrl).toMatch(/^http:\/\//);
    expect(existsSync(path.join(c.options.runDir, 'certs'))).toBe(false);
    expect(c.transportFetch).toBe(globalThis.fetch);
    expect(c.node('n1').flags.authTokenFile).toBeUndefined();
    expect(await authorizationSent(c)).toBeUndefined();
  });
});

/** The Authorization header a request through the run's fetch carries. */
async function authorizationSent(c: ChaosCluster): Promise<string | undefined> {
  let seen: string | undefined;
  const server = createServer((req, res) => {
    seen = req.headers.authorization;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await (await c.fetch(`http://127.0.0.1:${port}/v1/cluster`, { headers: { accept: 'application/json' } })).text();
  } finally {
    server.close();
  }
  return seen;
}

describe('ChaosCluster with auth', () => {
  it('gives every node, a joiner too, the run\'s root token file (0600, never a flag value), and the run\'s requests carry it', async () => {
    const c = cluster(22200, 3, false, true);
    for (let i = 0; i < 3; i++) await c.addNode();
    await c.addNode('j1', true);
    const file = path.join(c.options.runDir, 'root-token');
    for (const id of c.ids()) expect(c.node(id).flags.authTokenFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^chaos-root-/);
    expect(await authorizationSent(c)).toBe(`Bearer ${token}`);
  });
});

describe('Nemesis member replacement', () => {
  it('keeps its record when every node stops mid-replacement (n3 removed, j1 started, the add unanswered)', async () => {
    const c = cluster(22300);
    await c.start();
    const log: string[] = [];
    const nemesis = new Nemesis(
      c,
      new Prng(20261122),
      { kinds: ['membership'], electionMs: 1000, faultMsMin: 100, faultMsMax: 200, quietMsMin: 10, quietMsMax: 20 },
      () => 'n1',
      () => Date.now(),
      (line) => log.push(line),
    );
    const done = nemesis.run();
    cleanups.push(async () => {
      nemesis.stop();
      await done;
    });
    // Once a node was asked to add the joiner, something outside the run stops every node.
    const requests = path.join(c.options.runDir, 'data', 'requests.log');
    await pollFor(async () => (existsSync(requests) && readFileSync(requests, 'utf8').includes('POST /v1/cluster/members') ? true : null), 20_000, () => `an add of the joiner; nemesis said:\n${log.join('\n')}`);
    for (const id of c.ids()) if (c.node(id).pid !== null) process.kill(c.node(id).pid!, 'SIGTERM');
    const [record] = await pollFor(async () => (nemesis.faults.length > 0 ? nemesis.faults : null), 20_000, () => `a fault record; nemesis said:\n${log.join('\n')}`);
    expect(record.shape, log.join('\n')).toBe('replace-follower');
    expect(record.targets[1]).toBe('j1');
    expect(record.detail?.removed).toBe('ok');
    expect(String(record.detail?.told)).toMatch(/^ok after \d+ms$/);
    expect(String(record.detail?.added)).toMatch(/no node running/);
    expect(c.unexpectedExits.map((e) => e.code)).toEqual([0, 0, 0]);
  });
});

describe('Nemesis kill', () => {
  it('heals when the restarted nodes answer, not at their spawn: a slow start is not counted against the recovery bound, and is recorded', async () => {
    const c = cluster(22200);
    await c.start();
    // Every (re)start from now on takes 1.5 s before it answers.
    mkdirSync(path.join(c.options.runDir, 'data'), { recursive: true });
    writeFileSync(path.join(c.options.runDir, 'data', 'start-delay-ms'), '1500');
    const log: string[] = [];
    const nemesis = new Nemesis(c, new Prng(7), { kinds: ['kill'], electionMs: 1000, faultMsMin: 100, faultMsMax: 200, quietMsMin: 10, quietMsMax: 20 }, () => 'n1', () => Date.now(), (line) => log.push(line));
    const done = nemesis.run();
    cleanups.push(async () => {
      nemesis.stop();
      await done;
    });
    const [record] = await pollFor(async () => (nemesis.faults.length > 0 ? nemesis.faults : null), 30_000, () => `a fault record; nemesis said:\n${log.join('\n')}`);
    const { downMs, upMs } = record.detail as { downMs: number; upMs: Record<string, string> };
    expect(Object.keys(upMs).sort()).toEqual([...record.targets].sort());
    for (const id of record.targets) expect(Number.parseInt(upMs[id], 10), log.join('\n')).toBeGreaterThanOrEqual(1_400);
    expect(record.endMs - record.startMs).toBeGreaterThanOrEqual(downMs + 1_400);
  }, 40_000);
});
