// The peer channel's socket layer: plain TCP, or mutual TLS against the
// cluster CA (serve --tls-*). Under TLS both sides present a certificate the
// CA signed; a connection speaks only for the node its certificate names
// (URI SAN urn:lockstep:node:<id>): the dialer checks that the acceptor is
// the peer it meant to reach, the acceptor refuses a certificate that names
// no node (a client certificate cannot speak Raft) and, in the hello, a
// claimed id other than the one named (inbound.ts).
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { NodeId } from '../raft/types.js';
import { nodeIdOfSubjectAltName } from '../tls/identity.js';

/** What the transport needs of the node's TLS material (src/tls/node-tls.ts). */
export interface PeerTls {
  /** Our certificate and key, trusting the cluster CA. */
  readonly clientContext: SecureContext;
  readonly material: { cert: Buffer; key: Buffer; ca: Buffer };
  onReload(listener: () => void): void;
}

/** The node id a verified peer certificate names (null: none, or the socket is not TLS). */
export function verifiedNodeId(socket: Socket): NodeId | null {
  const peer = (socket as TLSSocket).getPeerX509Certificate?.();
  return peer ? nodeIdOfSubjectAltName(peer.subjectAltName) : null;
}

/**
 * Listens for peer connections. `accept` gets TCP sockets, or under TLS
 * sockets whose certificate the CA signed and which name a node: `verified`
 * is that node's id.
 */
export function createPeerServer(tls: PeerTls | undefined, handshakeTimeoutMs: number, log: Logger, accept: (socket: Socket, verified: NodeId | undefined) => void): Server {
  if (!tls) return createTcpServer((socket) => accept(socket, undefined));
  const options = () => ({ cert: tls.material.cert, key: tls.material.key, ca: tls.material.ca });
  const server = createTlsServer({ ...options(), requestCert: true, rejectUnauthorized: true, handshakeTimeout: handshakeTimeoutMs }, (socket) => {
    const verified = verifiedNodeId(socket);
    if (verified === null) {
      // Signed by our CA but naming no node: an API client's certificate.
      log.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'refusing peer connection: its certificate names no node');
      socket.destroy();
      return;
    }
    accept(socket, verified);
  });
  // No certificate, another CA's, an expired one, or not TLS at all: refused in the TLS handshake.
  server.on('tlsClientError', (err, socket) => log.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }, 'refusing peer connection at TLS'));
  tls.onReload(() => server.setSecureContext(options()));
  return server;
}

/**
 * Dials `peer`. Resolves nothing: the returned socket emits `readyEvent` once
 * it may carry our hello ('connect', or 'secureConnect' once the peer proved
 * it is `peer`).
 */
export function dialPeer(tls: PeerTls | undefined, host: string, port: number, peer: NodeId): { socket: Socket; readyEvent: 'connect' | 'secureConnect' } {
  if (!tls) return { socket: tcpConnect({ host, port }), readyEvent: 'connect' };
  const socket = tlsConnect({
    host,
    port,
    secureContext: tls.clientContext,
    // The peer is known by its node id, not by the address it was reached at
    // (addresses change; a certificate from the CA naming `peer` is `peer`).
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const named = nodeIdOfSubjectAltName(cert.subjectaltname);
      return named === peer ? undefined : new Error(`the certificate at ${host}:${port} names ${named === null ? 'no node' : `node ${named}`}, expected ${peer}`);
    },
  });
  return { socket, readyEvent: 'secureConnect' };
}
