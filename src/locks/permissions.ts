// Who may do what (http-api.md "Security", "Tokens and roles"): the
// permission table as a pure function of a principal and what it asks for.
// The server declares per route what a request asks for (src/server/access.ts)
// and the machine asks the same table when a command's rights depend on the
// state it is applied to (deleting a session releases the names it holds).

export const ROLES = ['admin', 'writer', 'reader'] as const;
export type Role = (typeof ROLES)[number];

/** The root token (`serve --auth-token`): not in the replicated state, never revoked. */
export const ROOT_TOKEN_ID = 'root';

/** Whoever a request acts as: the root token, or a token of the replicated state. */
export interface Principal {
  id: string;
  name: string;
  role: Role;
  /** Names it may touch start with one of these; empty: every name. */
  prefixes: readonly string[];
}

export const ROOT_PRINCIPAL: Principal = { id: ROOT_TOKEN_ID, name: 'root', role: 'admin', prefixes: [] };

/**
 * What a request asks for:
 * - `any`: any valid token (GET /v1/cluster, /metrics, whoami);
 * - `read` / `write`: the lock service (sessions, locks, lock sets, fencing
 *   checks, elections), on `names` when the request names any;
 * - `admin`: members, leadership, snapshots, tokens.
 */
export type Need = { kind: 'any' } | { kind: 'admin' } | { kind: 'read' | 'write'; names: readonly string[] };

/** A name is under the prefixes when it starts with one of them; no prefixes: every name. */
export function underPrefixes(prefixes: readonly string[], name: string): boolean {
  return prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix));
}

/** May this role do this kind of thing at all (before names are looked at)? */
export function roleAllows(role: Role, kind: Need['kind']): boolean {
  switch (kind) {
    case 'any':
      return true;
    case 'admin':
      return role === 'admin';
    case 'write':
      return role === 'admin' || role === 'writer';
    case 'read':
      return true;
  }
}

/** The names of `need` the principal may not touch (empty: all allowed); null when its role forbids the request outright. */
export function refusedNames(principal: Principal, need: Need): string[] | null {
  if (!roleAllows(principal.role, need.kind)) return null;
  if (need.kind === 'any' || need.kind === 'admin' || principal.role === 'admin') return [];
  return need.names.filter((name) => !underPrefixes(principal.prefixes, name));
}

/** The permission table in one answer. */
export function allows(principal: Principal, need: Need): boolean {
  const refused = refusedNames(principal, need);
  return refused !== null && refused.length === 0;
}

/** May the principal see (read) this name? Lists are filtered with this. */
export function maySee(principal: Principal, name: string): boolean {
  return allows(principal, { kind: 'read', names: [name] });
}
