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
  | { kind: 'inconclusive'; configs: number };

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
  const done = new Uint8Array(n);
  let requiredDone = 0;
  const zob = zobrist(n);
  const h = [0, 0, 0];
  const seen = new Set<string>();
  let configs = 0;

  const minPendingComplete = (): number => {
    for (const i of byComplete) if (!done[i]) return ops[i].completeMs;
    return Infinity;
  };
  const successorsOf = (state: LockState): Frame['successors'] => {
    const bound = minPendingComplete();
    const out: Frame['successors'] = [];
    for (let i = 0; i < n && ops[i].invokeMs <= bound; i++) {
      if (done[i]) continue;
      for (const next of step(state, ops[i], ctx)) out.push({ op: i, state: next });
    }
    return out;
  };
  const flip = (i: number): void => {
    h[0] ^= zob[i * 3];
    h[1] ^= zob[i * 3 + 1];
    h[2] ^= zob[i * 3 + 2];
    done[i] ^= 1;
    requiredDone += required[i] ? (done[i] ? 1 : -1) : 0;
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
    if (configs > configsMax) return { kind: 'inconclusive', configs };
    path.push(succ.op);
    stack.push({ state: succ.state, successors: successorsOf(succ.state), via: succ.op });
  }
  const stuckAfter = deepest.path.map((i) => ops[i]);
  const candidates = deepest.candidates.map((i) => ops[i]);
  const holder = deepest.state.holder;
  const explanation =
    `no linearization: at most ${deepest.required} of ${requiredTotal} definite ops could be ordered; ` +
    `then the lock was ${holder ? `held by token ${holder.token ?? '?'}` : 'free'} and none of ` +
    candidates
      .filter((op) => op.result !== 'unknown')
      .map(describeOp)
      .join('; ') +
    ' could take effect';
  return { kind: 'violation', configs, explanation, stuckAfter, candidates };
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
