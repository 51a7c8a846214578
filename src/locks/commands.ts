// The commands of the replicated lock state machine, and what applying one
// yields. This file is the seam between the pure state machine
// (src/locks/machine.ts) and the service that proposes commands and answers
// HTTP (src/server). Commands are plain data, encoded with msgpackr into
// Raft entries.
//
// Time: the state machine never reads a clock. Every deadline (session TTL,
// TTL hold, lock-delay, a waiter's waitMs) is kept in the LEADER's memory by
// its monotonic clock (src/locks/leases.ts) and ended by a committed `expire`
// or `wait.cancel` command that the leader proposes only while a quorum has
// confirmed its leadership recently (docs/safety.md #13). A new leader
// restarts every deadline in full (item 14). `nowMs` in the envelope is the
// proposing leader's wall clock, used only to age idempotency records and
// for display, never to end a lease.

import type { Role } from './permissions.js';

export type LockMode = 'exclusive' | 'shared';

export interface HoldRef {
  name: string;
  fencingToken: number;
}

export type LockCommand =
  | {
      type: 'session.create';
      /** Chosen by the proposer (random, unguessable). */
      sessionId: string;
      ttlMs: number;
      name: string;
      lockDelayMs: number;
    }
  | { type: 'session.delete'; sessionId: string }
  | {
      type: 'lock.acquire';
      name: string;
      /** Exactly one of sessionId and ttlMs. */
      sessionId: string | null;
      ttlMs: number | null;
      /** 0: try once. >0: queue FIFO; the leader cancels the wait when waitMs passes. */
      waitMs: number;
      /** Chosen by the proposer when waitMs > 0: names this wait in events and in wait.cancel. */
      waitId: string | null;
      mode: LockMode;
      limit: number;
      owner: string | null;
      value: string | null;
    }
  | { type: 'lock.release'; name: string; fencingToken: number }
  /**
   * Several locks at once, all or nothing (lock-sets.ts): 2..64 distinct
   * names, each with its own mode and limit; the other fields as for one lock.
   */
  | {
      type: 'lockSet.acquire';
      locks: Array<{ name: string; mode: LockMode; limit: number }>;
      sessionId: string | null;
      ttlMs: number | null;
      waitMs: number;
      waitId: string | null;
      owner: string | null;
      value: string | null;
    }
  /** Releases every hold named, or none of them (409 not_holder with the names that do not hold). */
  | { type: 'lockSet.release'; holds: HoldRef[] }
  | { type: 'lock.extend'; name: string; fencingToken: number; ttlMs: number | null }
  | {
      type: 'election.campaign';
      name: string;
      sessionId: string;
      value: string;
      waitMs: number;
      waitId: string | null;
    }
  | { type: 'election.proclaim'; name: string; term: number; value: string }
  | { type: 'election.resign'; name: string; term: number }
  /**
   * A token of the replicated state (http-api.md "Tokens and roles"). The
   * secret never enters the log: the proposer makes it and sends only its
   * SHA-256 (tokens.ts).
   */
  | { type: 'token.create'; id: string; name: string; role: Role; prefixes: string[]; secretHash: string }
  /** Revokes a token: it can no longer act, and its queued waits answer 401 in this same command. */
  | { type: 'token.revoke'; id: string }
  /** Waits that ran out (reason 'timeout') or whose HTTP request went away ('abandoned'). A wait already granted is left alone. */
  | { type: 'wait.cancel'; waitIds: string[]; reason: 'timeout' | 'abandoned' }
  /**
   * Leader-proposed expiries, batched. Each item is re-checked when applied:
   * a session that was deleted or a hold that was released meanwhile is skipped.
   */
  | {
      type: 'expire';
      sessionIds: string[];
      holds: HoldRef[];
      /** Locks whose lock-delay has run out. */
      lockDelays: string[];
    };

/** What is proposed: a command plus its envelope. */
export interface LockProposal {
  command: LockCommand;
  /** The proposing leader's wall clock (ms since epoch): idempotency record age and display only. */
  nowMs: number;
  /** Present when the request carried an Idempotency-Key. */
  idempotency: { key: string; method: string; path: string } | null;
  /**
   * The token the request acted as, when auth is on (absent or null: auth off,
   * or a command the leader makes itself, such as `expire`). A command whose
   * token was revoked before it is applied is refused (401), so a revocation
   * takes effect at one point of the log on every replica.
   */
  auth?: { tokenId: string } | null;
}

/**
 * An HTTP-shaped outcome, exactly what the API answers (status and JSON
 * body), so that idempotency records can store and replay it verbatim.
 */
export interface Outcome {
  status: number;
  body: unknown;
}

export type ApplyResult =
  /** The command finished: answer this. */
  | { kind: 'done'; outcome: Outcome }
  /** The command queued a waiter; its outcome comes later in a `wait.resolved` event. */
  | { kind: 'queued'; waitId: string };

/**
 * What changed, in order, for watchers (SSE), for waking waiting requests,
 * and for the leader's deadline bookkeeping. Every event carries the Raft
 * index of the command that caused it.
 */
export type LockEvent =
  | { type: 'session.created'; index: number; sessionId: string; ttlMs: number }
  | { type: 'session.ended'; index: number; sessionId: string; reason: 'deleted' | 'expired' }
  | {
      type: 'acquired';
      index: number;
      name: string;
      fencingToken: number;
      sessionId: string | null;
      /** TTL holds only: the leader starts this deadline. */
      ttlMs: number | null;
    }
  | { type: 'released'; index: number; name: string; fencingToken: number; sessionId: string | null }
  | { type: 'expired'; index: number; name: string; fencingToken: number; sessionId: string | null }
  | { type: 'extended'; index: number; name: string; fencingToken: number; ttlMs: number }
  | { type: 'queued'; index: number; name: string; waitId: string; sessionId: string | null; waitMs: number }
  | { type: 'dequeued'; index: number; name: string; waitId: string; sessionId: string | null }
  /** An election candidate queued (waitMs > 0): the leader starts this wait's deadline. Leaves with its `wait.resolved`. */
  | { type: 'election.queued'; index: number; name: string; waitId: string; sessionId: string; waitMs: number }
  | { type: 'lockDelay.started'; index: number; name: string; lockDelayMs: number }
  | { type: 'lockDelay.ended'; index: number; name: string }
  /** An election's leader changed (null: vacancy). */
  | {
      type: 'election.leader';
      index: number;
      name: string;
      leader: { sessionId: string; value: string; term: number } | null;
    }
  /** A token was revoked: streams opened with it end (401), everywhere this is applied. */
  | { type: 'token.revoked'; index: number; tokenId: string }
  /** A queued wait finished (granted, timed out, abandoned, or its session ended): the waiting request answers this. */
  | { type: 'wait.resolved'; index: number; waitId: string; outcome: Outcome };
