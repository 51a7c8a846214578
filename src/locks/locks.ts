// Lock commands: acquire (now, or queue FIFO), release and extend
// (http-api.md "Locks"). Holds and queues change only through lock-queue.ts.
import { type Applying, assert, type CommandHandlers, type CommandOf, done } from './applying.js';
import type { ApplyResult, Outcome } from './commands.js';
import { findDeadlockCycle } from './deadlock.js';
import { WAITERS_PER_LOCK_MAX, WAITS_MAX } from './limits.js';
import { findHold, fits, grant, grantWaiters, isFree, removeHold } from './lock-queue.js';
import { errorOutcome, invalidArgument, ok, sessionNotFound } from './outcomes.js';
import { limitInForce } from './state.js';
import { acquiredBody, notAcquiredBody } from './views.js';

export const lockCommands: CommandHandlers<'lock.acquire' | 'lock.release' | 'lock.extend'> = {
  'lock.acquire': acquire,
  'lock.release': (cx, c) => done(release(cx, c)),
  'lock.extend': (cx, c) => done(extend(cx, c)),
};

export function notHolder(name: string, fencingToken: number): Outcome {
  return errorOutcome('not_holder', `fencing token ${fencingToken} does not hold ${name}`);
}

function acquire(cx: Applying, c: CommandOf<'lock.acquire'>): ApplyResult {
  const { sessions, locks, waits } = cx.state;
  const session = c.sessionId === null ? undefined : sessions.get(c.sessionId);
  if (c.sessionId !== null && !session) return done(sessionNotFound(c.sessionId));
  let lock = locks.get(c.name);
  if (session && lock) {
    const existing = lock.holders.find((h) => h.sessionId === session.sessionId);
    if (existing) return done(ok(acquiredBody(c.name, existing)));
  }
  const free = isFree(lock);
  const inForce = limitInForce(lock);
  if (c.mode === 'exclusive' && inForce !== null && c.limit !== inForce) {
    return done(
      errorOutcome('limit_mismatch', `limit ${c.limit} differs from the limit ${inForce} in force on ${c.name}`, {
        limit: inForce,
      }),
    );
  }
  // A free lock, or one held / awaited in shared mode only, takes this exclusive acquire's limit once it holds or waits.
  const setsLimit = free || (c.mode === 'exclusive' && inForce === null);
  const grantable = !lock || (lock.lockDelayMs === null && lock.waiters.length === 0 && fits(lock, c.mode));
  if (grantable) {
    if (!lock) {
      lock = { name: c.name, mode: null, limit: c.limit, holders: [], waiters: [], lockDelayMs: null };
      locks.set(c.name, lock);
    } else if (setsLimit) {
      lock.limit = c.limit;
    }
    return done(ok(acquiredBody(c.name, grant(cx, lock, c))));
  }
  assert(lock !== undefined, 'an absent lock is always grantable');
  if (c.waitMs === 0) return done(ok(notAcquiredBody(c.name, lock)));
  const waitId = c.waitId!;
  if (waits.has(waitId)) return done(invalidArgument(`waitId ${waitId} is already in use`));
  if (lock.waiters.length >= WAITERS_PER_LOCK_MAX) {
    return done(errorOutcome('limit_exceeded', `at most ${WAITERS_PER_LOCK_MAX} waiters per lock`));
  }
  if (waits.size >= WAITS_MAX) return done(errorOutcome('limit_exceeded', `at most ${WAITS_MAX} waits in all`));
  if (session) {
    const cycle = findDeadlockCycle(session.sessionId, c.name, sessions, locks, waits);
    if (cycle) {
      return done(errorOutcome('deadlock', `waiting would close a cycle: ${cycle.join(' -> ')}`, { cycle }));
    }
  }
  if (setsLimit) lock.limit = c.limit;
  lock.waiters.push({
    waitId,
    sessionId: c.sessionId,
    ttlMs: c.ttlMs,
    mode: c.mode,
    limit: c.limit,
    owner: c.owner,
    value: c.value,
    waitMs: c.waitMs,
  });
  waits.set(waitId, { kind: 'lock', name: c.name, idempotencyKey: cx.idempotencyKey, tokenId: cx.tokenId });
  session?.waitIds.add(waitId);
  cx.emit({ type: 'queued', index: cx.index, name: c.name, waitId, sessionId: c.sessionId, waitMs: c.waitMs });
  return { kind: 'queued', waitId };
}

function release(cx: Applying, c: CommandOf<'lock.release'>): Outcome {
  const found = findHold(cx.state, c.name, c.fencingToken);
  if (!found) return notHolder(c.name, c.fencingToken);
  const { lock, hold } = found;
  removeHold(lock, hold, hold.sessionId === null ? undefined : cx.state.sessions.get(hold.sessionId));
  cx.emit({ type: 'released', index: cx.index, name: c.name, fencingToken: hold.fencingToken, sessionId: hold.sessionId });
  grantWaiters(cx, lock);
  return ok({ released: true });
}

function extend(cx: Applying, c: CommandOf<'lock.extend'>): Outcome {
  const found = findHold(cx.state, c.name, c.fencingToken);
  if (!found) return notHolder(c.name, c.fencingToken);
  const { hold } = found;
  if (hold.ttlMs === null) return invalidArgument(`fencingToken ${c.fencingToken} is a session hold, which cannot be extended: keep its session alive instead`, 'fencingToken');
  hold.ttlMs = c.ttlMs ?? hold.ttlMs;
  cx.emit({ type: 'extended', index: cx.index, name: c.name, fencingToken: hold.fencingToken, ttlMs: hold.ttlMs });
  return ok({ expiresInMs: hold.ttlMs });
}
