// A node's TLS material (serve --tls-cert --tls-key --tls-ca [--tls-client-ca]):
// read from its files at start and again on reload() (SIGHUP, certificate
// rotation). A reload that fails keeps the material in force, so a half-copied
// certificate never takes a running node off the air.
import { X509Certificate } from 'node:crypto';
import { PEM_PIPE_BYTES_MAX, readInputFile } from '../read-input.js';
import { createSecureContext, type SecureContext } from 'node:tls';
import { nodeIdOfSubjectAltName } from './identity.js';

export interface TlsPaths {
  cert: string;
  key: string;
  /** The cluster CA: peers and the leader (when forwarding) must present a certificate it signed. */
  ca: string;
  /** When set, API clients must present a certificate this CA signed. */
  clientCa: string | null;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  clientCa: Buffer | null;
}

export class TlsConfigError extends Error {}

function readFile(what: string, path: string): Buffer {
  try {
    return readInputFile(path, PEM_PIPE_BYTES_MAX);
  } catch (err) {
    throw new TlsConfigError(`${what} ${path} cannot be read: ${(err as Error).message}`);
  }
}

/** Reads and checks the files: the key fits the certificate, the CA signed it, and it names `self`. */
export function loadTlsMaterial(paths: TlsPaths, self: string): { material: TlsMaterial; context: SecureContext } {
  const material: TlsMaterial = {
    cert: readFile('--tls-cert', paths.cert),
    key: readFile('--tls-key', paths.key),
    ca: readFile('--tls-ca', paths.ca),
    clientCa: paths.clientCa === null ? null : readFile('--tls-client-ca', paths.clientCa),
  };
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(material.cert);
    ca = new X509Certificate(material.ca);
  } catch (err) {
    throw new TlsConfigError(`--tls-cert ${paths.cert} or --tls-ca ${paths.ca} is not a PEM certificate: ${(err as Error).message}`);
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new TlsConfigError(`--tls-cert ${paths.cert} is not signed by --tls-ca ${paths.ca}`);
  const named = nodeIdOfSubjectAltName(cert.subjectAltName);
  if (named !== self) {
    throw new TlsConfigError(`--tls-cert ${paths.cert} names ${named === null ? 'no node' : `node ${named}`}, not this node (${self}): make one with \`lockstep certs node ${self}\``);
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
  } catch (err) {
    throw new TlsConfigError(`--tls-key ${paths.key} does not fit --tls-cert ${paths.cert}: ${(err as Error).message}`);
  }
  return { material, context };
}

export class NodeTls {
  private current: { material: TlsMaterial; context: SecureContext };
  private readonly listeners: Array<() => void> = [];

  constructor(
    readonly paths: TlsPaths,
    private readonly self: string,
  ) {
    this.current = loadTlsMaterial(paths, self);
  }

  get material(): TlsMaterial {
    return this.current.material;
  }

  /** This node as a TLS client (dialing peers, forwarding to the leader): its certificate, trusting the cluster CA. */
  get clientContext(): SecureContext {
    return this.current.context;
  }

  /**
   * The API's HTTPS options: our certificate; with a client CA, client
   * certificates are required, signed by it or by the cluster CA (a follower
   * forwarding presents its node certificate).
   */
  apiServerOptions(): { cert: Buffer; key: Buffer; ca?: Buffer[]; requestCert: boolean; rejectUnauthorized: boolean } {
    const { cert, key, ca, clientCa } = this.current.material;
    if (clientCa === null) return { cert, key, requestCert: false, rejectUnauthorized: false };
    return { cert, key, ca: [clientCa, ca], requestCert: true, rejectUnauthorized: true };
  }

  /** Re-reads the files; throws (keeping the material in force) when they are not usable. */
  reload(): void {
    this.current = loadTlsMaterial(this.paths, this.self);
    for (const listener of this.listeners) listener();
  }

  /** Called after each successful reload (servers swap their secure context). */
  onReload(listener: () => void): void {
    this.listeners.push(listener);
  }
}
