// Workload 1: many clients contend on a few locks through random nodes.
// A holder writes its fencing token to the fenced register before it
// releases, so a holder that lost its lock without knowing is refused there.
// Now and then a holder stalls past its TTL before that write, as a process
// does in a long GC pause or under SIGSTOP (Kleppmann's case, docs/safety.md
// #11): its lock expires, another client may take it and write a newer token,
// and the register must then refuse the stalled holder's write.
// A reader checks the holders now and then (linearizable read).
import type { OpRecord } from '../history.js';
import type { ChaosClient, OpSpec } from './client.js';
import { attempt } from './http.js';

export interface LocksWorkloadOptions {
  locks: string[];
  ttlMs: number;
  /** Hold this long (ms, uniform) before writing and releasing. */
  holdMsMin: number;
  holdMsMax: number;
  registerUrl: string;
  /** Chance (0..1) that a holder stalls for its TTL plus STALL_PAST_TTL_MS before its protected write; 0 by default. */
  stallChance?: number;
  opDeadlineMs: number;
  attemptTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How far past its TTL a stalled holder wakes: past the expiry, with time for a newer holder to write. */
export const STALL_PAST_TTL_MS = 1000;

export const holderTokens = (holders: unknown): number[] =>
  Array.isArray(holders) ? holders.map((h: { fencingToken?: number }) => h?.fencingToken).filter((t): t is number => typeof t === 'number') : [];

export function acquireSpec(lock: string, body: Record<string, unknown>, o: Pick<LocksWorkloadOptions, 'opDeadlineMs' | 'attemptTimeoutMs'>, extra: Partial<OpRecord>): OpSpec {
  return {
    op: 'acquire',
    lock,
    method: 'POST',
    path: `/v1/locks/${encodeURIComponent(lock)}/acquire`,
    body,
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: Math.max(o.attemptTimeoutMs, Number(body.waitMs ?? 0) + o.attemptTimeoutMs),
    extra,
    interpret: (b: { acquired?: boolean; fencingToken?: number; holders?: unknown }) =>
      b.acquired ? { acquired: true, fencingToken: b.fencingToken } : { acquired: false, holders: holderTokens(b.holders) },
  };
}

export function releaseSpec(lock: string, token: number, o: Pick<LocksWorkloadOptions, 'opDeadlineMs' | 'attemptTimeoutMs'>): OpSpec {
  return {
    op: 'release',
    lock,
    method: 'POST',
    path: `/v1/locks/${encodeURIComponent(lock)}/release`,
    body: { fencingToken: token },
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: o.attemptTimeoutMs,
    extra: { fencingToken: token },
  };
}

export function readSpec(lock: string, o: Pick<LocksWorkloadOptions, 'opDeadlineMs' | 'attemptTimeoutMs'>): OpSpec {
  return {
    op: 'read',
    lock,
    method: 'GET',
    path: `/v1/locks/${encodeURIComponent(lock)}`,
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: o.attemptTimeoutMs,
    idempotent: true,
    interpret: (b: { holders?: unknown }) => ({ holders: holderTokens(b.holders) }),
  };
}

/** One contending client's loop. */
export async function lockClientLoop(client: ChaosClient, o: LocksWorkloadOptions, running: () => boolean, rand: () => number, record: (w: OpRecord) => void, nowMs: () => number): Promise<void> {
  while (running()) {
    const lock = o.locks[Math.floor(rand() * o.locks.length)];
    const waitMs = rand() < 0.5 ? 0 : Math.floor(200 + rand() * 1300);
    const { record: acq } = await client.run(acquireSpec(lock, { ttlMs: o.ttlMs, waitMs, owner: client.name }, o, { ttlMs: o.ttlMs }));
    if (acq.result === 'ok' && acq.acquired && acq.fencingToken !== undefined) {
      const stalls = rand() < (o.stallChance ?? 0);
      await sleep(stalls ? o.ttlMs + STALL_PAST_TTL_MS : o.holdMsMin + rand() * (o.holdMsMax - o.holdMsMin));
      // The protected write: the register refuses a token older than one it has seen.
      const invokeMs = nowMs();
      const w = await attempt('POST', `${o.registerUrl}/write`, { lock, token: acq.fencingToken, process: client.name }, { timeoutMs: 2000 });
      record({
        process: client.name,
        op: 'register.write',
        lock,
        invokeMs,
        completeMs: nowMs(),
        node: 'register',
        result: w.kind === 'answer' ? (w.status === 200 ? 'ok' : 'fail') : 'unknown',
        fencingToken: acq.fencingToken,
      });
      await client.run(releaseSpec(lock, acq.fencingToken, o));
    } else {
      await sleep(50 + rand() * 200);
    }
  }
}

/** A reader that checks a random lock's holders now and then. */
export async function lockReaderLoop(client: ChaosClient, o: LocksWorkloadOptions, running: () => boolean, rand: () => number): Promise<void> {
  while (running()) {
    await client.run(readSpec(o.locks[Math.floor(rand() * o.locks.length)], o));
    await sleep(100 + rand() * 300);
  }
}
