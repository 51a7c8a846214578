// How a TLS node calls another member's API (forwarding over HTTP, asking the
// leader who a token is, the console's view of each member): only over
// verified HTTPS. A member API URL that is plain http:// (an admin's
// `members add --api http://...`, an address book from before the cluster
// moved to TLS) used to go to the global fetch: the client's bearer token
// crossed the network in clear text, to whoever answered.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { httpsUpstream } from '../../src/server/upstream.js';
import { loadCa, makeCa, makeNodeCert } from '../../src/tls/certificates.js';
import { NodeTls } from '../../src/tls/node-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-upstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('httpsUpstream', () => {
  it('refuses a plain http:// member URL: the bearer token never leaves in clear text', async () => {
    const caPem = await makeCa();
    const node = await makeNodeCert(await loadCa(caPem), 'n1', ['127.0.0.1']);
    const paths = { cert: join(dir, 'n1.crt'), key: join(dir, 'n1.key'), ca: join(dir, 'ca.crt'), clientCa: null };
    writeFileSync(paths.cert, node.cert);
    writeFileSync(paths.key, node.key, { mode: 0o600 });
    writeFileSync(paths.ca, caPem.cert);
    const seen: IncomingHttpHeaders[] = [];
    const plain = createServer((request, response) => {
      seen.push(request.headers);
      response.end('{}');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const upstream = httpsUpstream(new NodeTls(paths, 'n1'));
      const { port } = plain.address() as AddressInfo;
      await expect(upstream(`http://127.0.0.1:${port}/v1/auth/whoami`, { headers: { authorization: 'Bearer lst_secret' } })).rejects.toThrow(/https/);
      expect(seen).toEqual([]);
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});
