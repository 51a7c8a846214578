// `lockstep certs`: the files it writes (modes, never replaced), what the
// certificates say (node URI, hosts, usages, issuer), and that Node's TLS
// accepts them in a real handshake: a node certificate identifies its node,
// a client certificate identifies none.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeIdOfSubjectAltName } from '../../src/tls/identity.js';
import { runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const mode = (name: string) => statSync(join(dir, name)).mode & 0o777;

describe('lockstep certs', () => {
  it('makes a CA, a node and a client certificate; keys are 0600; nothing is replaced', async () => {
    const ca = await runCli(['certs', 'ca', '--dir', dir]);
    expect(ca.stderr).toBe('');
    expect(ca.status).toBe(0);
    const node = await runCli(['certs', 'node', 'n1', '--dir', dir, '--hosts', '127.0.0.1,localhost', '--hosts', 'lockstep-1.internal']);
    expect(node.status).toBe(0);
    expect((await runCli(['certs', 'client', 'alice', '--dir', dir])).status).toBe(0);
    for (const key of ['ca.key', 'n1.key', 'alice.key']) expect(mode(key)).toBe(0o600);

    const caBefore = read('ca.crt');
    const again = await runCli(['certs', 'ca', '--dir', dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
    expect(read('ca.crt')).toBe(caBefore);
    expect((await runCli(['certs', 'node', 'n2', '--dir', dir])).status).toBe(2); // --hosts is needed
    // A host a certificate cannot name is refused before anything is written: a bad flag value,
    // exit 1 like every other (cli.md "1 on a failure the user caused (bad flag, ...)"; src/cli/flags.ts).
    for (const bad of ['https://node2:7001', 'node2:7001', 'no spaces', '-dash.example', 'a..b']) {
      const refused = await runCli(['certs', 'node', 'n2', '--dir', dir, '--hosts', `127.0.0.1,${bad}`]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`--hosts ${bad}: not a DNS name or IP address`);
    }
    expect(existsSync(join(dir, 'n2.crt'))).toBe(false);
    expect((await runCli(['certs', 'node', 'n2', '--dir', dir, '--hosts', '::1,*.nodes.example.com,N2'])).status).toBe(0);
    expect((await runCli(['certs', 'client', '../evil', '--dir', dir])).status).toBe(1);
  }, 180_000);

  it('the node certificate names the node and its hosts, is signed by the CA, and serves and dials', () => {
    const ca = new X509Certificate(read('ca.crt'));
    const node = new X509Certificate(read('n1.crt'));
    const client = new X509Certificate(read('alice.crt'));
    expect(ca.ca).toBe(true);
    expect(node.ca).toBe(false);
    expect(node.checkIssued(ca)).toBe(true);
    expect(node.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(node.subjectAltName).toBe('URI:urn:lockstep:node:n1, IP Address:127.0.0.1, DNS:localhost, DNS:lockstep-1.internal');
    expect(nodeIdOfSubjectAltName(node.subjectAltName)).toBe('n1');
    expect(node.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(node.checkHost('localhost')).toBe('localhost');
    expect(node.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(nodeIdOfSubjectAltName(client.subjectAltName)).toBeNull();
  });

  it('Node TLS accepts them: mutual handshake, the server sees who the client certificate names', async () => {
    const server = createServer({ cert: read('n1.crt'), key: read('n1.key'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true });
    const seen: Array<string | null> = [];
    server.on('secureConnection', (socket: TLSSocket) => {
      seen.push(nodeIdOfSubjectAltName(socket.getPeerX509Certificate()?.subjectAltName));
      socket.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dial = (cert: string, key: string) =>
      new Promise<string | null>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, ca: read('ca.crt'), cert: read(cert), key: read(key) }, () => {
          resolve(nodeIdOfSubjectAltName(s.getPeerX509Certificate()?.subjectAltName));
          s.end();
        });
        s.on('error', reject);
      });
    try {
      expect(await dial('n1.crt', 'n1.key')).toBe('n1');
      expect(await dial('alice.crt', 'alice.key')).toBe('n1');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual(['n1', null]);
    } finally {
      server.close();
    }
  });
});

describe('nodeIdOfSubjectAltName', () => {
  it('takes exactly one well-formed node URI', () => {
    expect(nodeIdOfSubjectAltName('URI:urn:lockstep:node:n2, DNS:x')).toBe('n2');
    expect(nodeIdOfSubjectAltName(undefined)).toBeNull();
    expect(nodeIdOfSubjectAltName('DNS:n1')).toBeNull();
    // Two node URIs: speaks for no one.
    expect(nodeIdOfSubjectAltName('URI:urn:lockstep:node:n1, URI:urn:lockstep:node:n2')).toBeNull();
    // A value node:tls had to quote (it held a comma) never matches.
    expect(nodeIdOfSubjectAltName('URI:"urn:lockstep:node:n1, URI:urn:lockstep:node:n3"')).toBeNull();
    expect(nodeIdOfSubjectAltName('URI:urn:lockstep:node:')).toBeNull();
    expect(nodeIdOfSubjectAltName('URI:urn:lockstep:nodes:n1')).toBeNull();
  });
});
