// Tokens in the replicated state (http-api.md "Tokens and roles"): a token
// is an id, a name, a role, name prefixes and the SHA-256 of its secret. The
// secret itself is made by the proposing leader, returned once to the admin
// who asked, and never enters the log, a snapshot or a log line.
//
// Why a plain SHA-256 and no slow password hash: the secret is 256 random
// bits, not a password a person chose, so no dictionary or brute force
// reaches it; a keyed or slow hash would add nothing but latency on every
// request. Lookup is by hash (the map key), then the stored hash is compared
// in constant time (src/server/auth.ts); the timing of the map lookup can
// only tell an attacker about hashes of secrets it chose itself.
//
// The root token (`serve --auth-token`) is not stored here: it is each node's
// configuration, so a snapshot carries no secret that opens the cluster.
import { type Applying, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { Outcome } from './commands.js';
import { withdrawWait } from './expiry.js';
import { TOKENS_MAX } from './limits.js';
import { created, errorOutcome, invalidArgument, ok } from './outcomes.js';
import type { Role } from './permissions.js';

export interface TokenState {
  id: string;
  name: string;
  role: Role;
  prefixes: string[];
  /** Lower-case hex SHA-256 of the secret. */
  secretHash: string;
}

/** What the API shows of a token: never its hash. */
export interface TokenView {
  id: string;
  name: string;
  role: Role;
  prefixes: string[];
}

export function tokenView(token: TokenState): TokenView {
  return { id: token.id, name: token.name, role: token.role, prefixes: [...token.prefixes] };
}

export class TokenTable {
  /** Insertion order is creation order (lists show it). */
  private readonly byId = new Map<string, TokenState>();
  private readonly idByHash = new Map<string, string>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): TokenState | undefined {
    return this.byId.get(id);
  }

  findByHash(secretHash: string): TokenState | undefined {
    const id = this.idByHash.get(secretHash);
    return id === undefined ? undefined : this.byId.get(id);
  }

  hasHash(secretHash: string): boolean {
    return this.idByHash.has(secretHash);
  }

  add(token: TokenState): void {
    if (this.byId.has(token.id) || this.idByHash.has(token.secretHash)) throw new Error(`invariant: token ${token.id} added twice`);
    this.byId.set(token.id, token);
    this.idByHash.set(token.secretHash, token.id);
  }

  remove(id: string): TokenState | undefined {
    const token = this.byId.get(id);
    if (token === undefined) return undefined;
    this.byId.delete(id);
    this.idByHash.delete(token.secretHash);
    return token;
  }

  values(): IterableIterator<TokenState> {
    return this.byId.values();
  }

  toArray(): TokenState[] {
    return [...this.byId.values()].map((t) => ({ ...t, prefixes: [...t.prefixes] }));
  }

  static fromArray(tokens: TokenState[]): TokenTable {
    const table = new TokenTable();
    for (const t of tokens) table.add({ ...t, prefixes: [...t.prefixes] });
    return table;
  }
}

export const tokenCommands: CommandHandlers<'token.create' | 'token.revoke'> = {
  'token.create': (cx, c) => done(createToken(cx, c)),
  'token.revoke': (cx, c) => done(revokeToken(cx, c)),
};

export function tokenNotFound(id: string): Outcome {
  return errorOutcome('not_found', `no token ${id}`, { id });
}

function createToken(cx: Applying, c: CommandOf<'token.create'>): Outcome {
  const { tokens } = cx.state;
  // Ids and secrets are random (the proposer's): a clash is a bug or a replayed entry, refused like a clashing session id.
  if (tokens.has(c.id)) return invalidArgument(`token id ${c.id} already exists`, 'id');
  if (tokens.hasHash(c.secretHash)) return invalidArgument('a token with this secret already exists', 'secret');
  if (tokens.size >= TOKENS_MAX) return errorOutcome('limit_exceeded', `at most ${TOKENS_MAX} tokens; revoke some first`);
  const token: TokenState = { id: c.id, name: c.name, role: c.role, prefixes: [...c.prefixes], secretHash: c.secretHash };
  tokens.add(token);
  return created(tokenView(token));
}

/** The outcome every request of a revoked token gets: the same as an unknown token's. */
export function revokedOutcome(): Outcome {
  return errorOutcome('unauthorized', 'the bearer token is unknown or revoked');
}

function revokeToken(cx: Applying, c: CommandOf<'token.revoke'>): Outcome {
  const { state } = cx;
  if (state.tokens.remove(c.id) === undefined) return tokenNotFound(c.id);
  // Its long-polls end now, on every replica alike: the waits leave their
  // queues (letting those behind move up) and their requests answer 401.
  const waits = [...state.waits].filter(([, ref]) => ref.tokenId === c.id).map(([waitId]) => waitId);
  for (const waitId of waits) withdrawWait(cx, waitId, revokedOutcome());
  cx.emit({ type: 'token.revoked', index: cx.index, tokenId: c.id });
  return ok({ revoked: true });
}
