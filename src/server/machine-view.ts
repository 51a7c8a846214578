// What the server reads from the applied lock state (src/locks/queries.ts).
// A narrow interface: the server depends on the queries it uses; the real
// LockMachine satisfies it structurally. Changes come as events through the
// dispatcher (dispatcher.ts), never by subscribing here.

import type { LockCommand, Outcome } from '../locks/commands.js';
import type { IdempotencyLookup } from '../locks/idempotency.js';
import type { Principal, Role } from '../locks/permissions.js';
import type { TokenView } from '../locks/tokens.js';
import type { Deadlines, ElectionView, LockListItem, LockView, SessionView } from '../locks/views.js';

export type { Deadlines, ElectionView, LockListItem, LockView, SessionView } from '../locks/views.js';

export interface LockMachineView {
  appliedIndex(): number;
  /** The whole applied state as bytes (src/locks/snapshot.ts): the backup that GET /v1/cluster/snapshot answers. */
  snapshot(): Uint8Array;
  /** `viewer` (auth on): the holds and waits it may not see are left out. */
  getSession(sessionId: string, deadlines?: Deadlines, viewer?: Principal | null): SessionView | null;
  /** A session's TTL, null when it does not exist (a keepalive's check). */
  sessionTtlMs(sessionId: string): number | null;
  /** `viewer` (auth on): only the sessions it may list (queries.ts), each as getSession shows it. */
  listSessions(limit?: number, after?: string, deadlines?: Deadlines, viewer?: Principal | null): { sessions: SessionView[]; next?: string };
  getLock(name: string, deadlines?: Deadlines): LockView;
  /** `viewer` (auth on): only names it may see. */
  listLocks(prefix?: string, limit?: number, after?: string, deadlines?: Deadlines, viewer?: Principal | null): { locks: LockListItem[]; next?: string };
  // Tokens (src/locks/tokens.ts): by the hash of a secret, never the secret.
  principalByHash(secretHash: string): Principal | null;
  tokenSecretHash(id: string): string | null;
  hasToken(id: string): boolean;
  tokenRole(id: string): Role | null;
  listTokens(): TokenView[];
  getElection(name: string): ElectionView;
  checkFencing(name: string, fencingToken: number): { valid: boolean };
  // What a new leader's LeaseTable restarts (leases.ts LeaseSource).
  allSessions(): Array<{ sessionId: string; ttlMs: number }>;
  allTtlHolds(): Array<{ name: string; fencingToken: number; ttlMs: number }>;
  allLockDelays(): Array<{ name: string; lockDelayMs: number }>;
  allWaits(): Array<{ waitId: string; waitMs: number }>;
  /**
   * The applied idempotency record of a key, when the machine exposes it:
   * a repeat is then answered without a log write. Without it the repeat is
   * proposed and the machine replays the recorded outcome on apply.
   */
  lookupIdempotency?(key: string, method: string, path: string): IdempotencyLookup;
  /** The failure a command would surely answer if applied now or later (src/locks/doomed.ts); null when it might succeed. */
  surelyFails?(command: LockCommand): Outcome | null;
  /** Whether a new Idempotency-Key proposed at wall clock `nowMs` would be refused (table full). */
  idempotencyFullAt?(nowMs: number): boolean;
}
