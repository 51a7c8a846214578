// No Docker engine here: parse the deploy files and check that services,
// ports, volumes, peer lists and health checks agree with each other.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Flags of `lockstep serve` (docs/cli.md) as their LOCKSTEP_<FLAG> variables. */
const SERVE_ENV = new Set(['LOCKSTEP_ID', 'LOCKSTEP_API', 'LOCKSTEP_PEER', 'LOCKSTEP_PEERS', 'LOCKSTEP_DATA', 'LOCKSTEP_HEARTBEAT_MS', 'LOCKSTEP_ELECTION_MS', 'LOCKSTEP_LOG_LEVEL', 'LOCKSTEP_CLUSTER_ID', 'LOCKSTEP_SNAPSHOT_EVERY', 'LOCKSTEP_TLS_CERT', 'LOCKSTEP_TLS_KEY', 'LOCKSTEP_TLS_CA']);
/** The one-shot service that makes the certificates; every other service is a node. */
const CERTS = 'certs';
const CERTS_MOUNT = '/certs';

interface Service {
  build?: string | { context: string };
  image?: string;
  hostname?: string;
  command?: string[];
  entrypoint?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  environment: Record<string, string>;
  ports: string[];
  volumes: string[];
  healthcheck: { test: string[] };
}

function load(file: string): { services: Record<string, Service>; volumes: Record<string, unknown>; certs: Service } {
  const doc = parse(readFileSync(resolve(ROOT, file), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const { [CERTS]: certs, ...nodes } = doc.services;
  return { services: nodes, volumes: doc.volumes, certs };
}

function hostPort(addr: string): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(addr);
  if (!m) throw new Error(`not host:port: ${addr}`);
  return { host: m[1], port: Number(m[2]) };
}

function envFileEndpoints(file: string): string[] {
  const line = readFileSync(resolve(ROOT, file), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('LOCKSTEP_ENDPOINTS='));
  if (!line) throw new Error(`${file}: no LOCKSTEP_ENDPOINTS`);
  return line.slice('LOCKSTEP_ENDPOINTS='.length).trim().split(',');
}

const cases = [
  { file: 'docker-compose.yml', nodes: 3, envFile: 'cluster/3-nodes.env' },
  { file: 'cluster/docker-compose.5.yml', nodes: 5, envFile: 'cluster/5-nodes.env' },
];

describe.each(cases)('$file', ({ file, nodes, envFile }) => {
  const doc = load(file);
  const names = Object.keys(doc.services);

  it(`has ${nodes} node services, odd so that a majority survives a minority down`, () => {
    expect(names).toHaveLength(nodes);
    expect(nodes % 2).toBe(1);
  });

  it('builds from a directory with the Dockerfile and runs `serve`', () => {
    for (const s of Object.values(doc.services)) {
      const context = typeof s.build === 'string' ? s.build : s.build?.context;
      expect(context).toBeDefined();
      expect(existsSync(resolve(dirname(resolve(ROOT, file)), context!, 'Dockerfile'))).toBe(true);
      expect(s.command).toEqual(['serve']);
    }
  });

  it('every node has its own id, and only serve flags in its environment', () => {
    for (const [name, s] of Object.entries(doc.services)) {
      expect(s.environment.LOCKSTEP_ID).toBe(name);
      for (const k of Object.keys(s.environment)) expect(SERVE_ENV.has(k), `${name}: ${k} is not a serve flag`).toBe(true);
    }
  });

  it('API and peer addresses use the service name and ports unique across nodes; the API port is published as is', () => {
    const apiPorts = new Set<number>();
    const peerPorts = new Set<number>();
    for (const [name, s] of Object.entries(doc.services)) {
      const api = hostPort(s.environment.LOCKSTEP_API);
      const peer = hostPort(s.environment.LOCKSTEP_PEER);
      expect(api.host).toBe(name);
      expect(peer.host).toBe(name);
      expect(s.hostname ?? name).toBe(name);
      apiPorts.add(api.port);
      peerPorts.add(peer.port);
      // Host port = container port, so the API URL a node advertises works from the host too.
      expect(s.ports).toEqual([`${api.port}:${api.port}`]);
      // The peer channel is not published.
      expect(s.ports.some((p) => p.includes(String(peer.port)))).toBe(false);
    }
    expect(apiPorts.size).toBe(nodes);
    expect(peerPorts.size).toBe(nodes);
    for (const p of apiPorts) expect(peerPorts.has(p)).toBe(false);
  });

  it('every node has the same peers list, naming every node at its own peer address', () => {
    const lists = Object.values(doc.services).map((s) => s.environment.LOCKSTEP_PEERS);
    expect(new Set(lists).size).toBe(1);
    const entries = Object.fromEntries(lists[0].split(',').map((e) => e.split('=') as [string, string]));
    expect(Object.keys(entries).sort()).toEqual([...names].sort());
    for (const [name, s] of Object.entries(doc.services)) expect(entries[name]).toBe(s.environment.LOCKSTEP_PEER);
  });

  it('each node keeps its data in its own named volume at LOCKSTEP_DATA', () => {
    const used = new Set<string>();
    for (const s of Object.values(doc.services)) {
      expect(s.volumes).toHaveLength(2);
      const [volume, mount] = s.volumes[0].split(':');
      expect(mount).toBe(s.environment.LOCKSTEP_DATA);
      expect(Object.keys(doc.volumes)).toContain(volume);
      used.add(volume);
    }
    expect(used.size).toBe(nodes);
  });

  it("health checks probe /readyz on the node's own API address", () => {
    for (const s of Object.values(doc.services)) {
      const probe = s.healthcheck.test.join(' ');
      expect(probe).toContain(`https://${s.environment.LOCKSTEP_API}/readyz`);
      expect(probe).toContain(`${CERTS_MOUNT}/ca.crt`);
    }
  });

  it('TLS: a one-shot service of the same image makes the CA and every node\'s certificate into a volume the nodes read', () => {
    const certs = doc.certs;
    expect(certs).toBeDefined();
    const first = Object.values(doc.services)[0];
    expect(certs.image).toBe(first.image);
    expect(certs.build).toEqual(first.build);
    expect(certs.restart).toBe('no');
    expect(certs.volumes).toEqual([`${CERTS}:${CERTS_MOUNT}`]);
    expect(Object.keys(doc.volumes)).toContain(CERTS);
    const script = [...(certs.entrypoint ?? []), ...(certs.command ?? [])].join(' ');
    expect(script).toContain(`certs ca --dir ${CERTS_MOUNT}`);
    // Made once: an existing CA is kept (certs ca refuses to replace it anyway).
    expect(script).toContain(`[ -f ${CERTS_MOUNT}/ca.crt ] ||`);
    const loop = /for n in ([\w ]+); do/.exec(script);
    expect(loop?.[1].split(' ').sort()).toEqual([...names].sort());
    expect(script).toMatch(/certs node \$\$n --dir \/certs --hosts \$\$n,localhost,127\.0\.0\.1/);
    for (const [name, s] of Object.entries(doc.services)) {
      expect(s.depends_on?.[CERTS]).toEqual({ condition: 'service_completed_successfully' });
      expect(s.volumes[1]).toBe(`${CERTS}:${CERTS_MOUNT}:ro`);
      expect(s.environment.LOCKSTEP_TLS_CERT).toBe(`${CERTS_MOUNT}/${name}.crt`);
      expect(s.environment.LOCKSTEP_TLS_KEY).toBe(`${CERTS_MOUNT}/${name}.key`);
      expect(s.environment.LOCKSTEP_TLS_CA).toBe(`${CERTS_MOUNT}/ca.crt`);
    }
  });

  it(`${envFile} lists exactly the published API ports`, () => {
    const published = Object.values(doc.services).map((s) => `https://127.0.0.1:${hostPort(s.environment.LOCKSTEP_API).port}`);
    expect(envFileEndpoints(envFile)).toEqual(published);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
  it('runs the built CLI, keeps data in /data, and checks /readyz', () => {
    expect(text).toMatch(/ENTRYPOINT \["node", "dist\/cli\/main\.js"\]/);
    expect(text).toMatch(/VOLUME \["\/data"\]/);
    expect(text).toMatch(/HEALTHCHECK[\s\S]*\/readyz/);
    expect(text).toMatch(/^USER node$/m);
  });

  it('builds with the package build (prepare) so dist/ exists', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.prepare).toContain('tsc');
    expect(pkg.bin.lockstep).toBe('dist/cli/main.js');
    expect(text).toContain('npm ci');
  });
});
