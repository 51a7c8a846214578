// A small driver for LockMachine in tests: numbered entries, builders with
// the contract's defaults, and short accessors for outcomes.
import type { ApplyResult, LockCommand, LockEvent, LockProposal, Outcome } from '../../src/locks/commands.js';
import { LockMachine, type ApplyOutput } from '../../src/locks/machine.js';

export const NOW_MS = 1_700_000_000_000;

type Acquire = Extract<LockCommand, { type: 'lock.acquire' }>;
type AcquireSet = Extract<LockCommand, { type: 'lockSet.acquire' }>;
export type SetLock = string | { name: string; mode?: 'exclusive' | 'shared'; limit?: number };

/** A lock set acquire with the contract's defaults; names are plain strings or {name, mode?, limit?}. */
export function acquireSetCmd(locks: SetLock[], opts: Partial<Omit<AcquireSet, 'type' | 'locks'>> = {}): AcquireSet {
  return {
    type: 'lockSet.acquire',
    locks: locks.map((l) => (typeof l === 'string' ? { name: l, mode: 'exclusive', limit: 1 } : { name: l.name, mode: l.mode ?? 'exclusive', limit: l.limit ?? 1 })),
    sessionId: opts.sessionId ?? null,
    ttlMs: opts.ttlMs ?? (opts.sessionId ? null : 5_000),
    waitMs: opts.waitMs ?? 0,
    waitId: opts.waitId ?? null,
    owner: opts.owner ?? null,
    value: opts.value ?? null,
  };
}

export function acquireCmd(name: string, opts: Partial<Omit<Acquire, 'type' | 'name'>> = {}): Acquire {
  return {
    type: 'lock.acquire',
    name,
    sessionId: opts.sessionId ?? null,
    ttlMs: opts.ttlMs ?? (opts.sessionId ? null : 5_000),
    waitMs: opts.waitMs ?? 0,
    waitId: opts.waitId ?? null,
    mode: opts.mode ?? 'exclusive',
    limit: opts.limit ?? 1,
    owner: opts.owner ?? null,
    value: opts.value ?? null,
  };
}

export class Harness {
  constructor(readonly machine = new LockMachine()) {}

  index = 0;
  nowMs = NOW_MS;
  private waitSeq = 0;

  /** The token the next commands act as (null: auth off). */
  actingAs: string | null = null;

  run(command: LockCommand, idempotency: LockProposal['idempotency'] = null): ApplyOutput {
    this.index += 1;
    const auth = this.actingAs === null ? null : { tokenId: this.actingAs };
    return this.machine.applyProposal(this.index, { command, nowMs: this.nowMs, idempotency, auth });
  }

  /** Runs and expects a finished command; returns its outcome. */
  done(command: LockCommand, idempotency: LockProposal['idempotency'] = null): Outcome {
    return outcomeOf(this.run(command, idempotency).result);
  }

  session(sessionId: string, opts: { ttlMs?: number; lockDelayMs?: number } = {}): void {
    const out = this.done({ type: 'session.create', sessionId, ttlMs: opts.ttlMs ?? 10_000, name: sessionId, lockDelayMs: opts.lockDelayMs ?? 0 });
    if (out.status !== 201) throw new Error(`session ${sessionId}: ${JSON.stringify(out)}`);
  }

  acquire(name: string, opts: Partial<Omit<Acquire, 'type' | 'name'>> = {}): ApplyOutput {
    const waitMs = opts.waitMs ?? 0;
    const waitId = waitMs > 0 ? (opts.waitId ?? `w${++this.waitSeq}`) : null;
    return this.run(acquireCmd(name, { ...opts, waitMs, waitId }));
  }

  /** Acquire that must be granted now; returns the fencing token. */
  hold(name: string, opts: Partial<Omit<Acquire, 'type' | 'name'>> = {}): number {
    const out = outcomeOf(this.acquire(name, opts).result);
    const body = out.body as { acquired?: boolean; fencingToken?: number };
    if (out.status !== 200 || body.acquired !== true) throw new Error(`hold ${name}: ${JSON.stringify(out)}`);
    return body.fencingToken!;
  }

  /** Acquire that must queue; returns the wait id. */
  wait(name: string, opts: Partial<Omit<Acquire, 'type' | 'name'>> = {}): string {
    const { result } = this.acquire(name, { waitMs: 30_000, ...opts });
    if (result.kind !== 'queued') throw new Error(`wait ${name}: ${JSON.stringify(result)}`);
    return result.waitId;
  }

  acquireSet(locks: SetLock[], opts: Partial<Omit<AcquireSet, 'type' | 'locks'>> = {}): ApplyOutput {
    const waitMs = opts.waitMs ?? 0;
    const waitId = waitMs > 0 ? (opts.waitId ?? `w${++this.waitSeq}`) : null;
    return this.run(acquireSetCmd(locks, { ...opts, waitMs, waitId }));
  }

  /** A set acquire that must be granted now; returns its holds by name. */
  holdSet(locks: SetLock[], opts: Partial<Omit<AcquireSet, 'type' | 'locks'>> = {}): Record<string, number> {
    const out = outcomeOf(this.acquireSet(locks, opts).result);
    const body = out.body as { acquired?: boolean; holds?: Array<{ name: string; fencingToken: number }> };
    if (out.status !== 200 || body.acquired !== true) throw new Error(`holdSet: ${JSON.stringify(out)}`);
    return Object.fromEntries(body.holds!.map((h) => [h.name, h.fencingToken]));
  }

  /** A set acquire that must queue; returns the wait id. */
  waitSet(locks: SetLock[], opts: Partial<Omit<AcquireSet, 'type' | 'locks'>> = {}): string {
    const { result } = this.acquireSet(locks, { waitMs: 30_000, ...opts });
    if (result.kind !== 'queued') throw new Error(`waitSet: ${JSON.stringify(result)}`);
    return result.waitId;
  }

  releaseSet(holds: Array<{ name: string; fencingToken: number }>): ApplyOutput {
    return this.run({ type: 'lockSet.release', holds });
  }

  cancel(waitIds: string[], reason: 'timeout' | 'abandoned' = 'timeout'): ApplyOutput {
    return this.run({ type: 'wait.cancel', waitIds, reason });
  }

  release(name: string, fencingToken: number): ApplyOutput {
    return this.run({ type: 'lock.release', name, fencingToken });
  }

  expire(p: { sessionIds?: string[]; holds?: Array<{ name: string; fencingToken: number }>; lockDelays?: string[] }): ApplyOutput {
    return this.run({ type: 'expire', sessionIds: p.sessionIds ?? [], holds: p.holds ?? [], lockDelays: p.lockDelays ?? [] });
  }
}

export function outcomeOf(result: ApplyResult): Outcome {
  if (result.kind !== 'done') throw new Error(`expected a finished command, got ${JSON.stringify(result)}`);
  return result.outcome;
}

export function resolved(events: LockEvent[], waitId: string): Outcome | undefined {
  for (const e of events) if (e.type === 'wait.resolved' && e.waitId === waitId) return e.outcome;
  return undefined;
}

export function errorCode(outcome: Outcome): string | undefined {
  return (outcome.body as { error?: { code?: string } }).error?.code;
}

export function holderTokens(h: Harness, name: string): number[] {
  return h.machine.getLock(name).holders.map((x) => x.fencingToken);
}
