// An acquire refused by a lock-delay says how long the delay has left. The
// lock machine has no clock: its outcome carries the delay's full length (an
// upper bound). The leader's lease table knows when the delay started, so the
// answer sent to the client is set to the time actually left. Only the sent
// answer changes; the recorded outcome (replayed for a repeated
// Idempotency-Key) keeps the bound, which stays true.
import type { Deadlines } from '../locks/views.js';
import type { Answer } from './answer.js';

interface DelayedLock {
  name: string;
  lockDelayRemainingMs?: number;
}

function refine<T extends DelayedLock>(lock: T, deadlines: Deadlines): T {
  if (lock.lockDelayRemainingMs === undefined) return lock;
  const leftMs = deadlines.lockDelayRemainingMs(lock.name);
  return leftMs === null ? lock : { ...lock, lockDelayRemainingMs: Math.min(leftMs, lock.lockDelayRemainingMs) };
}

/** For POST /v1/locks/{name}/acquire and POST /v1/lock-sets/acquire answers. */
export function withLockDelayLeft(deadlines: () => Deadlines): (answer: Answer) => Answer {
  return (answer) => {
    const body = answer.body as { acquired?: unknown; blocked?: DelayedLock[] } & DelayedLock;
    if (answer.status !== 200 || body === null || typeof body !== 'object' || body.acquired !== false) return answer;
    const now = deadlines();
    if (Array.isArray(body.blocked)) return { ...answer, body: { ...body, blocked: body.blocked.map((b) => refine(b, now)) } };
    return { ...answer, body: refine(body, now) };
  };
}
