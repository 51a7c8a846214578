// The sequential specification one lock's history is checked against: an
// exclusive lock (limit 1) whose holds are keyed by fencing token. A hold
// ends by release, by its session's deletion, or by expiry; expiry is the
// only step no client invokes, so the model allows it spontaneously but
// never before the hold's earliest possible end (its TTL, measured from the
// acquire's invocation by the fastest clock any node had; see
// clock-bound.ts). Without that bound every mutual-exclusion violation would
// be explained away as "the first hold expired".
//
// Elections use the same model: campaign is acquire (term = token), resign
// is release, and the leader's hold is a session hold.
import type { OpRecord } from '../history.js';

export interface Hold {
  /** null: granted by an acquire whose answer was lost (token never learned). */
  token: number | null;
  sessionId: string | null;
  /** Real time (run ms) before which this hold cannot have expired. */
  earliestEndMs: number;
}

export interface LockState {
  holder: Hold | null;
  /** Largest token granted so far in this linearization: grants must increase (fencing). */
  maxToken: number;
}

export const initialLockState: LockState = { holder: null, maxToken: 0 };

/** What the model needs to know about the history beyond one op. */
export interface ModelContext {
  /**
   * Tokens of acquires answered ok+acquired that surely granted them afresh;
   * a hold whose token was never learned may show any other token. See
   * knownTokensOf.
   */
  knownTokens: ReadonlySet<number>;
  /** Earliest real end of a hold granted by `op` (an acquire). */
  earliestEndMs(op: OpRecord): number;
  /**
   * Lock sets asked for this lock (lock-sets.ts): a waiting set can then stand
   * first in line on it while nobody holds it, so a single acquire may be
   * refused (or time out) with no holder to show. Without sets, "not acquired"
   * on a free lock is a violation.
   */
  setsInLine?: boolean;
}

export function stateKey(s: LockState): string {
  const h = s.holder;
  return h ? `${h.token ?? '?'}/${h.sessionId ?? ''}/${h.earliestEndMs}/${s.maxToken}` : `-/${s.maxToken}`;
}

/** Does the reported holder token `t` match the model's holder? */
function holderMatches(holder: Hold, t: number, ctx: ModelContext): boolean {
  if (holder.token === null) return !ctx.knownTokens.has(t);
  return holder.token === t;
}

/**
 * The states the lock may be in when an op takes effect at a real time no
 * later than `latestMs`: as is, or with its hold expired if that time can be
 * late enough for it.
 */
function preStates(s: LockState, latestMs: number): LockState[] {
  const out = [s];
  if (s.holder && s.holder.earliestEndMs <= latestMs) out.push({ holder: null, maxToken: s.maxToken });
  return out;
}

/**
 * Apply `op` (unknown ops: as if it took effect) to `s`; the possible next
 * states, empty when the op's recorded answer is impossible from `s`.
 *
 * `latestMs` bounds the real time at which the op takes effect in this
 * position of the linearization: its own completion, and the completion of
 * every definite op not yet linearized (they all come after it). An op whose
 * outcome is unknown completes "never", so without the second bound it could
 * expire any hold at any position; with it, only holds that can have ended
 * before the ops still to come.
 */
export function step(s0: LockState, op: OpRecord, ctx: ModelContext, latestMs: number = op.completeMs): LockState[] {
  const out: LockState[] = [];
  for (const s of preStates(s0, Math.min(latestMs, op.completeMs))) {
    for (const n of stepOne(s, op, ctx)) out.push(n);
  }
  return out;
}

function stepOne(s: LockState, op: OpRecord, ctx: ModelContext): LockState[] {
  const h = s.holder;
  switch (op.op) {
    case 'acquire':
    case 'campaign': {
      if (op.result === 'unknown') {
        // It may have been granted (token unknown) or found the lock held.
        if (h === null) return [{ holder: { token: null, sessionId: op.sessionId ?? null, earliestEndMs: ctx.earliestEndMs(op) }, maxToken: s.maxToken }];
        return [s];
      }
      if (op.result !== 'ok') return [s];
      if (op.acquired) {
        const t = op.fencingToken;
        if (t === undefined) throw new Error(`lock-model: acquired op without a token: ${JSON.stringify(op)}`);
        // A session that already holds the lock gets that same hold back
        // (http-api.md) — also when the hold came from an earlier acquire of
        // that session whose answer was lost: this answer names its token.
        if (h && h.sessionId !== null && h.sessionId === op.sessionId && (h.token === null || h.token === t)) {
          return [{ holder: { ...h, token: t }, maxToken: Math.max(s.maxToken, t) }];
        }
        if (h !== null) return [];
        if (t <= s.maxToken) return [];
        return [{ holder: { token: t, sessionId: op.sessionId ?? null, earliestEndMs: ctx.earliestEndMs(op) }, maxToken: t }];
      }
      // acquired: false: somebody held it (or, with lock sets, a set stood first in line with nobody holding it).
      const reported = op.holders ?? [];
      if (h === null) return ctx.setsInLine === true && reported.length === 0 ? [s] : [];
      if (reported.length > 0 && !reported.some((t) => holderMatches(h, t, ctx))) return [];
      return [s];
    }
    case 'release':
    case 'resign': {
      const t = op.fencingToken;
      if (t === undefined) throw new Error(`lock-model: release op without a token: ${JSON.stringify(op)}`);
      const holds = h !== null && h.token === t;
      if (op.result === 'unknown') return holds ? [{ holder: null, maxToken: s.maxToken }] : [s];
      if (op.result === 'ok') return holds ? [{ holder: null, maxToken: s.maxToken }] : [];
      // fail (not_holder): the token did not hold.
      return holds ? [] : [s];
    }
    case 'session.delete': {
      const ends = h !== null && h.sessionId !== null && h.sessionId === op.sessionId;
      if (op.result === 'fail') return [s];
      return ends ? [{ holder: null, maxToken: s.maxToken }] : [s];
    }
    case 'read': {
      if (op.result !== 'ok') return [s];
      const reported = op.holders ?? [];
      if (reported.length === 0) return h === null ? [s] : [];
      if (h === null) return [];
      return reported.some((t) => holderMatches(h, t, ctx)) ? [s] : [];
    }
    default:
      // Ops that do not touch a lock's state (keepalives, register writes).
      return [s];
  }
}

/**
 * The tokens surely granted by a known op. An acquire by a session that had
 * an earlier acquire of the same lock with a lost answer may have been given
 * that earlier hold back, so its token is left out: an unknown hold may show it.
 */
export function knownTokensOf(ops: readonly OpRecord[]): Set<number> {
  const out = new Set<number>();
  const unknownSessions = new Set<string>();
  for (const op of [...ops].sort((a, b) => a.invokeMs - b.invokeMs)) {
    if (op.op !== 'acquire' && op.op !== 'campaign') continue;
    if (op.result === 'unknown' && op.sessionId) unknownSessions.add(op.sessionId);
    if (op.result === 'ok' && op.acquired && op.fencingToken !== undefined && !(op.sessionId && unknownSessions.has(op.sessionId))) out.add(op.fencingToken);
  }
  return out;
}
