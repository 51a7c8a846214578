// Who may speak on a plain peer port. Under TLS a peer proves itself with a
// certificate of the cluster CA (peer-tls.ts). Without TLS, and with auth on,
// the nodes share one secret already, the root token (every node is started
// with the same one): each side of a new connection proves it knows it, by
// an HMAC over both sides' fresh nonces, before anything it sends is taken.
// Without this, any local process could say hello on the peer port as a
// member and hand the leader a forwarded write "as root" (it vouches for
// its client's token), or append entries, past every token check. With auth
// off there is nothing to prove: the API takes anyone too.
//
// The handshake (wire.ts frames):
//   dialer   -> hello { nonce: Nd }
//   acceptor -> hello { nonce: Na, proof: HMAC(k, acceptor, ids, Nd, Na) }
//   dialer   -> proof { proof: HMAC(k, dialer, ids, Nd, Na) }
// The acceptor admits the connection only after the dialer's proof; the
// dialer sends nothing else before it has checked the acceptor's (a node
// that cannot prove the key does not get our forwarded requests and their
// tokens). The role in each MAC keeps one side's proof from serving as the
// other's; the other side's nonce keeps an old proof from being replayed.
// The root secret itself never leaves the process: k is derived from it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../raft/types.js';

/** Fresh random bytes each side puts into the handshake. */
export const PEER_NONCE_BYTES = 16;
/** HMAC-SHA-256. */
export const PEER_PROOF_BYTES = 32;

/** What both proofs of one handshake are computed over. */
export interface HandshakeTranscript {
  clusterId: string;
  acceptor: NodeId;
  dialer: NodeId;
  dialerNonce: Uint8Array;
  acceptorNonce: Uint8Array;
}

export type ProofRole = 'acceptor' | 'dialer';

export class PeerKey {
  private constructor(private readonly key: Buffer) {}

  /** The key of a cluster whose nodes share `rootToken` (its own derivation: a MAC never carries the token). */
  static fromRootToken(rootToken: string): PeerKey {
    if (rootToken.length === 0) throw new Error('the root token must not be empty');
    return new PeerKey(createHmac('sha256', rootToken).update('lockstep peer channel key v1').digest());
  }

  nonce(): Uint8Array {
    return new Uint8Array(randomBytes(PEER_NONCE_BYTES));
  }

  prove(role: ProofRole, t: HandshakeTranscript): Uint8Array {
    return new Uint8Array(this.mac(role, t));
  }

  /** Whether `proof` is `role`'s proof of this handshake; anything malformed is simply not. */
  verify(role: ProofRole, t: HandshakeTranscript, proof: unknown): boolean {
    if (!(proof instanceof Uint8Array) || proof.length !== PEER_PROOF_BYTES) return false;
    return timingSafeEqual(this.mac(role, t), proof);
  }

  private mac(role: ProofRole, t: HandshakeTranscript): Buffer {
    // A JSON array: every field delimited, so no two transcripts encode alike.
    const text = JSON.stringify([role, t.clusterId, t.acceptor, t.dialer, Buffer.from(t.dialerNonce).toString('hex'), Buffer.from(t.acceptorNonce).toString('hex')]);
    return createHmac('sha256', this.key).update(text).digest();
  }
}

/** A nonce as the handshake takes it: exactly PEER_NONCE_BYTES bytes. */
export function isPeerNonce(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === PEER_NONCE_BYTES;
}
