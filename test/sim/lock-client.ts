// The simulated lock clients of `machine: 'locks'` runs: a small seeded
// generator of meaningful LockProposals. It learns from the first application
// of each committed entry (all replicas must agree on it: LockChecker) which
// sessions live, which holds (name, fencing token) were granted, which waits
// queue and which elections are led, so that releases, extends, resigns,
// cancels and expiries hit real state, while a share of stale ids and tokens
// checks the refusals too. The leader's deadline bookkeeping (leases.ts) is
// played by the generator: it proposes `expire` and `wait.cancel` for state it
// has seen, at random moments, as a leader whose timers ran out would.

import type { LockCommand, LockEvent, LockMode, LockProposal } from '../../src/locks/commands.js';
import type { Prng } from './prng.js';

/** Few names, so that commands collide on them. */
const LOCK_NAMES = ['a', 'b', 'c', 'd'] as const;
const ELECTION_NAMES = ['e1', 'e2'] as const;
/** Exclusive semaphore limit per lock name; 'd' sometimes asks for another limit (limit_mismatch). */
const LIMIT_BY_NAME: Record<string, number> = { a: 1, b: 2, c: 1, d: 3 };
const NOW_BASE_MS = 1_700_000_000_000;
const NOW_MS_PER_STEP = 50;
const KEYS_REMEMBERED_MAX = 16;
const IDEMPOTENT_SHARE = 0.2;
const IDEMPOTENT_REPEAT_SHARE = 0.35;
const STALE_SHARE = 0.1;

interface KnownHold {
  name: string;
  fencingToken: number;
  ttl: boolean;
}

/** One weighted kind of command. */
type Maker = () => LockCommand | null;

export class LockClient {
  private readonly sessions: string[] = [];
  private readonly holds: KnownHold[] = [];
  private readonly waits: string[] = [];
  private readonly leaders = new Map<string, number>();
  private readonly lockDelays = new Set<string>();
  private readonly keys: Array<{ key: string; proposal: LockProposal }> = [];
  private seq = 0;
  /** Every id ever issued, so stale ones can be reused. */
  private readonly pastSessions: string[] = [];
  private readonly pastWaits: string[] = [];
  private readonly pastTokens: KnownHold[] = [];

  constructor(private readonly rng: Prng) {}

  /** Learn from an applied entry's events (called once per index, in index order). */
  learn(events: readonly LockEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'session.created':
          this.sessions.push(e.sessionId);
          break;
        case 'session.ended':
          remove(this.sessions, e.sessionId);
          break;
        case 'acquired':
          this.holds.push({ name: e.name, fencingToken: e.fencingToken, ttl: e.ttlMs !== null });
          this.pastTokens.push({ name: e.name, fencingToken: e.fencingToken, ttl: e.ttlMs !== null });
          break;
        case 'released':
        case 'expired': {
          const at = this.holds.findIndex((h) => h.fencingToken === e.fencingToken);
          if (at >= 0) this.holds.splice(at, 1);
          break;
        }
        case 'queued':
        case 'election.queued':
          this.waits.push(e.waitId);
          break;
        case 'wait.resolved':
          remove(this.waits, e.waitId);
          break;
        case 'election.leader':
          if (e.leader === null) this.leaders.delete(e.name);
          else this.leaders.set(e.name, e.leader.term);
          break;
        case 'lockDelay.started':
          this.lockDelays.add(e.name);
          break;
        case 'lockDelay.ended':
          this.lockDelays.delete(e.name);
          break;
        default:
          break;
      }
    }
  }

  /** A fresh proposal for the leader to propose at `step`. */
  next(step: number): LockProposal {
    const nowMs = NOW_BASE_MS + step * NOW_MS_PER_STEP;
    const rng = this.rng;
    if (this.keys.length > 0 && rng.chance(IDEMPOTENT_SHARE * IDEMPOTENT_REPEAT_SHARE)) {
      // A client retrying a request with the same Idempotency-Key (same or, rarely, another command: conflict).
      const prior = rng.pick(this.keys);
      if (rng.chance(0.85)) return { ...prior.proposal, nowMs };
      return { command: this.command(), nowMs, idempotency: { ...prior.proposal.idempotency!, path: '/v1/other' } };
    }
    const command = this.command();
    const proposal: LockProposal = { command, nowMs, idempotency: null };
    if (rng.chance(IDEMPOTENT_SHARE)) {
      proposal.idempotency = { key: `k${++this.seq}`, method: 'POST', path: `/v1/${command.type}` };
      this.keys.push({ key: proposal.idempotency.key, proposal });
      if (this.keys.length > KEYS_REMEMBERED_MAX) this.keys.shift();
    }
    return proposal;
  }

  /** A command that names a session created for the liveness probe (unique text: the probe's id). */
  probe(step: number, id: string): LockProposal {
    return {
      command: { type: 'session.create', sessionId: id, ttlMs: 10_000, name: id, lockDelayMs: 0 },
      nowMs: NOW_BASE_MS + step * NOW_MS_PER_STEP,
      idempotency: null,
    };
  }

  private command(): LockCommand {
    const makers: Array<[number, Maker]> = [
      [3, () => this.createSession()],
      [1, () => this.deleteSession()],
      [8, () => this.acquire()],
      [3, () => this.acquireSet()],
      [4, () => this.release()],
      [1, () => this.releaseSet()],
      [1, () => this.extend()],
      [2, () => this.campaign()],
      [1, () => this.resign()],
      [1, () => this.proclaim()],
      [2, () => this.cancelWaits()],
      [3, () => this.expire()],
    ];
    const total = makers.reduce((sum, [w]) => sum + w, 0);
    for (;;) {
      let r = this.rng.int(total);
      for (const [w, make] of makers) {
        if (r < w) {
          const c = make();
          if (c !== null) return c;
          break;
        }
        r -= w;
      }
    }
  }

  private session(): string | null {
    const rng = this.rng;
    if (this.pastSessions.length > 0 && rng.chance(STALE_SHARE)) return rng.pick(this.pastSessions);
    return this.sessions.length > 0 ? rng.pick(this.sessions) : null;
  }

  private createSession(): LockCommand {
    const sessionId = `s${++this.seq}`;
    this.pastSessions.push(sessionId);
    const lockDelayMs = this.rng.chance(0.3) ? 1_000 + this.rng.int(5) * 1_000 : 0;
    return { type: 'session.create', sessionId, ttlMs: 1_000 + this.rng.int(30) * 1_000, name: sessionId, lockDelayMs };
  }

  private deleteSession(): LockCommand | null {
    const sessionId = this.session();
    return sessionId === null ? null : { type: 'session.delete', sessionId };
  }

  private acquire(): LockCommand {
    const rng = this.rng;
    const name = rng.pick(LOCK_NAMES);
    const sessionId = rng.chance(0.6) ? this.session() : null;
    const mode: LockMode = name === 'c' || (name === 'd' && rng.chance(0.3)) ? 'shared' : 'exclusive';
    let limit = mode === 'shared' ? 1 : LIMIT_BY_NAME[name];
    if (name === 'd' && mode === 'exclusive' && rng.chance(0.2)) limit = 1 + rng.int(4);
    const waitMs = rng.chance(0.5) ? 1_000 + rng.int(10) * 1_000 : 0;
    let waitId: string | null = null;
    if (waitMs > 0) {
      // A reused wait id must be refused while that wait is outstanding.
      waitId = this.pastWaits.length > 0 && rng.chance(0.05) ? rng.pick(this.pastWaits) : `w${++this.seq}`;
      this.pastWaits.push(waitId);
    }
    return {
      type: 'lock.acquire',
      name,
      sessionId,
      ttlMs: sessionId === null ? 1_000 + rng.int(20) * 1_000 : null,
      waitMs,
      waitId,
      mode,
      limit,
      owner: rng.chance(0.5) ? `o${rng.int(3)}` : null,
      value: rng.chance(0.3) ? `v${rng.int(100)}` : null,
    };
  }

  /** Lock sets: 2..3 of the names, each in its lock's usual mode and limit (sometimes shared on 'd'). */
  private acquireSet(): LockCommand {
    const rng = this.rng;
    const names = rng.shuffle([...LOCK_NAMES]).slice(0, 2 + rng.int(2));
    const locks = names.map((name) => {
      const mode: LockMode = name === 'c' || (name === 'd' && rng.chance(0.3)) ? 'shared' : 'exclusive';
      return { name, mode, limit: mode === 'shared' ? 1 : LIMIT_BY_NAME[name] };
    });
    const sessionId = rng.chance(0.6) ? this.session() : null;
    const waitMs = rng.chance(0.6) ? 1_000 + rng.int(10) * 1_000 : 0;
    const waitId = waitMs > 0 ? `w${++this.seq}` : null;
    if (waitId !== null) this.pastWaits.push(waitId);
    return {
      type: 'lockSet.acquire',
      locks,
      sessionId,
      ttlMs: sessionId === null ? 1_000 + rng.int(20) * 1_000 : null,
      waitMs,
      waitId,
      owner: rng.chance(0.5) ? `o${rng.int(3)}` : null,
      value: null,
    };
  }

  /** Releases 1..3 known holds at once (a stale one makes it 409 and release nothing). */
  private releaseSet(): LockCommand | null {
    const picked = new Map<string, { name: string; fencingToken: number }>();
    for (let i = 1 + this.rng.int(3); i > 0; i--) {
      const h = this.hold(false);
      if (h !== null) picked.set(`${h.name}/${h.fencingToken}`, { name: h.name, fencingToken: h.fencingToken });
    }
    return picked.size === 0 ? null : { type: 'lockSet.release', holds: [...picked.values()] };
  }

  private hold(ttlOnly: boolean): KnownHold | null {
    const rng = this.rng;
    if (this.pastTokens.length > 0 && rng.chance(STALE_SHARE)) return rng.pick(this.pastTokens);
    const candidates = ttlOnly ? this.holds.filter((h) => h.ttl) : this.holds;
    return candidates.length > 0 ? rng.pick(candidates) : null;
  }

  private release(): LockCommand | null {
    const h = this.hold(false);
    return h === null ? null : { type: 'lock.release', name: h.name, fencingToken: h.fencingToken };
  }

  private extend(): LockCommand | null {
    const h = this.hold(true);
    const ttlMs = this.rng.chance(0.5) ? null : 1_000 + this.rng.int(20) * 1_000;
    return h === null ? null : { type: 'lock.extend', name: h.name, fencingToken: h.fencingToken, ttlMs };
  }

  private campaign(): LockCommand | null {
    const sessionId = this.session();
    if (sessionId === null) return null;
    const waitMs = this.rng.chance(0.5) ? 1_000 + this.rng.int(10) * 1_000 : 0;
    const waitId = waitMs > 0 ? `w${++this.seq}` : null;
    if (waitId !== null) this.pastWaits.push(waitId);
    return { type: 'election.campaign', name: this.rng.pick(ELECTION_NAMES), sessionId, value: `v${this.rng.int(100)}`, waitMs, waitId };
  }

  private leaderTerm(): { name: string; term: number } | null {
    const led = [...this.leaders.entries()];
    if (led.length === 0) return null;
    const [name, term] = this.rng.pick(led);
    return { name, term: this.rng.chance(STALE_SHARE) ? Math.max(1, term - 1) : term };
  }

  private resign(): LockCommand | null {
    const l = this.leaderTerm();
    return l === null ? null : { type: 'election.resign', name: l.name, term: l.term };
  }

  private proclaim(): LockCommand | null {
    const l = this.leaderTerm();
    return l === null ? null : { type: 'election.proclaim', name: l.name, term: l.term, value: `p${this.rng.int(100)}` };
  }

  /** What the leader proposes when a waiter's waitMs ran out or its HTTP request went away. */
  private cancelWaits(): LockCommand | null {
    const pool = this.waits.length > 0 ? this.waits : this.pastWaits;
    if (pool.length === 0) return null;
    const waitIds = [...new Set([this.rng.pick(pool), this.rng.pick(pool)])];
    return { type: 'wait.cancel', waitIds, reason: this.rng.chance(0.7) ? 'timeout' : 'abandoned' };
  }

  /** What the leader proposes when session, TTL-hold or lock-delay deadlines ran out. */
  private expire(): LockCommand | null {
    const rng = this.rng;
    const sessionIds: string[] = [];
    const s = this.session();
    if (s !== null && rng.chance(0.5)) sessionIds.push(s);
    const holds: Array<{ name: string; fencingToken: number }> = [];
    const h = this.hold(true);
    if (h !== null && rng.chance(0.6)) holds.push({ name: h.name, fencingToken: h.fencingToken });
    const lockDelays = [...this.lockDelays].filter(() => rng.chance(0.7));
    if (sessionIds.length + holds.length + lockDelays.length === 0) return null;
    return { type: 'expire', sessionIds, holds, lockDelays };
  }
}

function remove(list: string[], item: string): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
