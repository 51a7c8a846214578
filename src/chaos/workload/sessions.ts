// Session ops shared by the election and expiry workloads.
import type { ChaosClient, OpSpec } from './client.js';

export interface OpTiming {
  opDeadlineMs: number;
  attemptTimeoutMs: number;
}

export function createSessionSpec(ttlMs: number, name: string, t: OpTiming): OpSpec {
  return {
    op: 'session.create',
    lock: name,
    method: 'POST',
    path: '/v1/sessions',
    body: { ttlMs, name },
    deadlineMs: t.opDeadlineMs,
    attemptTimeoutMs: t.attemptTimeoutMs,
    extra: { ttlMs },
    interpret: (b: { sessionId?: string }) => ({ sessionId: b.sessionId }),
  };
}

export function keepaliveSpec(sessionId: string, t: OpTiming): OpSpec {
  return {
    op: 'session.keepalive',
    lock: sessionId,
    method: 'POST',
    path: `/v1/sessions/${encodeURIComponent(sessionId)}/keepalive`,
    deadlineMs: t.opDeadlineMs,
    attemptTimeoutMs: t.attemptTimeoutMs,
    idempotent: true,
    extra: { sessionId },
  };
}

export function getSessionSpec(sessionId: string, t: OpTiming): OpSpec {
  return { ...keepaliveSpec(sessionId, t), op: 'session.get', method: 'GET', path: `/v1/sessions/${encodeURIComponent(sessionId)}` };
}

export function deleteSessionSpec(sessionId: string, t: OpTiming): OpSpec {
  return {
    op: 'session.delete',
    lock: sessionId,
    method: 'DELETE',
    path: `/v1/sessions/${encodeURIComponent(sessionId)}`,
    deadlineMs: t.opDeadlineMs,
    attemptTimeoutMs: t.attemptTimeoutMs,
    extra: { sessionId },
  };
}

/** Create a session; null if that failed or is unknown. */
export async function openSession(client: ChaosClient, ttlMs: number, t: OpTiming): Promise<string | null> {
  const { record } = await client.run(createSessionSpec(ttlMs, client.name, t));
  return record.result === 'ok' && record.sessionId ? record.sessionId : null;
}
