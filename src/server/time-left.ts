// A refused acquire says how long what stands in its way has left: each
// holder's `expiresInMs` and the lock-delay's `lockDelayRemainingMs`. The lock
// machine has no clock: its outcome carries full lengths (the hold's ttlMs, the
// delay's length), upper bounds. The leader's lease table knows when each
// started, so the answer sent to the client is set to the time actually left,
// as GET /v1/locks/{name} shows it. Only the sent answer changes; the recorded
// outcome (replayed for a repeated Idempotency-Key) keeps the bounds, which stay true.
import type { Deadlines } from '../locks/views.js';
import type { Answer } from './answer.js';

interface Holder {
  fencingToken: number;
  expiresInMs?: number;
}

interface BlockedLock {
  name: string;
  holders?: Holder[];
  lockDelayRemainingMs?: number;
}

function refineHolder(name: string, holder: Holder, deadlines: Deadlines): Holder {
  if (holder.expiresInMs === undefined) return holder;
  const leftMs = deadlines.holdRemainingMs(name, holder.fencingToken);
  return leftMs === null ? holder : { ...holder, expiresInMs: Math.min(leftMs, holder.expiresInMs) };
}

function refine<T extends BlockedLock>(lock: T, deadlines: Deadlines): T {
  let out = lock;
  if (Array.isArray(lock.holders)) out = { ...out, holders: lock.holders.map((h) => refineHolder(lock.name, h, deadlines)) };
  if (lock.lockDelayRemainingMs !== undefined) {
    const leftMs = deadlines.lockDelayRemainingMs(lock.name);
    if (leftMs !== null) out = { ...out, lockDelayRemainingMs: Math.min(leftMs, lock.lockDelayRemainingMs) };
  }
  return out;
}

/** For POST /v1/locks/{name}/acquire and POST /v1/lock-sets/acquire answers. */
export function withTimeLeft(deadlines: () => Deadlines): (answer: Answer) => Answer {
  return (answer) => {
    const body = answer.body as { acquired?: unknown; blocked?: BlockedLock[] } & BlockedLock;
    if (answer.status !== 200 || body === null || typeof body !== 'object' || body.acquired !== false) return answer;
    const now = deadlines();
    if (Array.isArray(body.blocked)) return { ...answer, body: { ...body, blocked: body.blocked.map((b) => refine(b, now)) } };
    return { ...answer, body: refine(body, now) };
  };
}
