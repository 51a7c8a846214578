// What the server reads from the applied lock state (src/locks/machine.ts).
// Kept as a narrow interface so that the server depends on the shape it
// uses, not on the machine's internals; the real LockMachine satisfies it.

import type { LockEvent, LockMode, Outcome } from '../locks/commands.js';

export interface SessionView {
  sessionId: string;
  name: string;
  ttlMs: number;
  lockDelayMs: number;
  holds: { kind: 'lock' | 'election'; name: string; fencingToken: number }[];
  /** Names of the locks/elections this session waits for. */
  waits: string[];
}

export interface HolderView {
  fencingToken: number;
  mode: LockMode;
  sessionId: string | null;
  owner: string | null;
  value: string | null;
  /** TTL holds: the hold's own TTL; null for session holds. */
  ttlMs: number | null;
}

export interface WaiterView {
  waitId: string;
  sessionId: string | null;
  owner: string | null;
  mode: LockMode;
}

export interface LockView {
  name: string;
  mode: LockMode | null;
  limit: number;
  holders: HolderView[];
  waiters: WaiterView[];
  /** Set while a lock-delay is in force (its length; the leader's LeaseTable knows how much is left). */
  lockDelayMs: number | null;
}

export interface ElectionView {
  name: string;
  leader: { sessionId: string; value: string; term: number } | null;
  candidates: number;
}

export interface IdempotencyRecordView {
  method: string;
  path: string;
  /** null while the first request still waits (its waitId is set). */
  outcome: Outcome | null;
  waitId: string | null;
}

export interface LockMachineView {
  onEvent(listener: (event: LockEvent) => void): () => void;
  appliedIndex(): number;
  getSession(sessionId: string): SessionView | null;
  listSessions(limit: number, after: string | null): { sessions: SessionView[]; next: string | null };
  getLock(name: string): LockView;
  listLocks(prefix: string, limit: number, after: string | null): { locks: LockView[]; next: string | null };
  getElection(name: string): ElectionView;
  checkFencing(name: string, fencingToken: number): boolean;
  getIdempotency(key: string): IdempotencyRecordView | null;
  stats(): { sessions: number; holds: number; waiters: number };
}
