// Deadlock detection on the wait-for graph (contract, "Deadlock"): a waiting
// session waits for every session that holds the lock or is queued ahead of
// it. Before a session queues, we search for a path from the sessions it
// would wait for back to itself; if one exists the wait would close a cycle
// and is refused. TTL holds and TTL waiters have no session, so they are
// never part of a cycle. Breadth-first in insertion order: deterministic on
// every replica, and the reported cycle is a shortest one.
import type { LockState, SessionState, WaitRef } from './state.js';

interface Edge {
  to: string;
  lockName: string;
}

/** Sessions a waiter at `position` in `lock`'s queue waits for (holders, then waiters ahead), without itself. */
function blockers(lock: LockState, position: number, self: string): Edge[] {
  const edges: Edge[] = [];
  const seen = new Set<string>();
  const add = (sessionId: string | null): void => {
    if (sessionId === null || sessionId === self || seen.has(sessionId)) return;
    seen.add(sessionId);
    edges.push({ to: sessionId, lockName: lock.name });
  };
  for (const hold of lock.holders) add(hold.sessionId);
  for (let i = 0; i < position; i++) add(lock.waiters[i].sessionId);
  return edges;
}

function outgoing(
  sessionId: string,
  sessions: ReadonlyMap<string, SessionState>,
  locks: ReadonlyMap<string, LockState>,
  waits: ReadonlyMap<string, WaitRef>,
): Edge[] {
  const session = sessions.get(sessionId);
  if (!session) return [];
  const edges: Edge[] = [];
  for (const waitId of session.waitIds) {
    const ref = waits.get(waitId);
    if (!ref || ref.kind !== 'lock') continue;
    const lock = locks.get(ref.name);
    if (!lock) throw new Error(`invariant: wait ${waitId} on missing lock ${ref.name}`);
    const position = lock.waiters.findIndex((w) => w.waitId === waitId);
    if (position < 0) throw new Error(`invariant: wait ${waitId} not queued on ${ref.name}`);
    edges.push(...blockers(lock, position, sessionId));
  }
  return edges;
}

/**
 * If `requester` queuing at the end of `lockName`'s queue would close a
 * cycle, the lock names along that cycle starting with `lockName`; else null.
 */
export function findDeadlockCycle(
  requester: string,
  lockName: string,
  sessions: ReadonlyMap<string, SessionState>,
  locks: ReadonlyMap<string, LockState>,
  waits: ReadonlyMap<string, WaitRef>,
): string[] | null {
  const lock = locks.get(lockName);
  if (!lock) return null;
  const parent = new Map<string, { prev: string | null; lockName: string }>();
  const queue: string[] = [];
  for (const edge of blockers(lock, lock.waiters.length, requester)) {
    parent.set(edge.to, { prev: null, lockName: edge.lockName });
    queue.push(edge.to);
  }
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head];
    for (const edge of outgoing(at, sessions, locks, waits)) {
      if (edge.to === requester) {
        const cycle = [edge.lockName];
        for (let node: string | null = at; node !== null; ) {
          const step = parent.get(node);
          if (!step) throw new Error('invariant: broken BFS parent chain');
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
