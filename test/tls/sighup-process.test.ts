// Certificate rotation by a real signal: `kill -HUP` a running TLS
// `lockstep serve` process after its certificate files were replaced; new
// connections to its API get the new certificate and the node keeps running.
// A SIGHUP with a broken file keeps the certificate in force (the unit side
// of this is test/tls/reload.test.ts). Ports 19471 (API) and 19476 (peer).
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster, LocalNode } from '../../src/harness/local-cluster.js';
import { pollFor } from '../../src/harness/local-cluster.js';
import { loadCa, makeNodeCert, type Pem } from '../../src/tls/certificates.js';
import { LOCAL_HOSTS } from '../../src/tls/cluster-certs.js';
import { pemPaths, readPem } from '../../src/tls/files.js';
import { CLUSTER_START_MS, sourceCluster } from '../node/support/proc-cluster.js';

const BASE_PORT = 19_470;
let cluster: LocalCluster;
let node: LocalNode;

beforeAll(async () => {
  cluster = await sourceCluster(1, BASE_PORT, { peerPortOffset: 5, tls: true });
  node = cluster.nodes[0];
}, CLUSTER_START_MS);
afterAll(async () => cluster?.destroy());

/** The serial number of the certificate a new TLS connection to the node's API is shown. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: node.apiPort, ca: readPem(pemPaths(cluster.certs!.dir, 'ca')).cert }, () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const serialOf = (pem: Pem) => new X509Certificate(pem.cert).serialNumber;

describe('serve: SIGHUP re-reads the certificate files', () => {
  it('a real SIGHUP after the files were replaced: new connections get the new certificate, the node keeps serving; a broken file changes nothing', async () => {
    const own = cluster.certs!.node(node.id);
    const first = await servedSerial();
    expect(first).toBe(serialOf(readPem(own)));
    const ca = await loadCa(readPem(pemPaths(cluster.certs!.dir, 'ca')));
    const rotated = await makeNodeCert(ca, node.id, LOCAL_HOSTS);
    writeFileSync(own.cert, rotated.cert);
    writeFileSync(own.key, rotated.key, { mode: 0o600 });
    expect(await servedSerial()).toBe(first); // nothing changes before the signal

    process.kill(node.process.pid!, 'SIGHUP');
    await pollFor(async () => ((await servedSerial()) === serialOf(rotated) ? true : null), 20_000, () => 'the rotated certificate served after SIGHUP');
    expect(node.process.running).toBe(true);
    expect((await cluster.fetch(`${node.url}/healthz`)).status).toBe(200);

    // Half a certificate (a copy caught mid-way): refused, the rotated one stays.
    writeFileSync(own.cert, rotated.cert.slice(0, 100));
    process.kill(node.process.pid!, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(node.process.running).toBe(true);
    expect(await servedSerial()).toBe(serialOf(rotated));
    writeFileSync(own.cert, rotated.cert);
  }, 60_000);
});
