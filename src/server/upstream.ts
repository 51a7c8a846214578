// How a node calls another member's API (forwarding to the leader, asking it
// who a token is, the console asking each member for its view):
// fetch over plain HTTP; under TLS node:https through the SDK's httpsFetch,
// trusting only the cluster CA, presenting this node's certificate (for nodes
// that require client certificates), and accepting only a certificate that
// is valid for the leader's API host and names a node (a client certificate
// cannot pose as the leader).
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { httpsAgent, httpsFetch } from 'lockstep-client';
import { nodeIdOfSubjectAltName } from '../tls/identity.js';
import type { NodeTls } from '../tls/node-tls.js';

export type Upstream = typeof fetch;

export const fetchUpstream: Upstream = (input, init) => fetch(input, init);

export function httpsUpstream(tls: NodeTls): Upstream {
  let agent = makeAgent(tls);
  // New requests use the re-read certificate; requests in flight finish on the old agent, whose
  // idle connections the leader closes in time.
  tls.onReload(() => (agent = makeAgent(tls)));
  return httpsFetch(() => agent);
}

function makeAgent(tls: NodeTls) {
  const { cert, key, ca } = tls.material;
  return httpsAgent(
    { ca, cert, key },
    {
      checkServerIdentity: (host: string, peer: PeerCertificate) => {
        const hostError = checkServerIdentity(host, peer);
        if (hostError) return hostError;
        return nodeIdOfSubjectAltName(peer.subjectaltname) === null ? new Error("the leader's certificate names no node") : undefined;
      },
    },
  );
}
