// Linearizability of one lock's history against the lock model: the
// Wing & Gong search as improved by Lowe and used by Porcupine — try every
// op that may come next (no unlinearized op completed before it was
// invoked), apply it to the model, and backtrack; memoize (linearized set,
// model state) so that each configuration is explored once. An op whose
// result is unknown (timeout, connection error) may take effect anywhere
// after its invocation, or never: it is never required, and its completion
// time is treated as infinite.
//
// What keeps the search small on real histories (issue 9: a 90 s history with
// 20 % of its releases and refused acquires blurred to unknown ran out of a
// 2,000,000-configuration budget):
// - time bounds every step: an op placed next takes effect no later than
//   the earliest completion among the definite ops not yet placed, so a
//   hold can expire there only if its TTL can have run out by then
//   (lock-model.ts step); before, an unknown op could expire any hold;
// - an unknown op is placed only where it changes the state: one that would
//   change nothing can as well never have happened, and it is not required;
// - definite and unknown ops are scanned separately, so an unknown op that
//   never takes effect does not make every step scan the history since it;
// - a step after which some definite op can never be placed is not taken:
//   it ended for good a hold that op needs (a release of it, a read or a
//   refusal that saw it), or it granted a token above a TTL grant still to
//   come (an answer learned late, placed too early). That branch cannot be
//   completed, and finding out at the end of the history would explore
//   every order of the ops in between (doomedBy);
// - unknown ops that would do the same thing are tried once, not each;
// - the search tries first the order the server reported (orderHint).
import type { OpRecord } from '../history.js';
import { initialLockState, stateKey, step, type LockState, type ModelContext } from './lock-model.js';

/** Explored configurations before the search gives up and says "inconclusive". */
export const SEARCH_CONFIGS_MAX = 2_000_000;

export type LinearizabilityVerdict =
  | { kind: 'ok'; configs: number }
  | { kind: 'violation'; configs: number; explanation: string; stuckAfter: OpRecord[]; candidates: OpRecord[] }
  | { kind: 'inconclusive'; configs: number; explanation: string };

/** Ops that bear on a lock's state; acquires and reads that surely failed say nothing. */
export function relevantOps(ops: readonly OpRecord[]): OpRecord[] {
  return ops.filter((op) => {
    if (op.op === 'acquire' || op.op === 'campaign' || op.op === 'read') return op.result !== 'fail';
    return op.op === 'release' || op.op === 'resign' || op.op === 'session.delete';
  });
}

interface Frame {
  state: LockState;
  /** Successors not tried yet: (op index, next state). */
  successors: Array<{ op: number; state: LockState }>;
  /** The op linearized to enter this frame (-1 at the root). */
  via: number;
}

/** 96 bits of random hash per op (Zobrist hashing of the linearized set). */
function zobrist(n: number): Uint32Array {
  const out = new Uint32Array(n * 3);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    // xorshift32, deterministic so that runs are reproducible.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x;
  }
  return out;
}

/** Ascending indexes into `ops` of those `keep` selects, by invocation. */
function indexesWhere(ops: readonly OpRecord[], keep: (op: OpRecord) => boolean): number[] {
  const out: number[] = [];
  ops.forEach((op, i) => keep(op) && out.push(i));
  return out;
}

export function checkLinearizable(
  history: readonly OpRecord[],
  ctx: ModelContext,
  configsMax = SEARCH_CONFIGS_MAX,
): LinearizabilityVerdict {
  const ops = relevantOps(history)
    .map((op) => (op.result === 'unknown' ? { ...op, completeMs: Infinity } : op))
    .sort((a, b) => a.invokeMs - b.invokeMs || a.completeMs - b.completeMs);
  for (const op of ops) {
    if (op.result !== 'unknown' && !(op.completeMs >= op.invokeMs)) {
      throw new Error(`linearizability: op completes before it is invoked: ${JSON.stringify(op)}`);
    }
  }
  const n = ops.length;
  const required = ops.map((op) => op.result !== 'unknown');
  const requiredTotal = required.filter(Boolean).length;
  // Definite ops by invocation and by completion; unknown ops by invocation.
  const definite = indexesWhere(ops, (op) => op.result !== 'unknown');
  const unknown = indexesWhere(ops, (op) => op.result === 'unknown');
  const byComplete = [...definite].sort((a, b) => ops[a].completeMs - ops[b].completeMs);
  const hint = ops.map(orderHint);
  const done = new Uint8Array(n);
  let requiredDone = 0;
  const zob = zobrist(n);
  const h = [0, 0, 0];
  const seen = new Set<string>();
  // Model states interned as small numbers: the memo key is four numbers.
  const stateIds = new Map<string, number>();
  const stateId = (state: LockState): number => {
    const key = stateKey(state);
    let id = stateIds.get(key);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(key, id);
    }
    return id;
  };
  let configs = 0;

  // Holds that definite ops still need. A hold with token t can hold the
  // lock later only if it holds it now or a definite grant of t is still to
  // be placed (lock-model.ts: only an acquire answered with t sets holder t).
  const grantsPending = new Map<number, number>();
  const needers = new Map<number, number[]>();
  const needs = ops.map((op) => tokensNeeded(op, ctx));
  ops.forEach((op, i) => {
    if (isGrant(op)) grantsPending.set(op.fencingToken!, (grantsPending.get(op.fencingToken!) ?? 0) + 1);
    for (const t of needs[i]) needers.set(t, [...(needers.get(t) ?? []), i]);
  });
  const alive = (t: number, state: LockState): boolean => state.holder?.token === t || (grantsPending.get(t) ?? 0) > 0;
  // Grants of TTL holds (no session) by token: once a larger token has been
  // granted, such a grant can never be placed (tokens only grow; only a
  // session's acquire may return a hold it has already).
  const ttlGrants = definite.filter((i) => isGrant(ops[i]) && !ops[i].sessionId).sort((a, b) => ops[a].fencingToken! - ops[b].fencingToken!);
  const ttlGrantTokens = ttlGrants.map((i) => ops[i].fencingToken!);
  /**
   * Whether going from `before` to `after` left a definite op not yet placed
   * that can never be placed: a hold it needs ended for good, or a TTL grant
   * of a token below the largest granted.
   */
  const doomedBy = (before: LockState, after: LockState): boolean => {
    const t = before.holder?.token;
    if (t !== undefined && t !== null && !alive(t, after)) {
      for (const i of needers.get(t) ?? []) if (!done[i] && !needs[i].some((u) => alive(u, after))) return true;
    }
    if (after.maxToken > before.maxToken) {
      for (let k = firstTokenAbove(ttlGrantTokens, before.maxToken); k < ttlGrants.length && ttlGrantTokens[k] < after.maxToken; k++) {
        if (!done[ttlGrants[k]]) return true;
      }
    }
    return false;
  };

  // Pointers to the first definite op not yet linearized, in invocation and
  // in completion order, and to the first unknown one. The search mostly
  // extends a prefix, so keeping them (instead of scanning from 0) makes each
  // step cost the width of the concurrency window, not the history's length.
  const rankOf = (order: number[]): Int32Array => {
    const rank = new Int32Array(n).fill(-1);
    order.forEach((i, r) => (rank[i] = r));
    return rank;
  };
  const rankInComplete = rankOf(byComplete);
  const rankInDefinite = rankOf(definite);
  const rankInUnknown = rankOf(unknown);
  let firstDefinite = 0;
  let firstUnknown = 0;
  let firstByComplete = 0;
  /** The latest real time at which the next op can take effect: every definite op not yet placed comes after it. */
  const minPendingComplete = (): number => {
    while (firstByComplete < byComplete.length && done[byComplete[firstByComplete]]) firstByComplete++;
    return firstByComplete < byComplete.length ? ops[byComplete[firstByComplete]].completeMs : Infinity;
  };
  const successorsOf = (state: LockState): Frame['successors'] => {
    const bound = minPendingComplete();
    while (firstDefinite < definite.length && done[definite[firstDefinite]]) firstDefinite++;
    while (firstUnknown < unknown.length && done[unknown[firstUnknown]]) firstUnknown++;
    const out: Frame['successors'] = [];
    for (let k = firstDefinite; k < definite.length && ops[definite[k]].invokeMs <= bound; k++) {
      const i = definite[k];
      if (done[i]) continue;
      for (const next of step(state, ops[i], ctx, bound)) out.push({ op: i, state: settled(next, bound) });
    }
    const here = stateKey(state);
    const tried = new Set<string>();
    for (let k = firstUnknown; k < unknown.length && ops[unknown[k]].invokeMs <= bound; k++) {
      const i = unknown[k];
      if (done[i]) continue;
      for (const raw of step(state, ops[i], ctx, bound)) {
        const next = settled(raw, bound);
        const key = stateKey(next);
        // Not required, so never placed where it would change nothing.
        if (key === here) continue;
        // Interchangeable with one tried already: same op and parameters, same
        // resulting state. Both were invoked by now and every later step
        // comes no earlier, so whatever one can do later the other can too:
        // trying both only swaps their roles (dozens of lost acquires while
        // the cluster was down would otherwise multiply the search).
        const sameAs = `${ops[i].op}|${ops[i].sessionId ?? ''}|${ops[i].fencingToken ?? ''}|${key}`;
        if (tried.has(sameAs)) continue;
        tried.add(sameAs);
        out.push({ op: i, state: next });
      }
    }
    // Try first the op the server says it applied first (successors are
    // popped from the end). Only the order of the search changes, never its
    // verdict: an op with a long window (an outcome learned late) otherwise
    // gets tried at every early position, and the search explodes.
    out.sort((a, b) => hint[b.op] - hint[a.op] || ops[b.op].invokeMs - ops[a.op].invokeMs);
    return out;
  };
  const flip = (i: number): void => {
    h[0] ^= zob[i * 3];
    h[1] ^= zob[i * 3 + 1];
    h[2] ^= zob[i * 3 + 2];
    done[i] ^= 1;
    requiredDone += required[i] ? (done[i] ? 1 : -1) : 0;
    if (isGrant(ops[i])) grantsPending.set(ops[i].fencingToken!, grantsPending.get(ops[i].fencingToken!)! + (done[i] ? -1 : 1));
    if (!done[i]) {
      if (rankInDefinite[i] >= 0 && rankInDefinite[i] < firstDefinite) firstDefinite = rankInDefinite[i];
      if (rankInUnknown[i] >= 0 && rankInUnknown[i] < firstUnknown) firstUnknown = rankInUnknown[i];
      if (rankInComplete[i] >= 0 && rankInComplete[i] < firstByComplete) firstByComplete = rankInComplete[i];
    }
  };

  const stack: Frame[] = [{ state: initialLockState, successors: successorsOf(initialLockState), via: -1 }];
  // The deepest point reached, for the explanation of a violation.
  let deepest = { required: 0, path: [] as number[], state: initialLockState, candidates: [] as number[] };
  const path: number[] = [];
  while (stack.length > 0) {
    if (requiredDone === requiredTotal) return { kind: 'ok', configs };
    const top = stack[stack.length - 1];
    const succ = top.successors.pop();
    if (succ === undefined) {
      if (requiredDone > deepest.required || deepest.path.length === 0) {
        deepest = { required: requiredDone, path: [...path], state: top.state, candidates: candidateOps(ops, done, minPendingComplete()) };
      }
      stack.pop();
      if (top.via >= 0) {
        flip(top.via);
        path.pop();
      }
      continue;
    }
    flip(succ.op);
    const key = `${h[0]}.${h[1]}.${h[2]}.${stateId(succ.state)}`;
    if (seen.has(key) || doomedBy(top.state, succ.state)) {
      flip(succ.op);
      continue;
    }
    seen.add(key);
    configs += 1;
    if (configs > configsMax) return { kind: 'inconclusive', configs, explanation: explain(deepest) };
    path.push(succ.op);
    stack.push({ state: succ.state, successors: successorsOf(succ.state), via: succ.op });
  }
  const stuckAfter = deepest.path.map((i) => ops[i]);
  const candidates = deepest.candidates.map((i) => ops[i]);
  return { kind: 'violation', configs, explanation: explain(deepest), stuckAfter, candidates };

  function explain(d: typeof deepest): string {
    const holder = d.state.holder;
    return (
      `no linearization: at most ${d.required} of ${requiredTotal} definite ops could be ordered; ` +
      `then the lock was ${holder ? `held by token ${holder.token ?? '?'}` : 'free'} and none of ` +
      d.candidates
        .map((i) => ops[i])
        .filter((op) => op.result !== 'unknown')
        .map(describeOp)
        .join('; ') +
      ' could take effect'
    );
  }
}

/** The first position in ascending `sorted` whose value is above `x`. */
function firstTokenAbove(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A hold that can have expired by `boundMs` can expire at any later step
 * (the bound only grows along a linearization), so how early does not
 * matter any more: states that differ only there are one state.
 */
function settled(state: LockState, boundMs: number): LockState {
  const h = state.holder;
  if (h === null || h.earliestEndMs > boundMs || h.earliestEndMs === Number.NEGATIVE_INFINITY) return state;
  return { holder: { ...h, earliestEndMs: Number.NEGATIVE_INFINITY }, maxToken: state.maxToken };
}

function isGrant(op: OpRecord): boolean {
  return (op.op === 'acquire' || op.op === 'campaign') && op.result === 'ok' && op.acquired === true && op.fencingToken !== undefined;
}

/**
 * The holds a definite op needs to find in force (one of them), when they
 * are all known tokens: an acknowledged release of t needs t; a read or a
 * refusal that reported holders needs one of them. Empty when the op needs
 * none, or may be satisfied by a hold whose token was never learned.
 */
function tokensNeeded(op: OpRecord, ctx: ModelContext): number[] {
  if (op.result !== 'ok') return [];
  if ((op.op === 'release' || op.op === 'resign') && op.fencingToken !== undefined) return [op.fencingToken];
  const observes = op.op === 'read' || ((op.op === 'acquire' || op.op === 'campaign') && op.acquired === false);
  const holders = op.holders ?? [];
  if (!observes || holders.length === 0 || !holders.every((t) => ctx.knownTokens.has(t))) return [];
  return holders;
}

/**
 * Where the server says an op took effect, as a Raft index: a grant at its
 * token; a "held by h" answer just after h was granted; otherwise the
 * x-lockstep-index of the answer, unless the answer was a replay learned
 * late (its index is the replay's). Unknown ops last. Used only to order
 * the search (see successorsOf).
 */
function orderHint(op: OpRecord): number {
  const late = op.resolvedLate === true;
  // Unknown ops are tried last: only where nothing else fits.
  if (op.result === 'unknown') return Number.MAX_SAFE_INTEGER;
  if ((op.op === 'acquire' || op.op === 'campaign') && op.result === 'ok' && op.acquired && op.fencingToken !== undefined) return op.fencingToken;
  if (op.result === 'ok' && op.holders && op.holders.length > 0) return Math.max(...op.holders) + 0.5;
  if (op.index !== undefined && !late) return op.index;
  // After the reads and refusals that saw it held (t + 0.5).
  if ((op.op === 'release' || op.op === 'resign') && op.fencingToken !== undefined) return op.fencingToken + 0.75;
  return Number.MAX_SAFE_INTEGER;
}

function candidateOps(ops: readonly OpRecord[], done: Uint8Array, bound: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ops.length && ops[i].invokeMs <= bound; i++) if (!done[i]) out.push(i);
  return out;
}

export function describeOp(op: OpRecord): string {
  const what =
    op.op === 'acquire' || op.op === 'campaign'
      ? op.result === 'ok'
        ? op.acquired
          ? `got token ${op.fencingToken}`
          : `found it held by [${(op.holders ?? []).join(',')}]`
        : op.result
      : op.op === 'read'
        ? `read holders [${(op.holders ?? []).join(',')}]`
        : `${op.result}${op.fencingToken !== undefined ? ` token ${op.fencingToken}` : ''}`;
  const end = Number.isFinite(op.completeMs) ? op.completeMs.toFixed(0) : '?';
  return `${op.process} ${op.op} ${op.lock} [${op.invokeMs.toFixed(0)}..${end}ms] ${what}`;
}
