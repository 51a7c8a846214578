// The client's own view of a lease, and the AbortSignal that ends it
// (docs/safety.md #18: "a client measures its lease from the moment it
// *sent* the heartbeat that was acknowledged, on a monotonic clock, and
// stops acting before ttl - margin has passed").
//
// The server starts (or restarts) the lease when it RECEIVES the request, so
// the send time is a lower bound of the server's start: counting from it can
// only make the client stop early, never late. The server never ends a lease
// before its TTL (after a failover it restarts it in full), so
// `sentAtMs + ttlMs` is a safe end as long as the two monotonic clocks run
// at the same rate; the margin covers rate error and the time the
// application needs to notice the signal and stop.

import type { Clock, TimerHandle } from './clock.js';

/** Lower bound of the safety margin. */
export const LEASE_MARGIN_MIN_MS = 200;
/** The margin is this share of the TTL, for long TTLs... */
export const LEASE_MARGIN_TTL_FRACTION = 0.1;
/** ...up to this. */
export const LEASE_MARGIN_MAX_MS = 10_000;

export function defaultSafetyMarginMs(ttlMs: number): number {
  return Math.max(LEASE_MARGIN_MIN_MS, Math.min(LEASE_MARGIN_MAX_MS, ttlMs * LEASE_MARGIN_TTL_FRACTION));
}

/**
 * A caller's safetyMarginMs must leave part of the TTL to act in: a margin of
 * the whole TTL or more would end the lease the moment it starts. Checked
 * before anything is created on the server (a session made and then refused
 * here would be left to run out its TTL), so a RangeError naming the option.
 */
export function checkSafetyMargin(safetyMarginMs: number | undefined, ttlMs: number, where: string): void {
  if (safetyMarginMs === undefined) return;
  if (!Number.isFinite(safetyMarginMs) || safetyMarginMs < 0) {
    throw new RangeError(`${where}: safetyMarginMs must be a number >= 0, got ${safetyMarginMs}`);
  }
  if (safetyMarginMs >= ttlMs) {
    throw new RangeError(`${where}: safetyMarginMs (${safetyMarginMs}) must be less than ttlMs (${ttlMs}): the lease would end as it starts`);
  }
}

export type LeaseEndReason =
  /** No acknowledged renewal in time: the lease may have run out on the server. */
  | 'expired'
  /** The server said the session or hold is gone. */
  | 'not_found'
  /** The owner released or closed it. */
  | 'closed'
  /**
   * The server refused the token it is renewed with (401 unauthorized: revoked
   * or unknown; 403 forbidden: the token may not renew it). No renewal with
   * that token can succeed, so the lease ends now rather than at its deadline;
   * on the server it lasts until its TTL runs out.
   */
  | 'unauthorized';

export class LeaseEndedError extends Error {
  override readonly name = 'LeaseEndedError';
  /** `cause`: the server's error when it ended the lease (a LockstepError), else undefined. */
  constructor(readonly reason: LeaseEndReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export class LeaseGuard {
  private deadlineMs: number;
  private readonly controller = new AbortController();
  private timer: TimerHandle | null = null;
  /** Send time of the newest renewal (or of the request that started the lease) the deadline counts from. */
  private renewedSentAtMs: number;
  private endedReason: LeaseEndReason | null = null;
  private readonly listeners: ((reason: LeaseEndReason) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private ttlMs: number,
    /** The caller's margin, or null: defaultSafetyMarginMs of the TTL in force (a TTL hold's changes with extend). */
    private readonly givenMarginMs: number | null,
    /** Monotonic time the request that started the lease was SENT. */
    sentAtMs: number,
    private readonly label: string,
  ) {
    checkSafetyMargin(this.safetyMarginMs, ttlMs, `lease ${label}`);
    this.deadlineMs = sentAtMs + ttlMs - this.safetyMarginMs;
    this.renewedSentAtMs = sentAtMs;
    this.check();
    this.schedule();
  }

  /** How long before the lease could end on the server the signal fires. */
  get safetyMarginMs(): number {
    return this.givenMarginMs ?? defaultSafetyMarginMs(this.ttlMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get ended(): LeaseEndReason | null {
    return this.endedReason;
  }

  /** Monotonic time after which the holder must no longer act. */
  get deadline(): number {
    return this.deadlineMs;
  }

  remainingMs(): number {
    return Math.max(0, this.deadlineMs - this.clock.nowMs());
  }

  /**
   * An acknowledged renewal that was sent at sentAtMs. Returns false (and
   * ends the lease) if the deadline had already passed when the answer is
   * handled: an event-loop stall past the deadline counts as a lost lease
   * even if the server still had it, because the holder may have acted
   * while nothing vouched for it.
   */
  renew(sentAtMs: number, ttlMs: number = this.ttlMs): boolean {
    if (!this.check()) return false;
    // An older, slower answer says nothing the newest renewal did not: it moves nothing.
    if (sentAtMs < this.renewedSentAtMs) return true;
    this.renewedSentAtMs = sentAtMs;
    this.ttlMs = ttlMs;
    // Counted from this renewal even when that brings the deadline forward (a TTL hold
    // extended to a shorter TTL): the leader keeps the longer lease it has, but a new
    // leader restarts the lease at the TTL last set, from a time after this send.
    this.deadlineMs = sentAtMs + ttlMs - this.safetyMarginMs;
    this.schedule();
    return true;
  }

  /** True while the lease is held; ends it if the deadline has passed. */
  check(): boolean {
    if (this.endedReason !== null) return false;
    if (this.clock.nowMs() >= this.deadlineMs) {
      this.end('expired');
      return false;
    }
    return true;
  }

  onEnd(listener: (reason: LeaseEndReason) => void): void {
    if (this.endedReason !== null) listener(this.endedReason);
    else this.listeners.push(listener);
  }

  /** End the lease; `cause` is the server's answer that ended it, if one did (it becomes the signal reason's `cause`). */
  end(reason: LeaseEndReason, cause?: unknown): void {
    if (this.endedReason !== null) return;
    this.endedReason = reason;
    this.timer?.cancel();
    this.timer = null;
    this.controller.abort(new LeaseEndedError(reason, `${this.label}: ${endText(reason, cause)}`, cause));
    for (const l of this.listeners.splice(0)) l(reason);
  }

  private schedule(): void {
    this.timer?.cancel();
    if (this.endedReason !== null) return;
    // A timer may fire late (a stalled event loop); check() compares against the clock, not the timer.
    this.timer = this.clock.setTimer(() => {
      if (this.check()) this.schedule();
    }, this.deadlineMs - this.clock.nowMs(), true);
  }
}

function endText(reason: LeaseEndReason, cause: unknown): string {
  switch (reason) {
    case 'expired':
      return 'no renewal acknowledged in time; the lease may have run out';
    case 'not_found':
      return 'the server no longer has it';
    case 'closed':
      return 'closed';
    case 'unauthorized':
      return `the server refused the token it is renewed with${cause instanceof Error ? ` (${cause.message})` : ''}`;
  }
}
