// Workload: clients that take lock sets (2..3 of the lock workload's locks at
// once, all or nothing) beside the single-lock clients, through random
// nodes. A client granted a set writes each lock's fencing token to the
// fenced register, then releases the whole set in one request. Every op is
// recorded whole (op 'set.acquire' / 'set.release' with its names, holds and
// blocked locks); the checkers see it lock by lock (checker/lock-sets.ts).
import type { OpRecord, SetOpDetail } from '../history.js';
import type { ChaosClient, OpSpec } from './client.js';
import { attempt } from './http.js';
import { holderTokens, type LocksWorkloadOptions } from './locks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Timing = Pick<LocksWorkloadOptions, 'opDeadlineMs' | 'attemptTimeoutMs'>;

/** The lock-set part of an acquire answer. */
function setAcquired(names: string[], b: { acquired?: boolean; holds?: unknown; blocked?: unknown }): Partial<OpRecord> {
  if (b.acquired) {
    const holds = Array.isArray(b.holds) ? b.holds.map((h: { name: string; fencingToken: number }) => ({ name: h.name, fencingToken: h.fencingToken })) : [];
    return { acquired: true, set: { names, holds } };
  }
  const blocked = Array.isArray(b.blocked) ? b.blocked.map((x: { name: string; holders?: unknown }) => ({ name: x.name, holders: holderTokens(x.holders) })) : [];
  return { acquired: false, set: { names, blocked } };
}

export function setAcquireSpec(names: string[], body: Record<string, unknown>, o: Timing): OpSpec {
  const set: SetOpDetail = { names };
  return {
    op: 'set.acquire',
    lock: names.join('+'),
    method: 'POST',
    path: '/v1/lock-sets/acquire',
    body: { ...body, locks: names.map((name) => ({ name })) },
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: Math.max(o.attemptTimeoutMs, Number(body.waitMs ?? 0) + o.attemptTimeoutMs),
    extra: { set, ...(typeof body.ttlMs === 'number' ? { ttlMs: body.ttlMs } : {}) },
    interpret: (b) => setAcquired(names, b),
  };
}

export function setReleaseSpec(holds: Array<{ name: string; fencingToken: number }>, o: Timing): OpSpec {
  return {
    op: 'set.release',
    lock: holds.map((h) => h.name).join('+'),
    method: 'POST',
    path: '/v1/lock-sets/release',
    body: { holds },
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: o.attemptTimeoutMs,
    extra: { set: { names: holds.map((h) => h.name), holds } },
    interpretRefusal: (b: { error?: { code?: string; names?: unknown } }) =>
      b.error?.code === 'not_holder' && Array.isArray(b.error.names)
        ? { set: { names: holds.map((h) => h.name), holds, notHolding: b.error.names.filter((n): n is string => typeof n === 'string') } }
        : {},
  };
}

/** 2..3 distinct names of `locks`, in a random order (sets in opposite orders must not deadlock). */
function pickSet(locks: readonly string[], rand: () => number): string[] {
  const pool = [...locks];
  const size = Math.min(pool.length, 2 + Math.floor(rand() * 2));
  const out: string[] = [];
  while (out.length < size) out.push(...pool.splice(Math.floor(rand() * pool.length), 1));
  return out;
}

/** One client taking lock sets in a loop. */
export async function lockSetClientLoop(client: ChaosClient, o: LocksWorkloadOptions, running: () => boolean, rand: () => number, record: (w: OpRecord) => void, nowMs: () => number): Promise<void> {
  while (running()) {
    const names = pickSet(o.locks, rand);
    const waitMs = rand() < 0.3 ? 0 : Math.floor(200 + rand() * 1300);
    const { record: acq } = await client.run(setAcquireSpec(names, { ttlMs: o.ttlMs, waitMs, owner: client.name }, o));
    const holds = acq.result === 'ok' && acq.acquired ? (acq.set?.holds ?? []) : [];
    if (holds.length === 0) {
      await sleep(50 + rand() * 200);
      continue;
    }
    await sleep(o.holdMsMin + rand() * (o.holdMsMax - o.holdMsMin));
    for (const h of holds) {
      // The protected writes, one per lock: the register refuses a token older than one it has seen.
      const invokeMs = nowMs();
      const w = await attempt('POST', `${o.registerUrl}/write`, { lock: h.name, token: h.fencingToken, process: client.name }, { timeoutMs: 2000 });
      record({
        process: client.name,
        op: 'register.write',
        lock: h.name,
        invokeMs,
        completeMs: nowMs(),
        node: 'register',
        result: w.kind === 'answer' ? (w.status === 200 ? 'ok' : 'fail') : 'unknown',
        fencingToken: h.fencingToken,
      });
    }
    await client.run(setReleaseSpec(holds, o));
  }
}
