// The cluster's certificates, made in-process with @peculiar/x509 over Node's
// WebCrypto (no openssl binary): a CA, node certificates (server and client
// auth, the node's URI SAN plus the DNS names / IPs it is reached at) and
// client certificates (client auth, no node URI: they can call the API but
// never speak Raft). Keys are ECDSA P-256, written PKCS#8 PEM with mode 0600.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { isIP } from 'node:net';
import { nodeUri } from './identity.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
export const CA_VALID_DAYS = 3650;
export const LEAF_VALID_DAYS = 825;
/** Leaves are valid from a little before now, so a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

export interface Pem {
  cert: string;
  key: string;
}

interface Authority {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** A positive 128-bit serial (RFC 5280: at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 1;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** A new self-signed cluster CA. */
export async function makeCa(name = 'lockstep cluster CA'): Promise<Pem> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${escapeRdn(name)}`,
    ...validity(CA_VALID_DAYS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** Reads a CA made by makeCa (its certificate and PKCS#8 key, PEM). */
export async function loadCa(pem: Pem): Promise<Authority> {
  const cert = new x509.X509Certificate(pem.cert);
  const der = x509.PemConverter.decodeFirst(pem.key);
  const key = await webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
  return { cert, key };
}

/** Splits hosts into IP and DNS SANs. */
function hostNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  return hosts.map((h) => (isIP(h) ? { type: 'ip', value: h } : { type: 'dns', value: h }));
}

async function issue(ca: Authority, commonName: string, usages: string[], names: x509.JsonGeneralName[]): Promise<Pem> {
  const keys = await keyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${escapeRdn(commonName)}`,
    issuer: ca.cert.subject,
    ...validity(LEAF_VALID_DAYS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/**
 * A node's certificate: it serves the API and the peer channel and dials
 * peers, so it is for both server and client auth; its URI SAN names the node.
 */
export async function makeNodeCert(ca: Authority, id: string, hosts: readonly string[]): Promise<Pem> {
  const uri = nodeUri(id);
  return issue(ca, id, [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], [{ type: 'url', value: uri }, ...hostNames(hosts)]);
}

/** An API client's certificate: client auth only, and no node URI. */
export async function makeClientCert(ca: Authority, name: string): Promise<Pem> {
  return issue(ca, name, [x509.ExtendedKeyUsage.clientAuth], []);
}

/** A common name as an RFC 4514 value: special characters escaped. */
function escapeRdn(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ');
}
