// Optional bearer-token auth (the contract's 401 unauthorized). Off unless
// `serve --auth-token` (LOCKSTEP_AUTH_TOKEN) is set. Followers forward the
// Authorization header to the leader unchanged, so one token serves the
// whole cluster.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Probes that orchestrators call without credentials. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison of `Authorization: Bearer <token>` with the expected token. */
export function bearerTokenMatches(header: string | undefined, expected: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  return timingSafeEqual(digest(match[1]), digest(expected));
}
