// The leader's deadlines, in memory, by its monotonic clock. The state
// machine never reads a clock (commands.ts); the leader keeps when each
// session, TTL hold, lock-delay and wait runs out, and proposes `expire` /
// `wait.cancel` for what is due — only while a quorum has confirmed its
// leadership recently (docs/safety.md #13; that check belongs to the
// caller, src/server). Time is a number passed on every call: no Date.now()
// here, so tests drive it with a fake clock.
//
// Never early: every deadline is `start + duration` with start no earlier
// than the event that began it, and `due` lists only deadlines that have
// passed. A new leader cannot know when its predecessor last heard a
// heartbeat, so resetAll restarts everything in full plus a grace (an
// election timeout, as etcd does; docs/safety.md #14).
import type { HoldRef, LockEvent } from './commands.js';
import type { Deadlines } from './views.js';

/** What the leader needs from the machine to restart every deadline. */
export interface LeaseSource {
  allSessions(): Array<{ sessionId: string; ttlMs: number }>;
  allTtlHolds(): Array<{ name: string; fencingToken: number; ttlMs: number }>;
  allLockDelays(): Array<{ name: string; lockDelayMs: number }>;
  allWaits(): Array<{ waitId: string; waitMs: number }>;
}

export interface DueWork {
  /** Propose as one `expire` command (skip it when all three are empty). */
  expire: { sessionIds: string[]; holds: HoldRef[]; lockDelays: string[] };
  /** Propose as `wait.cancel` with reason 'timeout'. */
  cancelWaits: string[];
}

const holdKey = (name: string, fencingToken: number): string => `${fencingToken}\u0000${name}`;

function assertTime(nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new Error(`LeaseTable: nowMs must be finite, got ${nowMs}`);
}

export class LeaseTable {
  private readonly sessions = new Map<string, { ttlMs: number; deadlineMs: number }>();
  private readonly holds = new Map<string, { name: string; fencingToken: number; deadlineMs: number }>();
  private readonly lockDelays = new Map<string, number>();
  private readonly waits = new Map<string, number>();
  private lastNowMs = Number.NEGATIVE_INFINITY;

  /**
   * The monotonic clock as this table has seen it. A caller may read its
   * clock before another caller that reports first; using the larger time
   * is safe both ways: deadlines start later (never early) and `due` judges
   * by a time that has surely passed.
   */
  private tick(nowMs: number): number {
    assertTime(nowMs);
    this.lastNowMs = Math.max(this.lastNowMs, nowMs);
    return this.lastNowMs;
  }

  /**
   * A heartbeat: the session's lease restarts in full. False if the session
   * is unknown here, or its lease has already run out: from then on due()
   * lists it and its expiry is (or will be) proposed, and a late heartbeat
   * must not be answered as if it had saved the session (etcd's lessor
   * refuses to renew an expired lease the same way). Chaos run seed 9001
   * (FINDINGS F5): a keepalive answered ok at 173.0 s, and the expiry
   * already proposed ended the session — and its election — at 173.1 s.
   */
  keepalive(sessionId: string, nowMs: number): boolean {
    nowMs = this.tick(nowMs);
    const session = this.sessions.get(sessionId);
    if (!session || session.deadlineMs <= nowMs) return false;
    session.deadlineMs = Math.max(session.deadlineMs, nowMs + session.ttlMs);
    return true;
  }

  /** Start or stop deadlines from an applied command's events (on the leader, as they are applied). */
  onEvent(event: LockEvent, nowMs: number): void {
    nowMs = this.tick(nowMs);
    switch (event.type) {
      case 'session.created':
        this.sessions.set(event.sessionId, { ttlMs: event.ttlMs, deadlineMs: nowMs + event.ttlMs });
        break;
      case 'session.ended':
        this.sessions.delete(event.sessionId);
        break;
      case 'acquired':
        if (event.ttlMs !== null) {
          this.holds.set(holdKey(event.name, event.fencingToken), {
            name: event.name,
            fencingToken: event.fencingToken,
            deadlineMs: nowMs + event.ttlMs,
          });
        }
        break;
      case 'extended': {
        const hold = this.holds.get(holdKey(event.name, event.fencingToken));
        const deadlineMs = nowMs + event.ttlMs;
        if (hold) hold.deadlineMs = Math.max(hold.deadlineMs, deadlineMs);
        else this.holds.set(holdKey(event.name, event.fencingToken), { name: event.name, fencingToken: event.fencingToken, deadlineMs });
        break;
      }
      case 'released':
      case 'expired':
        this.holds.delete(holdKey(event.name, event.fencingToken));
        break;
      case 'queued':
      case 'election.queued':
        // A lock set queues one place per lock, all with its one deadline: the first starts it.
        if (!this.waits.has(event.waitId)) this.waits.set(event.waitId, nowMs + event.waitMs);
        break;
      case 'dequeued':
        // A place left one line; the wait itself ends with its wait.resolved (a set may keep other places).
        break;
      case 'wait.resolved':
        this.waits.delete(event.waitId);
        break;
      case 'lockDelay.started':
        // Two holders' sessions may expire on one lock: the later end wins, never the earlier.
        this.lockDelays.set(event.name, Math.max(this.lockDelays.get(event.name) ?? Number.NEGATIVE_INFINITY, nowMs + event.lockDelayMs));
        break;
      case 'lockDelay.ended':
        this.lockDelays.delete(event.name);
        break;
      case 'election.leader':
        break;
    }
  }

  /**
   * On becoming leader: forget what we knew and restart every deadline the
   * replicated state has, in full, plus `graceMs` (docs/safety.md #14).
   */
  resetAll(source: LeaseSource, nowMs: number, graceMs: number): void {
    nowMs = this.tick(nowMs);
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new Error(`LeaseTable: graceMs must be >= 0, got ${graceMs}`);
    this.clear();
    const startMs = nowMs + graceMs;
    for (const s of source.allSessions()) this.sessions.set(s.sessionId, { ttlMs: s.ttlMs, deadlineMs: startMs + s.ttlMs });
    for (const h of source.allTtlHolds()) {
      this.holds.set(holdKey(h.name, h.fencingToken), { name: h.name, fencingToken: h.fencingToken, deadlineMs: startMs + h.ttlMs });
    }
    for (const d of source.allLockDelays()) this.lockDelays.set(d.name, startMs + d.lockDelayMs);
    for (const w of source.allWaits()) this.waits.set(w.waitId, startMs + w.waitMs);
  }

  /** On losing leadership: a follower ends nothing. */
  clear(): void {
    this.sessions.clear();
    this.holds.clear();
    this.lockDelays.clear();
    this.waits.clear();
  }

  /**
   * What has run out by `nowMs` (deadline <= nowMs), to propose. A pure
   * query: entries leave the table only when the committed command's events
   * arrive, so a proposal that fails is simply listed again next time (and
   * the machine re-checks each item, so a duplicate is harmless).
   */
  due(nowMs: number): DueWork {
    nowMs = this.tick(nowMs);
    const work: DueWork = { expire: { sessionIds: [], holds: [], lockDelays: [] }, cancelWaits: [] };
    for (const [sessionId, s] of this.sessions) if (s.deadlineMs <= nowMs) work.expire.sessionIds.push(sessionId);
    for (const h of this.holds.values()) if (h.deadlineMs <= nowMs) work.expire.holds.push({ name: h.name, fencingToken: h.fencingToken });
    for (const [name, deadlineMs] of this.lockDelays) if (deadlineMs <= nowMs) work.expire.lockDelays.push(name);
    for (const [waitId, deadlineMs] of this.waits) if (deadlineMs <= nowMs) work.cancelWaits.push(waitId);
    return work;
  }

  /** The earliest deadline, to schedule the next due() check; null when nothing is pending. */
  nextDeadlineMs(): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.sessions.values()) next = Math.min(next, s.deadlineMs);
    for (const h of this.holds.values()) next = Math.min(next, h.deadlineMs);
    for (const d of this.lockDelays.values()) next = Math.min(next, d);
    for (const w of this.waits.values()) next = Math.min(next, w);
    return next === Number.POSITIVE_INFINITY ? null : next;
  }

  /**
   * Remaining times as of `nowMs`, for the machine's query methods (views.ts). Never negative, and
   * whole milliseconds (the API's durations are integers; the monotonic clock has fractions), rounded
   * down: a holder is never told it has longer than it has.
   */
  deadlines(nowMs: number): Deadlines {
    assertTime(nowMs);
    const left = (deadlineMs: number | undefined): number | null => (deadlineMs === undefined ? null : Math.max(0, Math.floor(deadlineMs - nowMs)));
    return {
      sessionRemainingMs: (sessionId) => left(this.sessions.get(sessionId)?.deadlineMs),
      holdRemainingMs: (name, fencingToken) => left(this.holds.get(holdKey(name, fencingToken))?.deadlineMs),
      lockDelayRemainingMs: (name) => left(this.lockDelays.get(name)),
    };
  }
}
