// Who a request is (http-api.md "Security"): the root token every node is
// started with (`serve --auth-token-file`, LOCKSTEP_AUTH_TOKEN), or a token of
// the replicated state (src/locks/tokens.ts), found by the SHA-256 of the
// bearer secret. Auth is off when no root token is configured.
//
// Secrets: 256 random bits, shown once (POST /v1/auth/tokens), never stored,
// proposed or logged: the log and the snapshots hold only hashes (see
// src/locks/tokens.ts for why a plain SHA-256 is the right hash here).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ROOT_PRINCIPAL, ROOT_TOKEN_ID, type Principal } from '../locks/permissions.js';
import type { LockMachineView } from './machine-view.js';

/** Secrets start with this, so that secret scanners and people can tell what they are. */
export const SECRET_PREFIX = 'lst_';
const SECRET_BYTES = 32;
const TOKEN_ID_BYTES = 8;

export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** 16 hex digits (src/locks/limits.ts TOKEN_ID_PATTERN). */
export function newTokenId(): string {
  return randomBytes(TOKEN_ID_BYTES).toString('hex');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The secret of `Authorization: Bearer <secret>`, or null when the header is missing or of another scheme. */
export function bearerSecret(header: string | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : null;
}

function sameHash(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export class Authenticator {
  private readonly rootHash: string | null;

  constructor(
    rootToken: string | null,
    private readonly machine: LockMachineView,
  ) {
    if (rootToken !== null && rootToken.length === 0) throw new Error('the root token must not be empty');
    this.rootHash = rootToken === null ? null : hashSecret(rootToken);
  }

  /** Auth is on: every request but the open routes needs a token. */
  get enabled(): boolean {
    return this.rootHash !== null;
  }

  /**
   * The principal of an Authorization header by THIS node's applied state:
   * the root token, or a token not revoked here. Null: missing, unknown or
   * revoked (as far as this node has applied).
   */
  authenticate(header: string | undefined): Principal | null {
    const secret = bearerSecret(header);
    if (secret === null || this.rootHash === null) return null;
    const hash = hashSecret(secret);
    if (sameHash(hash, this.rootHash)) return ROOT_PRINCIPAL;
    const principal = this.machine.principalByHash(hash);
    if (principal === null) return null;
    const stored = this.machine.tokenSecretHash(principal.id);
    return stored !== null && sameHash(hash, stored) ? principal : null;
  }

  /** Is this token (null: auth off) still valid here, not revoked in this node's applied state? */
  stillValid(tokenId: string | null): boolean {
    if (tokenId === null || tokenId === ROOT_TOKEN_ID) return true;
    return this.machine.hasToken(tokenId);
  }
}
