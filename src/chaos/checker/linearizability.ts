// Linearizability of one lock's history against the lock model: the
// Wing & Gong search as improved by Lowe and used by Porcupine — try every
// op that may come next (no unlinearized op completed before it was
// invoked), apply it to the model, and backtrack; memoize (linearized set,
// model state) so that each configuration is explored once. An op whose
// result is unknown (timeout, connection error) may take effect anywhere
// after its invocation, or never: it is never required, and its completion
// time is treated as infinite.
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
  // Required ops by completion time, to find the earliest unlinearized completion fast.
  const byComplete = ops
    .map((_, i) => i)
    .filter((i) => required[i])
    .sort((a, b) => ops[a].completeMs - ops[b].completeMs);
  const hint = ops.map(orderHint);
  const done = new Uint8Array(n);
  let requiredDone = 0;
  const zob = zobrist(n);
  const h = [0, 0, 0];
  const seen = new Set<string>();
  let configs = 0;

  // Pointers to the first op not yet linearized, in invocation order and
  // among required ops in completion order. The search mostly extends a
  // prefix, so keeping them (instead of scanning from 0) makes each step
  // cost the width of the concurrency window, not the length of the history.
  const rankInComplete = new Int32Array(n).fill(-1);
  byComplete.forEach((i, rank) => (rankInComplete[i] = rank));
  let firstUndone = 0;
  let firstUndoneRank = 0;
  const minPendingComplete = (): number => {
    while (firstUndoneRank < byComplete.length && done[byComplete[firstUndoneRank]]) firstUndoneRank++;
    return firstUndoneRank < byComplete.length ? ops[byComplete[firstUndoneRank]].completeMs : Infinity;
  };
  const successorsOf = (state: LockState): Frame['successors'] => {
    const bound = minPendingComplete();
    while (firstUndone < n && done[firstUndone]) firstUndone++;
    const out: Frame['successors'] = [];
    for (let i = firstUndone; i < n && ops[i].invokeMs <= bound; i++) {
      if (done[i]) continue;
      for (const next of step(state, ops[i], ctx)) out.push({ op: i, state: next });
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
    if (!done[i]) {
      if (i < firstUndone) firstUndone = i;
      if (rankInComplete[i] >= 0 && rankInComplete[i] < firstUndoneRank) firstUndoneRank = rankInComplete[i];
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
    const key = `${h[0]}.${h[1]}.${h[2]}|${stateKey(succ.state)}`;
    if (seen.has(key)) {
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
  if ((op.op === 'release' || op.op === 'resign') && op.fencingToken !== undefined) return op.fencingToken + 0.5;
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
