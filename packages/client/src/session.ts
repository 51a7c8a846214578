// A session that keeps itself alive: heartbeats every ttl/3 in the
// background, and a LeaseGuard whose signal fires before the lease can have
// run out on the server (docs/safety.md #18).

import { sleep, type Clock } from './clock.js';
import { isLockstepError, isTokenRefused, LockstepError } from './errors.js';
import { defaultSafetyMarginMs, LeaseGuard, type LeaseEndReason } from './lease.js';
import type { SessionCreated, SessionCreateOptions } from './types.js';

/** Heartbeats per TTL: three chances to renew before the lease ends (etcd's lease keepalive uses ttl/3 too). */
export const HEARTBEATS_PER_TTL = 3;
/** After a failed heartbeat, retry this often (as a share of the TTL) until the deadline. */
export const HEARTBEAT_RETRY_TTL_FRACTION = 0.1;

/** What a Session needs from the Client (kept narrow so tests can fake it). */
export interface SessionTransport {
  keepaliveSession(sessionId: string, opts: { requestTimeoutMs: number; totalTimeoutMs: number }): Promise<{ sessionId: string; ttlMs: number }>;
  deleteSession(sessionId: string): Promise<unknown>;
}

export interface SessionOptions extends SessionCreateOptions {
  /**
   * Stop this long before the lease could end; default max(200 ms, 10% of TTL) up to 10 s.
   * Must be less than ttlMs (RangeError before the session is created); a large margin makes
   * heartbeats more frequent, twice per ttlMs - safetyMarginMs.
   */
  safetyMarginMs?: number;
}

export class Session {
  readonly id: string;
  readonly ttlMs: number;
  readonly lockDelayMs: number;
  readonly name: string;
  /** Resolves (never rejects) when the session can no longer be relied on, with why. */
  readonly lost: Promise<LeaseEndReason>;
  private readonly guard: LeaseGuard;
  private readonly stopLoop = new AbortController();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly transport: SessionTransport,
    private readonly clock: Clock,
    created: SessionCreated,
    /** Monotonic time the create request was sent. */
    sentAtMs: number,
    safetyMarginMs?: number,
  ) {
    this.id = created.sessionId;
    this.ttlMs = created.ttlMs;
    this.lockDelayMs = created.lockDelayMs;
    this.name = created.name;
    this.guard = new LeaseGuard(clock, created.ttlMs, safetyMarginMs ?? defaultSafetyMarginMs(created.ttlMs), sentAtMs, `session ${created.sessionId}`);
    this.lost = new Promise((resolve) => this.guard.onEnd(resolve));
    this.guard.onEnd((reason) => {
      this.stopLoop.abort();
      // A lease that may have lapsed is useless to its owner: delete it so its holds go now, not at expiry.
      // Not after 'unauthorized': the delete would carry the token the server just refused.
      if (reason === 'expired') void this.transport.deleteSession(this.id).catch(() => undefined);
    });
    void this.heartbeatLoop();
  }

  /** Fires before the lease can have run out on the server, or when the session is lost or closed. Stop acting on any hold of this session then. */
  get signal(): AbortSignal {
    return this.guard.signal;
  }

  /** How long before the lease could end the signal fires. */
  get safetyMarginMs(): number {
    return this.guard.safetyMarginMs;
  }

  get alive(): boolean {
    return this.guard.check();
  }

  /** How long the holder may still act, by the client's own reckoning. */
  remainingMs(): number {
    return this.guard.remainingMs();
  }

  /** Register a callback for the end of the session (called at once if it has ended). */
  onLost(listener: (reason: LeaseEndReason) => void): void {
    this.guard.onEnd(listener);
  }

  /** Stop heartbeating and delete the session on the server, releasing its holds. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const wasAlive = this.guard.ended === null;
    this.guard.end('closed');
    this.closing = wasAlive
      ? this.transport.deleteSession(this.id).then(
          () => undefined,
          (err: unknown) => {
            if (isLockstepError(err, 'session_not_found')) return;
            throw err;
          },
        )
      : Promise.resolve();
    return this.closing;
  }

  private async heartbeatLoop(): Promise<void> {
    // A margin over a third of the TTL leaves less than two thirds of it to act in, and a first
    // heartbeat at ttl/3 could come after the client-side deadline: heartbeat twice within that
    // window instead, so the renewal comes before the deadline with half of it left for a retry.
    const intervalMs = Math.min(this.ttlMs / HEARTBEATS_PER_TTL, (this.ttlMs - this.guard.safetyMarginMs) / 2);
    const retryMs = Math.max(50, this.ttlMs * HEARTBEAT_RETRY_TTL_FRACTION);
    let delayMs = intervalMs;
    while (!this.stopLoop.signal.aborted) {
      try {
        await sleep(this.clock, delayMs, this.stopLoop.signal, true);
      } catch {
        return;
      }
      if (!this.guard.check()) return;
      const budgetMs = this.guard.remainingMs();
      const sentAtMs = this.clock.nowMs();
      try {
        // Per attempt at most one heartbeat interval: a hung node must not eat the whole budget
        // while another node could have answered.
        const res = await this.transport.keepaliveSession(this.id, { requestTimeoutMs: Math.min(intervalMs, budgetMs), totalTimeoutMs: budgetMs });
        if (this.stopLoop.signal.aborted) return;
        // renew() re-checks the deadline first: an answer handled after a stall does not revive the lease.
        if (!this.guard.renew(sentAtMs, res.ttlMs)) return;
        delayMs = Math.max(0, sentAtMs + intervalMs - this.clock.nowMs());
      } catch (err) {
        if (err instanceof LockstepError && err.code === 'session_not_found') {
          this.guard.end('not_found');
          return;
        }
        if (isTokenRefused(err)) {
          // Final for this token: retrying until the deadline would only hide why the session ends.
          this.guard.end('unauthorized', err);
          return;
        }
        // Anything else (no leader, a node down, a timeout) may pass: try again until the deadline.
        delayMs = retryMs;
      }
    }
  }
}
