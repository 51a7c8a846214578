// `lockstep members add ID --api HOST:PORT --peer HOST:PORT` with bare
// addresses: what it asks the cluster to store. The peer address is stored as
// `serve --peer` stores a node's own, host:port without a scheme: the peer
// channel is no HTTP, and whether it is TLS the nodes' --tls-* flags decide,
// not the address (it was stored as http://..., which in a TLS cluster read as
// a plain-text member). The API address gets the scheme the CLI speaks to the
// cluster with: https:// when its --endpoints are (a TLS node's API is HTTPS
// only), even without --ca. Scripted leaders (node:http, node:https) record
// the request; ports 7650-7651.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCa, makeCa, makeNodeCert } from '../../src/tls/certificates.js';
import { cliTestTimeout, runCli } from './run-cli.js';

const HTTPS_PORT = 7650;
const HTTP_PORT = 7651;

const dir = mkdtempSync(join(tmpdir(), 'lockstep-members-scheme-'));
const caFile = join(dir, 'ca.crt');
const servers: Server[] = [];
/** The bodies of POST /v1/cluster/members, in order, from either leader. */
const added: Array<{ id: string; apiUrl: string; peerUrl: string }> = [];

function leader(req: IncomingMessage, res: ServerResponse): void {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    const ok = req.method === 'POST' && req.url === '/v1/cluster/members';
    if (ok) added.push(JSON.parse(text));
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json', 'x-lockstep-node': 'n1', 'x-lockstep-leader': 'n1' });
    res.end(JSON.stringify(ok ? { clusterId: 'lockstep', self: 'n1', leader: 'n1', term: 1, commitIndex: 1, appliedIndex: 1, members: [] } : { error: { code: 'not_found', message: 'no route' } }));
  });
}

beforeAll(async () => {
  const ca = await makeCa();
  const cert = await makeNodeCert(await loadCa(ca), 'n1', ['127.0.0.1']);
  writeFileSync(caFile, ca.cert);
  const https = createHttpsServer({ cert: cert.cert, key: cert.key }, leader);
  const http = createHttpServer(leader);
  for (const [server, port] of [[https, HTTPS_PORT], [http, HTTP_PORT]] as const) {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    servers.push(server);
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

async function add(id: string, endpoints: string, extra: string[] = [], env: Record<string, string> = {}) {
  const before = added.length;
  const r = await runCli(['members', 'add', id, '--api', '127.0.0.1:7610', '--peer', '127.0.0.1:7611', '--endpoints', endpoints, ...extra], env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(added.length).toBe(before + 1);
  return { stored: added[added.length - 1], stdout: r.stdout };
}

describe('lockstep members add: the addresses it stores for bare host:port', () => {
  it('a TLS cluster: the peer as serve stores its own (no scheme), the API as https://', { timeout: cliTestTimeout(3) }, async () => {
    const withCa = await add('n4', `https://127.0.0.1:${HTTPS_PORT}`, ['--ca', caFile]);
    expect(withCa.stored).toEqual({ id: 'n4', apiUrl: 'https://127.0.0.1:7610', peerUrl: '127.0.0.1:7611', voter: true });
    expect(withCa.stdout).toBe('added n4 (voter, api https://127.0.0.1:7610, peer 127.0.0.1:7611)\n');
    // The CA trusted another way (no --ca): the endpoints still say the cluster speaks TLS.
    const trusted = await add('n5', `https://127.0.0.1:${HTTPS_PORT}`, [], { NODE_EXTRA_CA_CERTS: caFile });
    expect(trusted.stored).toMatchObject({ apiUrl: 'https://127.0.0.1:7610', peerUrl: '127.0.0.1:7611' });
    // A scheme written out is the operator's: passed on as it is.
    const r = await runCli(['members', 'add', 'n6', '--api', 'https://127.0.0.1:7620', '--peer', 'tcp://127.0.0.1:7621', '--endpoints', `https://127.0.0.1:${HTTPS_PORT}`, '--ca', caFile]);
    expect(r.status).toBe(0);
    expect(added[added.length - 1]).toMatchObject({ apiUrl: 'https://127.0.0.1:7620', peerUrl: 'tcp://127.0.0.1:7621' });
  });

  it('a plain cluster: the peer with no scheme, the API as http://', { timeout: cliTestTimeout(1) }, async () => {
    const plain = await add('n7', `http://127.0.0.1:${HTTP_PORT}`);
    expect(plain.stored).toMatchObject({ apiUrl: 'http://127.0.0.1:7610', peerUrl: '127.0.0.1:7611' });
  });

  it('a bare address that is not host:port is refused before anything is sent (exit 1, naming the flag)', { timeout: cliTestTimeout(4) }, async () => {
    const before = added.length;
    for (const [flag, bad] of [['--api', 'nowhere'], ['--api', '127.0.0.1:99999'], ['--peer', 'nowhere'], ['--peer', 'host:port']] as const) {
      const flags = { '--api': '[::1]:7610', '--peer': '127.0.0.1:7611', [flag]: bad };
      const r = await runCli(['members', 'add', 'n8', '--api', flags['--api'], '--peer', flags['--peer'], '--endpoints', `http://127.0.0.1:${HTTP_PORT}`]);
      expect(r.status, `${flag} ${bad}`).toBe(1);
      expect(r.stderr).toContain(`${flag} must be host:port, got '${bad}'`);
    }
    expect(added.length).toBe(before);
  });
});
