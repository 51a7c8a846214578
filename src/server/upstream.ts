// How a node calls another member's API (forwarding to the leader, asking it
// who a token is, the console asking each member for its view):
// over plain HTTP node:http through the SDK's httpFetch, with a keep-alive pool
// (global fetch cost about 1.6x the CPU per forwarded request, issue 12); under
// TLS node:https through the SDK's httpsFetch,
// trusting only the cluster CA, presenting this node's certificate (for nodes
// that require client certificates), and accepting only a certificate that
// is valid for the leader's API host and names a node (a client certificate
// cannot pose as the leader).
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { httpAgent, httpFetch, httpsAgent, httpsFetch } from 'lockstep-client';
import { nodeIdOfSubjectAltName } from '../tls/identity.js';
import type { NodeTls } from '../tls/node-tls.js';

export type Upstream = typeof fetch;

/** One pool per server: its connections to the leader are reused across forwards. */
export function httpUpstream(): Upstream {
  return httpFetch(httpAgent());
}

export function httpsUpstream(tls: NodeTls): Upstream {
  let agent = makeAgent(tls);
  // New requests use the re-read certificate; requests in flight finish on the old agent, whose
  // idle connections the leader closes in time.
  tls.onReload(() => (agent = makeAgent(tls)));
  const verified = httpsFetch(() => agent);
  // httpsFetch hands any other scheme to the global fetch: a member API URL that is plain
  // http:// (an admin's `members add --api http://...`, addresses from before TLS) would carry
  // the client's Authorization header in clear text to whoever answers. Refused instead.
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:') throw new TypeError(`a TLS node calls members over https only, not ${url.origin}`);
    return verified(input, init);
  }) as Upstream;
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
