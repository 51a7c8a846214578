// withLocks: take several locks at once as one lock set (all or nothing,
// waiting in line: http-api.md "Lock sets"), run the caller's function while
// the set is held, release them all. One AbortSignal for the whole set: it
// fires before ANY of its holds can have ended on the server (docs/safety.md
// #18) — the holds were granted in one command, with one TTL or one
// session, so they end together. Every lock has its own fencing token: pass
// each to the resource it protects (item 11).

import { abortedError, isLockstepError, LockstepError } from './errors.js';
import { followSession, type HoldLease, ttlLeaseStart, type WithLockOptions, waitInChunks, withHoldSession } from './hold.js';
import { defaultSafetyMarginMs, LeaseGuard } from './lease.js';
import type { Clock } from './clock.js';
import type { Session } from './session.js';
import type { AcquireSetOptions, AcquireSetResult, CallOptions, LockSetBlocked, SetHold, SetLock } from './types.js';

export type WithLocksOptions = Omit<WithLockOptions, 'mode' | 'limit'>;

export interface LockSetHold {
  /** Every hold, in the order asked (a lock the session held already comes back as it was). */
  readonly holds: readonly SetHold[];
  /** The fencing token of one lock of the set. */
  fencingToken(name: string): number;
  /** Fires before any hold of the set can have ended on the server; stop writing then. */
  readonly signal: AbortSignal;
  readonly session: Session | null;
  /** How long the holder may still act, by the client's reckoning. */
  remainingMs(): number;
  /** TTL sets: renew every hold's lease to ttlMs (default: the TTL last set, by the acquire or an earlier extend); measured from this call's send time. */
  extend(ttlMs?: number, call?: CallOptions): Promise<void>;
}

/** What withLocks needs from the Client. */
export interface SetHoldTransport {
  readonly clock: Clock;
  acquireSet(body: AcquireSetOptions, call?: { signal?: AbortSignal }): Promise<AcquireSetResult>;
  releaseSet(holds: Array<{ name: string; fencingToken: number }>): Promise<unknown>;
  extend(name: string, fencingToken: number, ttlMs?: number, call?: CallOptions): Promise<{ expiresInMs: number }>;
  session(opts: { ttlMs?: number }, call?: CallOptions): Promise<Session>;
}

function describeBlocked(blocked: readonly LockSetBlocked[]): string {
  return blocked.map((b) => `'${b.name}' (${b.holders.length} holder(s), ${b.queueLength} waiting${b.lockDelayRemainingMs !== undefined ? ', lock-delay' : ''})`).join(', ');
}

export async function withLocks<T>(t: SetHoldTransport, locks: ReadonlyArray<string | SetLock>, opts: WithLocksOptions, fn: (set: LockSetHold) => Promise<T> | T): Promise<T> {
  const specs = locks.map((l) => (typeof l === 'string' ? { name: l } : l));
  return withHoldSession(t, opts, 'withLocks', async (session) => {
    const body: AcquireSetOptions = { locks: specs, sessionId: session?.id, ttlMs: session ? undefined : opts.ttlMs, owner: opts.owner, value: opts.value };
    const { result, sentAtMs } = await waitInChunks(t.clock, opts.waitMs ?? 0, (waitMs) => t.acquireSet({ ...body, waitMs }, { signal: opts.signal }));
    if (!result.acquired) {
      throw new LockstepError('not_acquired', `locks ${specs.map((s) => `'${s.name}'`).join(', ')} not acquired: held or awaited at ${describeBlocked(result.blocked)}`, 0, { blocked: result.blocked });
    }
    const label = `lock set ${specs.map((s) => s.name).join(', ')}`;
    let lease: HoldLease | null = null;
    let value: T;
    try {
      // Granted just as the caller gave up (the answer came first): as withLock, released below.
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      if (session) lease = followSession(session, label);
      else {
        const marginMs = opts.safetyMarginMs ?? defaultSafetyMarginMs(opts.ttlMs!);
        lease = ttlLease(t, result.holds, opts.ttlMs!, await ttlLeaseStart(t, result.holds, opts.ttlMs!, sentAtMs, marginMs), opts.safetyMarginMs, label);
      }
      const held: HoldLease = lease;
      const set: LockSetHold = {
        holds: result.holds,
        fencingToken(name) {
          const hold = result.holds.find((h) => h.name === name);
          if (!hold) throw new LockstepError('invalid_argument', `${label} has no lock '${name}'`, 0);
          return hold.fencingToken;
        },
        signal: held.signal,
        session,
        remainingMs: held.remainingMs,
        extend: held.extend,
      };
      value = await fn(set);
    } catch (err) {
      // As withLock: released too, but the caller sees this error, not a failed release's.
      lease?.end();
      await releaseAll(t, result.holds).catch(() => undefined);
      throw err;
    }
    lease.end();
    await releaseAll(t, result.holds);
    return value;
  });
}

/**
 * Releases every hold that still holds. A set release is all or nothing: if
 * one hold is gone already (expired, its session ended), the server names it
 * and releases none, so ask again without the holds it named.
 */
export async function releaseAll(t: Pick<SetHoldTransport, 'releaseSet'>, holds: readonly SetHold[]): Promise<void> {
  let left = holds.map(({ name, fencingToken }) => ({ name, fencingToken }));
  while (left.length > 0) {
    try {
      await t.releaseSet(left);
      return;
    } catch (err) {
      if (isLockstepError(err, 'session_not_found')) return;
      if (!isLockstepError(err, 'not_holder')) throw err;
      const gone = new Set(Array.isArray(err.details.names) ? (err.details.names as string[]) : []);
      const next = left.filter((h) => !gone.has(h.name));
      // Nothing named that we sent: the answer says nothing we can act on; the holds end with their lease.
      if (next.length === left.length) return;
      left = next;
    }
  }
}

/** One client-side lease for all holds of a TTL set: they were granted in one command with one TTL. */
function ttlLease(t: SetHoldTransport, holds: readonly SetHold[], ttlMs: number, sentAtMs: number, safetyMarginMs: number | undefined, label: string): HoldLease {
  // Measured from the acquire's SEND time: the server's TTL starts at the grant, which is later.
  const guard = new LeaseGuard(t.clock, ttlMs, safetyMarginMs ?? null, sentAtMs, label);
  return {
    signal: guard.signal,
    remainingMs: () => guard.remainingMs(),
    async extend(newTtlMs?: number, call: CallOptions = {}) {
      const extendSentAtMs = t.clock.nowMs();
      const results = await Promise.allSettled(holds.map((h) => t.extend(h.name, h.fencingToken, newTtlMs, call)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        // A hold that is gone ends the set: the set is all or nothing for its holder too.
        if (isLockstepError(failed.reason, 'not_holder')) guard.end('not_found');
        throw failed.reason;
      }
      // Each answer is the TTL the server set for that hold (without ttlMs, the one last set): the set lasts as its shortest.
      const setTtlMs = Math.min(...results.map((r) => (r as PromiseFulfilledResult<{ expiresInMs: number }>).value.expiresInMs));
      if (!guard.renew(extendSentAtMs, setTtlMs)) {
        throw new LockstepError('session_lost', `${label}: extended after the client-side deadline had passed; the holds may have lapsed meanwhile`, 0);
      }
    },
    end: () => guard.end('closed'),
  };
}
