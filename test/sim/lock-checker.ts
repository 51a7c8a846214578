// The lock service's safety properties, checked on every node after every
// applied entry and every snapshot restore in `machine: 'locks'` runs:
//
// - lock safety (a pure function of one state, checkLockState): never more
//   than `limit` exclusive holders, never exclusive and shared holders
//   together, no holder, waiter or election leader whose session has ended,
//   every token at most the machine's last token;
// - fencing tokens (and election terms, which share the counter) strictly
//   increase over grants in apply order, on each node, across restores;
// - FIFO: a waiter is granted only once every waiter queued before it on that
//   lock has left the queue;
// - all or nothing (lock sets): every hold a command makes is answered to the
//   request it was made for, a granted set answers every lock it asked for,
//   and those holds hold after the command — so no set is granted in part
//   (allOrNothingViolation);
// - lock state machine safety: any two nodes that applied (or restored) the
//   same index hold byte-identical LockMachine.snapshot() output, and any two
//   nodes that applied the same entry returned the same ApplyResult (so a node
//   restored from a snapshot answers the next commands like the others).

import type { ApplyResult, LockEvent, LockProposal, Outcome } from '../../src/locks/commands.js';
import { decodeValue } from '../../src/locks/codec.js';
import { HOLDERS_PER_LOCK_MAX } from '../../src/locks/limits.js';
import type { SnapshotData } from '../../src/locks/state.js';
import type { LockApplied } from './lock-state-machine.js';
import { violate } from './violation.js';

interface IndexRecord {
  node: string;
  /** LockMachine.snapshot() after this index, with its appliedIndex header normalised (see canonicalState). */
  state: string;
  result: string | null;
}

interface NodeView {
  state: SnapshotData;
  /** The largest token this node has seen granted (or restored as its last token). */
  lastToken: number;
}

export function decodeLockState(bytes: Uint8Array): SnapshotData {
  return decodeValue(bytes) as SnapshotData;
}

/** The invariants any single lock state must satisfy; throws a 'lock safety' violation naming the first broken one. */
export function checkLockState(where: string, s: SnapshotData): void {
  const sessions = new Map(s.sessions.map((x) => [x.sessionId, x]));
  for (const lock of s.locks) {
    const at = `${where}: lock ${lock.name}`;
    const modes = new Set(lock.holders.map((h) => h.mode));
    if (modes.size > 1) violate('lock safety', `${at} has exclusive and shared holders together`);
    if (lock.holders.length > 0 && lock.mode !== lock.holders[0].mode) {
      violate('lock safety', `${at} is in mode ${lock.mode} but its holders are ${lock.holders[0].mode}`);
    }
    if (lock.holders.length === 0 && lock.mode !== null) violate('lock safety', `${at} has no holders but mode ${lock.mode}`);
    if (lock.mode === 'exclusive' && lock.holders.length > lock.limit) {
      violate('lock safety', `${at} has ${lock.holders.length} exclusive holders, limit ${lock.limit}`);
    }
    if (lock.mode === 'shared' && lock.holders.length > HOLDERS_PER_LOCK_MAX) {
      violate('lock safety', `${at} has ${lock.holders.length} shared holders`);
    }
    const tokens = new Set<number>();
    for (const h of lock.holders) {
      if (h.fencingToken > s.lastToken) violate('lock safety', `${at} holder token ${h.fencingToken} above last token ${s.lastToken}`);
      if (tokens.has(h.fencingToken)) violate('lock safety', `${at} has two holders with token ${h.fencingToken}`);
      tokens.add(h.fencingToken);
      if ((h.sessionId === null) === (h.ttlMs === null)) violate('lock safety', `${at} holder ${h.fencingToken} has both or neither of session and TTL`);
      if (h.sessionId !== null) {
        const session = sessions.get(h.sessionId);
        if (!session) violate('lock safety', `${at} is held (token ${h.fencingToken}) by ended session ${h.sessionId}`);
        if (!session.heldLocks.includes(lock.name)) violate('lock safety', `${at} holder session ${h.sessionId} does not list it`);
      }
    }
    for (const w of lock.waiters) {
      if (w.sessionId !== null && !sessions.has(w.sessionId)) {
        violate('lock safety', `${at} has waiter ${w.waitId} of ended session ${w.sessionId}`);
      }
    }
    const unsettled = headGrantable(s, lock);
    if (unsettled) violate('lock safety', `${at} has a head waiter that should have been granted (lost wakeup): ${unsettled}`);
  }
  checkLockSets(where, s);
  for (const e of s.elections) {
    if (e.leader === null) continue;
    if (!sessions.has(e.leader.sessionId)) violate('lock safety', `${where}: election ${e.name} is led by ended session ${e.leader.sessionId}`);
    if (e.leader.term > s.lastToken) violate('lock safety', `${where}: election ${e.name} term ${e.leader.term} above last token ${s.lastToken}`);
  }
  for (const session of s.sessions) {
    for (const name of session.heldLocks) {
      const lock = s.locks.find((l) => l.name === name);
      if (!lock?.holders.some((h) => h.sessionId === session.sessionId)) {
        violate('lock safety', `${where}: session ${session.sessionId} lists ${name} but does not hold it`);
      }
    }
  }
}

type SnapLock = SnapshotData['locks'][number];
type SnapSet = SnapshotData['lockSets'][number];

/** lock-queue.ts fits(), restated: one more holder in `mode` beside the holders. */
function fitsIn(lock: SnapLock, mode: string): boolean {
  if (lock.holders.length === 0) return true;
  if (mode === 'shared') return lock.mode === 'shared' && lock.holders.length < HOLDERS_PER_LOCK_MAX;
  return lock.mode === 'exclusive' && lock.holders.length < lock.limit;
}

/** First in line and fitting on every lock it has a place on. */
function setReadyIn(s: SnapshotData, set: SnapSet): boolean {
  return set.locks.every((e) => {
    if (e.carried) return true;
    const lock = s.locks.find((l) => l.name === e.name);
    return lock !== undefined && lock.lockDelayMs === null && lock.waiters[0]?.waitId === set.waitId && fitsIn(lock, e.mode);
  });
}

/**
 * No lost wakeup (docs/safety.md #17): outside lock-delay, the head of a
 * line can not be granted — a single head does not fit beside the holders, a
 * lock set at the head is not ready on all its locks. Returns what is wrong.
 */
export function headGrantable(s: SnapshotData, lock: SnapLock): string | null {
  const head = lock.waiters[0];
  if (head === undefined || lock.lockDelayMs !== null) return null;
  const set = (s.lockSets ?? []).find((x) => x.waitId === head.waitId);
  if (set) return setReadyIn(s, set) ? `lock set ${set.waitId} is ready on all its locks` : null;
  if (head.sessionId !== null && lock.holders.some((h) => h.sessionId === head.sessionId)) return `waiter ${head.waitId}'s session holds it already`;
  return fitsIn(lock, head.mode) ? `waiter ${head.waitId} fits beside the holders` : null;
}

/** A waiting set has exactly one place on each lock it does not carry, and holds each lock it carries. */
function checkLockSets(where: string, s: SnapshotData): void {
  const waits = new Map(s.waits);
  for (const set of s.lockSets ?? []) {
    const at = `${where}: lock set ${set.waitId}`;
    if (waits.get(set.waitId)?.kind !== 'set') violate('lock safety', `${at} has no set wait record`);
    for (const e of set.locks) {
      const lock = s.locks.find((l) => l.name === e.name);
      const places = lock?.waiters.filter((w) => w.waitId === set.waitId).length ?? 0;
      if (e.carried) {
        if (places !== 0) violate('lock safety', `${at} carries ${e.name} but has a place in its line`);
        if (!lock?.holders.some((h) => h.sessionId !== null && h.sessionId === set.sessionId)) violate('lock safety', `${at} carries ${e.name}, which its session does not hold`);
      } else if (places !== 1) {
        violate('lock safety', `${at} has ${places} places on ${e.name}, not one`);
      }
    }
  }
  for (const lock of s.locks) {
    for (const w of lock.waiters) {
      const kind = waits.get(w.waitId)?.kind;
      const isSet = (s.lockSets ?? []).some((x) => x.waitId === w.waitId);
      if (kind !== (isSet ? 'set' : 'lock')) violate('lock safety', `${where}: waiter ${w.waitId} on ${lock.name} has wait record ${kind}`);
    }
  }
}

/**
 * Tokens granted by one command, in order: lock grants and new election terms
 * (a proclaim re-announces its leader's term: not a grant; `before` tells).
 */
function grantedTokens(events: readonly LockEvent[], before: SnapshotData | null): number[] {
  const out: number[] = [];
  const terms = new Map((before?.elections ?? []).map((e) => [e.name, e.leader?.term ?? null]));
  for (const e of events) {
    if (e.type === 'acquired') out.push(e.fencingToken);
    // Without the state before (a node's first entry after a restart) a proclaim cannot be told apart: skip.
    if (e.type === 'election.leader' && before !== null && e.leader !== null && terms.get(e.name) !== e.leader.term) {
      out.push(e.leader.term);
      terms.set(e.name, e.leader.term);
    }
  }
  return out;
}

/**
 * FIFO without overtaking: for each waiter (or lock set place) granted by
 * this command, every place ahead of it in `before` must be gone in `after`;
 * a hold granted without leaving a line (the command's own acquire) only on a
 * lock nobody was in line for.
 */
export function checkFifo(where: string, before: SnapshotData, after: SnapshotData, events: readonly LockEvent[]): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.type === 'acquired') {
      const prev = events[i - 1];
      if (prev?.type === 'dequeued' && prev.name === e.name) continue;
      const line = before.locks.find((l) => l.name === e.name)?.waiters ?? [];
      if (line.length > 0) violate('lock safety', `${where}: ${e.name} granted token ${e.fencingToken} at once while ${line.length} waited in line (overtaken)`);
      continue;
    }
    if (e.type !== 'dequeued') continue;
    const next = events[i + 1];
    if (next?.type !== 'acquired' || next.name !== e.name) continue;
    const queue = before.locks.find((l) => l.name === e.name)?.waiters ?? [];
    const position = queue.findIndex((w) => w.waitId === e.waitId);
    if (position < 0) continue; // queued by this same command: nothing arrived before it that is not already checked
    const stillQueued = new Set((after.locks.find((l) => l.name === e.name)?.waiters ?? []).map((w) => w.waitId));
    for (const ahead of queue.slice(0, position)) {
      if (stillQueued.has(ahead.waitId)) {
        violate('lock safety', `${where}: ${e.name} granted waiter ${e.waitId} while ${ahead.waitId}, queued before it, still waits (FIFO)`);
      }
    }
  }
}

interface Grant {
  name: string;
  token: number;
}

/** The holds an answer gives: one for a lock, every hold of a set (none unless it says acquired). */
function grantsOf(outcome: Outcome): Grant[] {
  const b = outcome.body as { acquired?: boolean; name?: string; fencingToken?: number; holds?: Array<{ name: string; fencingToken: number }> } | null;
  if (outcome.status !== 200 || b?.acquired !== true) return [];
  if (b.holds) return b.holds.map((h) => ({ name: h.name, token: h.fencingToken }));
  return [{ name: b.name!, token: b.fencingToken! }];
}

const holdKeys = (s: SnapshotData): Set<string> => new Set(s.locks.flatMap((l) => l.holders.map((h) => `${l.name}/${h.fencingToken}`)));

/**
 * All or nothing: the holds a command made (its `acquired` events) are
 * exactly the new holds in the answers it gave (its own, unless it replays a
 * recorded one, and the waits it resolved) — so no set is ever granted in
 * part while answering "not acquired" or nothing — and a granted set answers
 * every lock it asked for, in order, each of them held after the command.
 * Returns what is wrong, or null.
 */
export function allOrNothingViolation(proposal: LockProposal, out: { result: ApplyResult; events: readonly LockEvent[] }, before: SnapshotData, after: SnapshotData): string | null {
  const c = proposal.command;
  const idem = proposal.idempotency;
  const replay = idem !== null && before.idempotency.some((r) => r.key === idem.key);
  const answers: Array<{ outcome: Outcome; names: string[] | null }> = [];
  if (out.result.kind === 'done' && !replay) answers.push({ outcome: out.result.outcome, names: c.type === 'lockSet.acquire' ? c.locks.map((l) => l.name) : null });
  for (const e of out.events) {
    if (e.type !== 'wait.resolved') continue;
    const set = before.lockSets.find((x) => x.waitId === e.waitId);
    answers.push({ outcome: e.outcome, names: set ? set.locks.map((l) => l.name) : null });
  }
  const heldBefore = holdKeys(before);
  const heldAfter = holdKeys(after);
  const made = out.events.flatMap((e) => (e.type === 'acquired' ? [`${e.name}/${e.fencingToken}`] : []));
  if (made.length !== new Set(made).size) return `one hold made twice: ${made.join(', ')}`;
  const answered = new Set<string>();
  for (const { outcome, names } of answers) {
    const grants = grantsOf(outcome);
    const got = grants.map((g) => g.name);
    if (names !== null && grants.length > 0 && got.join('\0') !== names.join('\0')) return `a lock set asked for ${names.join(', ')} and was granted ${got.join(', ')}`;
    for (const g of grants) {
      const k = `${g.name}/${g.token}`;
      answered.add(k);
      if (!made.includes(k) && !heldBefore.has(k)) return `answered hold ${k}, which was neither granted now nor held`;
      // A multi-session expiry may end a session whose wait it granted a moment before; elsewhere a grant holds after its command.
      if (c.type !== 'expire' && !heldAfter.has(k)) return `answered hold ${k}, which does not hold after the command`;
    }
  }
  for (const k of made) if (!answered.has(k)) return `hold ${k} was made but answered to nobody (a lock set granted in part?)`;
  return null;
}

/** Replicas at one index must hold byte-identical lock state (F5 fixed: a restore keeps the machine's own applied index). */
function canonicalState(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export class LockChecker {
  private readonly byIndex = new Map<number, IndexRecord>();
  private readonly nodes = new Map<string, NodeView>();
  applied = 0;
  grants = 0;
  /** Replica snapshots that differed only in their appliedIndex header (F5). */

  /** `run`: this node's current incarnation (a restart begins a new sequence from its persisted snapshot). */
  observeApplied(node: string, run: string, index: number, bytes: Uint8Array, output: LockApplied | null): void {
    const where = `${run} at ${index}`;
    const state = decodeLockState(bytes);
    checkLockState(where, state);
    const view = this.nodes.get(run);
    if (output !== null) {
      const tokens = grantedTokens(output.events, view?.state ?? null);
      let last = view ? view.lastToken : 0;
      for (const t of tokens) {
        if (t <= last) violate('lock safety', `${where} granted fencing token ${t} after ${last}: tokens must strictly increase`);
        last = t;
      }
      if (view && last !== state.lastToken && tokens.length > 0) {
        violate('lock safety', `${where} last granted ${last} but its state says last token ${state.lastToken}`);
      }
      this.grants += tokens.length;
      if (view) {
        checkFifo(where, view.state, state, output.events);
        const partial = allOrNothingViolation(output.proposal, output, view.state, state);
        if (partial !== null) violate('lock safety', `${where}: all or nothing: ${partial}`);
      }
    }
    this.nodes.set(run, { state, lastToken: Math.max(view?.lastToken ?? 0, state.lastToken) });
    this.compare(node, index, canonicalState(bytes), output === null ? null : JSON.stringify(output.result));
    this.applied++;
  }

  observeRestore(node: string, run: string, index: number, bytes: Uint8Array): void {
    const state = decodeLockState(bytes);
    checkLockState(`${run} restored at ${index}`, state);
    const view = this.nodes.get(run);
    if (view && state.lastToken < view.lastToken && index >= view.state.appliedIndex) {
      violate('lock safety', `${node} restored at ${index} a last token ${state.lastToken} below the ${view.lastToken} it had granted`);
    }
    // A restore replaces the node's history: its token sequence continues from the snapshot's.
    this.nodes.set(run, { state, lastToken: state.lastToken });
    this.compare(node, index, canonicalState(bytes), undefined);
  }

  /** A node (re)started at `index` (0: empty) from its persisted snapshot: its sequence begins with that state. */
  observeStart(node: string, run: string, index: number, bytes: Uint8Array): void {
    const state = decodeLockState(bytes);
    checkLockState(`${run} started at ${index}`, state);
    this.nodes.set(run, { state, lastToken: state.lastToken });
    if (index > 0) this.compare(node, index, canonicalState(bytes), undefined);
  }

  /** `result` undefined: a restore (no result to compare). */
  private compare(node: string, index: number, state: string, result: string | null | undefined): void {
    const seen = this.byIndex.get(index);
    if (seen === undefined) {
      if (result !== undefined) this.byIndex.set(index, { node, state, result });
      return;
    }
    if (seen.state !== state) {
      violate('lock safety', `${node} and ${seen.node} hold different lock states after index ${index} (state machine safety)`);
    }
    this.compareResult(node, index, seen, result);
  }

  private compareResult(node: string, index: number, seen: IndexRecord, result: string | null | undefined): void {
    if (result !== undefined && seen.result !== result) {
      violate('lock safety', `${node} answered ${result} at index ${index} but ${seen.node} answered ${seen.result}`);
    }
  }
}
