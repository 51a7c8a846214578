// withLock: acquire, run the caller's function while the hold lasts, release.
// The hold's signal fires before the hold can have ended on the server
// (docs/safety.md #18); the fencing token goes to every resource the
// function writes (item 11) so that a write made after the signal is refused.

import type { Clock } from './clock.js';
import { abortedError, isLockstepError, LockstepError } from './errors.js';
import { checkSafetyMargin, defaultSafetyMarginMs, LeaseGuard } from './lease.js';
import type { Session } from './session.js';
import type { AcquireOptions, AcquireResult, CallOptions, LockMode } from './types.js';

/** The contract's largest waitMs for one request; longer waits are made of several. */
export const WAIT_MS_MAX_PER_REQUEST = 300_000;

export interface WithLockOptions {
  /** The hold has its own lease of this many ms (not renewed; see hold.extend). */
  ttlMs?: number;
  /** The hold lives as long as this session. */
  session?: Session;
  /** With neither ttlMs nor session, withLock opens a session of this TTL for the call and closes it after. */
  sessionTtlMs?: number;
  /** How long to wait in the queue; default 0 (try once). May exceed 300000 or be Infinity. */
  waitMs?: number;
  mode?: LockMode;
  limit?: number;
  owner?: string;
  value?: string;
  /** Stop waiting when this fires. */
  signal?: AbortSignal;
  /** TTL holds: stop this long before the TTL could end. Less than ttlMs (else a RangeError, before anything is acquired). */
  safetyMarginMs?: number;
}

export interface LockHold {
  readonly name: string;
  readonly fencingToken: number;
  readonly mode: LockMode;
  /** Fires before the hold can have ended on the server; stop writing then. */
  readonly signal: AbortSignal;
  readonly session: Session | null;
  /** How long the holder may still act, by the client's reckoning. */
  remainingMs(): number;
  /** TTL holds: renew the lease to ttlMs (default: the TTL last set, by the acquire or an earlier extend); measured from this call's send time. */
  extend(ttlMs?: number, call?: CallOptions): Promise<void>;
}

/** What withLock needs from the Client. */
export interface HoldTransport {
  readonly clock: Clock;
  acquire(name: string, opts: AcquireOptions, call?: { signal?: AbortSignal }): Promise<AcquireResult>;
  release(name: string, fencingToken: number): Promise<unknown>;
  extend(name: string, fencingToken: number, ttlMs?: number, call?: CallOptions): Promise<{ expiresInMs: number }>;
  session(opts: { ttlMs?: number }, call?: CallOptions): Promise<Session>;
}

/**
 * Waits up to `totalWaitMs` (may be Infinity) in requests of at most the
 * contract's waitMs each; returns the last answer and when its request was sent.
 */
export async function waitInChunks<R extends { acquired: boolean }>(
  clock: Clock,
  totalWaitMs: number,
  request: (waitMs: number) => Promise<R>,
): Promise<{ result: R; sentAtMs: number }> {
  const startMs = clock.nowMs();
  for (;;) {
    const leftMs = totalWaitMs === Infinity ? WAIT_MS_MAX_PER_REQUEST : Math.max(0, Math.round(startMs + totalWaitMs - clock.nowMs()));
    const waitMs = Math.min(WAIT_MS_MAX_PER_REQUEST, leftMs);
    const sentAtMs = clock.nowMs();
    const result = await request(waitMs);
    if (result.acquired || waitMs === 0 || (totalWaitMs !== Infinity && clock.nowMs() - startMs >= totalWaitMs)) {
      return { result, sentAtMs };
    }
  }
}

/** Acquire, waiting up to waitMs in chunks the contract allows; returns the last answer and when its request was sent. */
export function acquireWaiting(
  t: HoldTransport,
  name: string,
  opts: AcquireOptions & { waitMs?: number },
  signal?: AbortSignal,
): Promise<{ result: AcquireResult; sentAtMs: number }> {
  return waitInChunks(t.clock, opts.waitMs ?? 0, (waitMs) => t.acquire(name, { ...opts, waitMs }, { signal }));
}

export async function withLock<T>(t: HoldTransport, name: string, opts: WithLockOptions, fn: (hold: LockHold) => Promise<T> | T): Promise<T> {
  return withHoldSession(t, opts, 'withLock', async (session) => {
    const { result, sentAtMs } = await acquireWaiting(
      t,
      name,
      {
        sessionId: session?.id,
        ttlMs: session ? undefined : opts.ttlMs,
        waitMs: opts.waitMs,
        mode: opts.mode,
        limit: opts.limit,
        owner: opts.owner,
        value: opts.value,
      },
      opts.signal,
    );
    if (!result.acquired) {
      // A free lock in lock-delay (its last holder's session expired) has no holder to name: say what stands in the way.
      const delayMs = result.lockDelayRemainingMs;
      const why = delayMs === undefined ? 'is held' : `is in lock-delay for ${delayMs} ms more`;
      throw new LockstepError('not_acquired', `lock '${name}' ${why} (${result.holders.length} holder(s), ${result.queueLength} waiting)`, 0, {
        holders: result.holders,
        queueLength: result.queueLength,
        ...(delayMs === undefined ? {} : { lockDelayRemainingMs: delayMs }),
      });
    }
    const token = result.fencingToken;
    let hold: { hold: LockHold; end(): void } | null = null;
    let value: T;
    try {
      // Granted just as the caller gave up (the answer came first): the function does not run, and the hold is released below.
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      if (session) hold = sessionHold(name, token, result.mode, session);
      else {
        const marginMs = opts.safetyMarginMs ?? defaultSafetyMarginMs(opts.ttlMs!);
        const leaseSentAtMs = await ttlLeaseStart(t, [{ name, fencingToken: token }], opts.ttlMs!, sentAtMs, marginMs);
        hold = ttlHold(t, name, token, result.mode, opts.ttlMs!, leaseSentAtMs, opts.safetyMarginMs);
      }
      value = await fn(hold.hold);
    } catch (err) {
      // Released too, but the caller sees this error, not a failed release's: a hold
      // that could not be released ends with its lease.
      hold?.end();
      await releaseHold(t, name, token).catch(() => undefined);
      throw err;
    }
    hold.end();
    await releaseHold(t, name, token);
    return value;
  });
}

/**
 * Runs `use` with the session a withLock or withLocks call holds under: the caller's, none for a
 * TTL hold, or one of sessionTtlMs opened for this call and closed after it. Options that do not
 * go together throw before anything is opened or acquired.
 */
export async function withHoldSession<T>(
  t: Pick<HoldTransport, 'session'>,
  opts: Omit<WithLockOptions, 'mode' | 'limit'>,
  caller: 'withLock' | 'withLocks',
  use: (session: Session | null) => Promise<T>,
): Promise<T> {
  if (opts.ttlMs !== undefined && opts.session !== undefined) {
    throw new LockstepError('invalid_argument', `${caller}: give ttlMs or session, not both`, 0);
  }
  if (opts.ttlMs !== undefined) checkSafetyMargin(opts.safetyMarginMs, opts.ttlMs, caller);
  const ownSession = opts.ttlMs === undefined && opts.session === undefined ? await t.session({ ttlMs: opts.sessionTtlMs }, { signal: opts.signal }) : null;
  try {
    return await use(opts.session ?? ownSession);
  } finally {
    await ownSession?.close().catch(() => undefined);
  }
}

/** Release one hold; one already gone (expired, its session ended) has nothing left to release. */
async function releaseHold(t: Pick<HoldTransport, 'release'>, name: string, token: number): Promise<void> {
  await t.release(name, token).catch((err: unknown) => {
    if (isLockstepError(err, 'not_holder') || isLockstepError(err, 'session_not_found')) return;
    throw err;
  });
}

/**
 * When the client-side lease of a TTL hold (or a TTL lock set) starts. The
 * server starts the TTL at the grant, somewhere between the acquire's send and
 * its answer, so only the send time is a safe start (docs/safety.md #18). An
 * acquire that waited in line may have been sent longer ago than the TTL: its
 * hold would look lapsed the moment it is granted although the server just
 * gave it a full TTL. So when the answer came later than the safety margin
 * after the send, renew the holds once (extend to ttlMs) and count from that
 * extend's send instead.
 */
export async function ttlLeaseStart(
  t: Pick<HoldTransport, 'clock' | 'extend'>,
  holds: ReadonlyArray<{ name: string; fencingToken: number }>,
  ttlMs: number,
  sentAtMs: number,
  safetyMarginMs: number,
): Promise<number> {
  const nowMs = t.clock.nowMs();
  if (nowMs - sentAtMs <= safetyMarginMs) return sentAtMs;
  await Promise.all(holds.map((h) => t.extend(h.name, h.fencingToken, ttlMs)));
  return nowMs;
}

/** The client-side lease of a hold (or a lock set): its signal, what is left, renewing, ending it. */
export interface HoldLease {
  readonly signal: AbortSignal;
  remainingMs(): number;
  extend(ttlMs?: number, call?: CallOptions): Promise<void>;
  end(): void;
}

/** A hold that lives as long as its session: its signal follows the session's; it has no TTL to extend. */
export function followSession(session: Session, label: string): HoldLease {
  const controller = new AbortController();
  const forward = (): void => controller.abort(session.signal.reason);
  if (session.signal.aborted) forward();
  else session.signal.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    remainingMs: () => (controller.signal.aborted ? 0 : session.remainingMs()),
    extend: async () => {
      throw new LockstepError('invalid_argument', 'a session hold lasts as long as its session; it has no TTL to extend', 0);
    },
    end: () => {
      session.signal.removeEventListener('abort', forward);
      controller.abort(new Error(`${label} released`));
    },
  };
}

function sessionHold(name: string, fencingToken: number, mode: LockMode, session: Session): { hold: LockHold; end(): void } {
  const lease = followSession(session, `lock '${name}'`);
  return {
    hold: { name, fencingToken, mode, signal: lease.signal, session, remainingMs: lease.remainingMs, extend: lease.extend },
    end: lease.end,
  };
}

function ttlHold(
  t: HoldTransport,
  name: string,
  fencingToken: number,
  mode: LockMode,
  ttlMs: number,
  sentAtMs: number,
  safetyMarginMs: number | undefined,
): { hold: LockHold; end(): void } {
  // Measured from the acquire's SEND time: the server's TTL starts at the grant, which is later.
  const guard = new LeaseGuard(t.clock, ttlMs, safetyMarginMs ?? null, sentAtMs, `lock '${name}' token ${fencingToken}`);
  return {
    hold: {
      name,
      fencingToken,
      mode,
      signal: guard.signal,
      session: null,
      remainingMs: () => guard.remainingMs(),
      extend: async (newTtlMs?: number, call: CallOptions = {}) => {
        const extendSentAtMs = t.clock.nowMs();
        let extended: { expiresInMs: number };
        try {
          extended = await t.extend(name, fencingToken, newTtlMs, call);
        } catch (err) {
          if (isLockstepError(err, 'not_holder')) guard.end('not_found');
          throw err;
        }
        // The server's answer is the TTL it set: without ttlMs, the one last set (maybe by an earlier extend), not the acquire's.
        if (!guard.renew(extendSentAtMs, extended.expiresInMs)) {
          throw new LockstepError('session_lost', `lock '${name}': extended after the client-side deadline had passed; the hold may have lapsed meanwhile`, 0);
        }
      },
    },
    end: () => guard.end('closed'),
  };
}
