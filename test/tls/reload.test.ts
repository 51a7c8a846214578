// Certificate rotation (serve: SIGHUP → NodeTls.reload): new connections get
// the re-read certificate; files that do not load (half copied, another
// node's) are refused and the certificate in force stays.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCa, makeCa, makeNodeCert } from '../../src/tls/certificates.js';
import { NodeTls, TlsConfigError } from '../../src/tls/node-tls.js';
import { createPeerServer } from '../../src/transport/peer-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NodeTls.reload', () => {
  it('a reload swaps the certificate new peer connections see; a bad file changes nothing', async () => {
    const caPem = await makeCa();
    const ca = await loadCa(caPem);
    const paths = { cert: join(dir, 'n1.crt'), key: join(dir, 'n1.key'), ca: join(dir, 'ca.crt'), clientCa: null };
    const write = (pem: { cert: string; key: string }) => {
      writeFileSync(paths.cert, pem.cert);
      writeFileSync(paths.key, pem.key, { mode: 0o600 });
    };
    writeFileSync(paths.ca, caPem.cert);
    write(await makeNodeCert(ca, 'n1', ['127.0.0.1']));
    const tls = new NodeTls(paths, 'n1');
    const peer = await makeNodeCert(ca, 'n2', ['127.0.0.1']);
    const server = createPeerServer(tls, 1000, pino({ level: 'silent' }), (socket) => socket.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const servedSerial = () =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, ca: caPem.cert, cert: peer.cert, key: peer.key, checkServerIdentity: () => undefined }, () => {
          resolve(s.getPeerX509Certificate()!.serialNumber);
          s.destroy();
        });
        s.on('error', reject);
      });
    try {
      const first = await servedSerial();
      const rotated = await makeNodeCert(ca, 'n1', ['127.0.0.1']);
      write(rotated);
      expect(await servedSerial()).toBe(first); // nothing changes before the signal
      tls.reload();
      const second = await servedSerial();
      expect(second).not.toBe(first);

      // Another node's certificate, then a truncated one: refused, the rotated one stays.
      write(await makeNodeCert(ca, 'n3', ['127.0.0.1']));
      expect(() => tls.reload()).toThrow(TlsConfigError);
      writeFileSync(paths.cert, rotated.cert.slice(0, 100));
      expect(() => tls.reload()).toThrow(TlsConfigError);
      expect(await servedSerial()).toBe(second);
    } finally {
      server.close();
    }
  });
});
