// The read side of the lock machine: views for the read endpoints, and what
// a new leader's LeaseTable restarts. Read-only; `deadlines` come from the
// leader's LeaseTable, else full TTLs (views.ts).
import { assert } from './applying.js';
import type { LockCommand, Outcome } from './commands.js';
import { surelyFails } from './doomed.js';
import { maySee, ROOT_PRINCIPAL, ROOT_TOKEN_ID, type Principal, type Role } from './permissions.js';
import { sessionNames } from './sessions.js';
import { tokenView, type TokenView } from './tokens.js';
import type { IdempotencyLookup } from './idempotency.js';
import { keyPage, type KeyPage } from './key-page.js';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from './limits.js';
import { findHold, lockOf } from './lock-queue.js';
import { electionOf } from './elections.js';
import { placedEntries, setOf } from './set-wait.js';
import { emptyState, type MachineState, type SessionState } from './state.js';
import { logIndex, type LogIndex } from '../raft/types.js';
import {
  type Deadlines,
  type ElectionView,
  FULL_TTL,
  lockListItem,
  type LockListItem,
  lockView,
  type LockView,
  sessionView,
  type SessionView,
} from './views.js';

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) return LIST_LIMIT_DEFAULT;
  return Math.min(limit, LIST_LIMIT_MAX);
}

/** A page of `keys` (in key order) after `after`; `next` is the last key of the page when more follow. */
function page(keys: Iterable<string>, limit: number | undefined, after: string | undefined, keep: (key: string) => boolean = () => true): KeyPage {
  return keyPage(keys, clampLimit(limit), after, keep);
}

export class LockQueries {
  /** Replaced whole on restore; changed only by the command handlers while applying. */
  protected state: MachineState = emptyState();

  appliedIndex(): LogIndex {
    return logIndex(this.state.applied);
  }

  /**
   * A session by id (the id is a capability: any token that may read gets
   * it), showing `viewer` only the holds and waits on names it may see.
   */
  getSession(sessionId: string, deadlines: Deadlines = FULL_TTL, viewer: Principal | null = null): SessionView | null {
    const session = this.state.sessions.get(sessionId);
    return session ? this.sessionViewOf(session, deadlines, viewer) : null;
  }

  /** A session's TTL, or null when it does not exist: what a keepalive needs, without building the session's view. */
  sessionTtlMs(sessionId: string): number | null {
    return this.state.sessions.get(sessionId)?.ttlMs ?? null;
  }

  private sessionViewOf(session: SessionState, deadlines: Deadlines, viewer: Principal | null): SessionView {
    const seen = (name: string) => viewer === null || maySee(viewer, name);
    const holds: SessionView['holds'] = [];
    for (const name of session.heldLocks) {
      if (!seen(name)) continue;
      const hold = lockOf(this.state, name).holders.find((h) => h.sessionId === session.sessionId)!;
      holds.push({ kind: 'lock', name, fencingToken: hold.fencingToken });
    }
    for (const name of session.ledElections) {
      if (seen(name)) holds.push({ kind: 'election', name, fencingToken: electionOf(this.state, name).leader!.term });
    }
    // A waiting lock set waits on each lock it has a place on.
    const waits = [...session.waitIds]
      .flatMap((id) => {
        const set = this.state.lockSets.get(id);
        return set ? placedEntries(set).map((e) => e.name) : [this.state.waits.get(id)!.name];
      })
      .filter(seen);
    return sessionView(session, holds, waits, deadlines);
  }

  /**
   * Which sessions `viewer` lists (http-api.md: "a list shows only what the
   * token may see"; sessions have no name): a token without prefixes sees
   * them all; one with prefixes sees those it created and those that hold,
   * lead or wait for a name it may see (their ids are on those names anyway).
   */
  private listsSession(viewer: Principal | null, session: SessionState): boolean {
    if (viewer === null || viewer.role === 'admin' || viewer.prefixes.length === 0) return true;
    if (session.createdBy === viewer.id) return true;
    return sessionNames(this.state, session).some((name) => maySee(viewer, name));
  }

  /** Sessions in id order; `after` is the last id of the previous page. */
  listSessions(limit?: number, after?: string, deadlines: Deadlines = FULL_TTL, viewer: Principal | null = null): { sessions: SessionView[]; next?: string } {
    const { keys, next } = page(this.state.sessions.keys(), limit, after, (id) => this.listsSession(viewer, this.state.sessions.get(id)!));
    const sessions = keys.map((id) => this.sessionViewOf(this.state.sessions.get(id)!, deadlines, viewer));
    return next === undefined ? { sessions } : { sessions, next };
  }

  /** Any name answers: a free lock has no holders. */
  getLock(name: string, deadlines: Deadlines = FULL_TTL): LockView {
    return lockView(name, this.state.locks.get(name), deadlines);
  }

  /** Locks with holders, waiters or a lock-delay, in name order; only names `viewer` may see. */
  listLocks(prefix = '', limit?: number, after?: string, deadlines: Deadlines = FULL_TTL, viewer: Principal | null = null): { locks: LockListItem[]; next?: string } {
    const { keys, next } = page(this.state.locks.keys(), limit, after, (name) => name.startsWith(prefix) && (viewer === null || maySee(viewer, name)));
    const locks = keys.map((name) => lockListItem(this.state.locks.get(name)!, deadlines));
    return next === undefined ? { locks } : { locks, next };
  }

  getElection(name: string): ElectionView {
    const election = this.state.elections.get(name);
    return {
      name,
      leader: election?.leader ? { ...election.leader } : null,
      candidates: election ? election.candidates.length : 0,
    };
  }

  /** Chubby's sequencer check: does this token hold the lock now? */
  checkFencing(name: string, fencingToken: number): { valid: boolean } {
    return { valid: findHold(this.state, name, fencingToken) !== null };
  }

  /**
   * The applied idempotency record of a key, read-only: the service may
   * answer a repeat without a log write. Applying the repeat gives the same
   * answer, so this is an optimisation, never a different outcome.
   */
  lookupIdempotency(key: string, method: string, path: string): IdempotencyLookup {
    return this.state.idempotency.lookup(key, method, path);
  }

  /**
   * Would a command with a new Idempotency-Key proposed now (wall clock
   * `nowMs`) find the table full? What applying it would answer (429
   * limit_exceeded), asked before proposing so that refusals cost no log entry.
   */
  idempotencyFullAt(nowMs: number): boolean {
    return this.state.idempotency.fullAt(Math.max(this.state.maxNowMs, nowMs));
  }

  /** The failure `command` would surely answer if applied now or later (doomed.ts); null when it might succeed. */
  surelyFails(command: LockCommand): Outcome | null {
    return surelyFails(this.state, command);
  }

  // ---- tokens (tokens.ts) ----

  /** The token whose secret hashes to `secretHash`, as a principal; null if there is none (unknown or revoked). */
  principalByHash(secretHash: string): Principal | null {
    const token = this.state.tokens.findByHash(secretHash);
    return token === undefined ? null : { id: token.id, name: token.name, role: token.role, prefixes: [...token.prefixes] };
  }

  /** The stored hash of token `id`, for the constant-time comparison after a lookup. */
  tokenSecretHash(id: string): string | null {
    return this.state.tokens.get(id)?.secretHash ?? null;
  }

  /** Whether token `id` exists now (not revoked). */
  hasToken(id: string): boolean {
    return this.state.tokens.has(id);
  }

  /** The role of token `id` (the root token included), or null if there is none. */
  tokenRole(id: string): Role | null {
    return id === ROOT_TOKEN_ID ? ROOT_PRINCIPAL.role : (this.state.tokens.get(id)?.role ?? null);
  }

  /** Every token, in creation order, without hashes. */
  listTokens(): TokenView[] {
    return [...this.state.tokens.values()].map(tokenView);
  }

  /** The largest fencing token or term granted so far. */
  lastFencingToken(): number {
    return this.state.lastToken;
  }

  // ---- what a new leader's LeaseTable restarts (docs/safety.md #14) ----

  allSessions(): Array<{ sessionId: string; ttlMs: number }> {
    return [...this.state.sessions.values()].map((s) => ({ sessionId: s.sessionId, ttlMs: s.ttlMs }));
  }

  allTtlHolds(): Array<{ name: string; fencingToken: number; ttlMs: number }> {
    const out: Array<{ name: string; fencingToken: number; ttlMs: number }> = [];
    for (const lock of this.state.locks.values()) {
      for (const hold of lock.holders) {
        if (hold.ttlMs !== null) out.push({ name: lock.name, fencingToken: hold.fencingToken, ttlMs: hold.ttlMs });
      }
    }
    return out;
  }

  allLockDelays(): Array<{ name: string; lockDelayMs: number }> {
    const out: Array<{ name: string; lockDelayMs: number }> = [];
    for (const lock of this.state.locks.values()) {
      if (lock.lockDelayMs !== null) out.push({ name: lock.name, lockDelayMs: lock.lockDelayMs });
    }
    return out;
  }

  allWaits(): Array<{ waitId: string; waitMs: number }> {
    const out: Array<{ waitId: string; waitMs: number }> = [];
    for (const [waitId, ref] of this.state.waits) {
      if (ref.kind === 'set') {
        out.push({ waitId, waitMs: setOf(this.state, waitId).waitMs });
        continue;
      }
      const queue = ref.kind === 'lock' ? lockOf(this.state, ref.name).waiters : electionOf(this.state, ref.name).candidates;
      const waiter = queue.find((w) => w.waitId === waitId);
      assert(waiter !== undefined, `wait ${waitId} is not queued on ${ref.name}`);
      out.push({ waitId, waitMs: waiter.waitMs });
    }
    return out;
  }
}
