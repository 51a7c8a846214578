// Deadlock detection on the wait-for graph (contract, "Deadlock"): a waiting
// session waits for every session that holds the lock or is queued ahead of
// it. Before a session queues, we search for a path from those it would wait
// for back to itself; if one exists the wait would close a cycle and is
// refused. Breadth-first in insertion order: deterministic on every replica,
// and the reported cycle is a shortest one.
//
// Lock sets (lock-sets.ts) join the graph:
// - a set waits on each lock it has a place on, like a single waiter there;
//   a session's waiting sets are its edges too. Locks it carries (its session
//   holds them) have no place and no edge;
// - a place first in line that fits beside the holders waits for none of
//   them (a set there waits only for its other locks; a single there would
//   have been granted). Without this a set would "wait for" shared holders it
//   can join, and refusals would name cycles that are not real;
// - a set waiting without a session (a TTL set) is a node of its own: it
//   links its locks (waiters behind it on A wait for it, it waits for B's
//   holders), so it can carry a cycle between sessions. A single TTL waiter
//   cannot: it waits on one lock only, and whoever waits behind it waits for
//   everyone it waits for already. TTL holds never wait, so they are never
//   in a cycle.
import { assert } from './applying.js';
import type { LockMode } from './commands.js';
import { fits, placeOf } from './lock-queue.js';
import type { LockState, LockWaiter, MachineState } from './state.js';

interface Edge {
  to: string;
  lockName: string;
}

/** What a wait asks of one lock. */
export interface LockWant {
  name: string;
  mode: LockMode;
}

/** Nodes of the graph: sessions, and lock sets waiting without one (two name spaces). */
const sessionNode = (sessionId: string): string => `s:${sessionId}`;
const setNode = (waitId: string): string => `w:${waitId}`;

function nodeOf(state: MachineState, waiter: LockWaiter): string | null {
  if (waiter.sessionId !== null) return sessionNode(waiter.sessionId);
  return state.lockSets.has(waiter.waitId) ? setNode(waiter.waitId) : null;
}

/** Whom a place at `position` in `lock`'s line, in `mode`, waits for (without `self`). */
function blockers(state: MachineState, lock: LockState, position: number, mode: LockMode, self: string): Edge[] {
  const edges: Edge[] = [];
  const seen = new Set<string>();
  const add = (node: string | null): void => {
    if (node === null || node === self || seen.has(node)) return;
    seen.add(node);
    edges.push({ to: node, lockName: lock.name });
  };
  if (!(position === 0 && fits(lock, mode))) for (const hold of lock.holders) add(hold.sessionId === null ? null : sessionNode(hold.sessionId));
  for (let i = 0; i < position; i++) add(nodeOf(state, lock.waiters[i]));
  return edges;
}

/** The edges of a wait already queued. */
function waitEdges(state: MachineState, waitId: string, self: string): Edge[] {
  const ref = state.waits.get(waitId);
  assert(ref !== undefined, `wait ${waitId} is unknown`);
  if (ref.kind === 'election') return [];
  const wants: LockWant[] = ref.kind === 'lock' ? [{ name: ref.name, mode: waiterOn(state, ref.name, waitId).mode }] : placesOf(state, waitId);
  const edges: Edge[] = [];
  for (const want of wants) {
    const lock = state.locks.get(want.name);
    assert(lock !== undefined, `wait ${waitId} on missing lock ${want.name}`);
    edges.push(...blockers(state, lock, placeOf(lock, waitId), want.mode, self));
  }
  return edges;
}

function waiterOn(state: MachineState, name: string, waitId: string): LockWaiter {
  const lock = state.locks.get(name);
  assert(lock !== undefined, `wait ${waitId} on missing lock ${name}`);
  return lock.waiters[placeOf(lock, waitId)];
}

function placesOf(state: MachineState, waitId: string): LockWant[] {
  const set = state.lockSets.get(waitId);
  assert(set !== undefined, `lock set ${waitId} is missing`);
  return set.locks.filter((e) => !e.carried);
}

function outgoing(state: MachineState, node: string): Edge[] {
  const id = node.slice(2);
  if (node.startsWith('w:')) return waitEdges(state, id, node);
  const session = state.sessions.get(id);
  if (!session) return [];
  return [...session.waitIds].flatMap((waitId) => waitEdges(state, waitId, node));
}

/**
 * If `requester` queuing at the end of the lines of `wants` (one lock, or a
 * set's locks) would close a cycle, the lock names along that cycle starting
 * with the requester's lock on it; else null.
 */
export function findDeadlockCycle(state: MachineState, requesterSessionId: string, wants: readonly LockWant[]): string[] | null {
  const requester = sessionNode(requesterSessionId);
  const parent = new Map<string, { prev: string | null; lockName: string }>();
  const queue: string[] = [];
  for (const want of wants) {
    const lock = state.locks.get(want.name);
    if (!lock) continue;
    for (const edge of blockers(state, lock, lock.waiters.length, want.mode, requester)) {
      if (parent.has(edge.to)) continue;
      parent.set(edge.to, { prev: null, lockName: edge.lockName });
      queue.push(edge.to);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head];
    for (const edge of outgoing(state, at)) {
      if (edge.to === requester) {
        const cycle = [edge.lockName];
        for (let node: string | null = at; node !== null; ) {
          const step = parent.get(node);
          assert(step !== undefined, 'broken BFS parent chain');
          cycle.unshift(step.lockName);
          node = step.prev;
        }
        return cycle;
      }
      if (!parent.has(edge.to)) {
        parent.set(edge.to, { prev: at, lockName: edge.lockName });
        queue.push(edge.to);
      }
    }
  }
  return null;
}
