// The operator counters (src/server/apply-metrics.ts) move with what the
// applied entries did: read from GET /metrics as Prometheus would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flush, type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

/** Sample values of GET /metrics by series text, e.g. `lockstep_sessions_ended_total{reason="expired"}`. */
async function scrape(): Promise<Map<string, number>> {
  const res = await h.call('GET', '/metrics');
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function session(body: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', '/v1/sessions', body);
  expect(res.status).toBe(201);
  return res.body.sessionId;
}

describe('operator metrics', () => {
  it('count grants, releases, expiries, session ends, lock-delays, deadlocks, timed-out waits and replays', async () => {
    const before = await scrape();
    expect(before.get('lockstep_lock_grants_total')).toBe(0);
    expect(before.get('lockstep_idempotent_replays_total{path="record"}')).toBe(0);

    // A grant and a release.
    const t = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 });
    await h.call('POST', '/v1/locks/a/release', { fencingToken: t.body.fencingToken });
    // A session hold that expires with a lock-delay; a deleted session.
    const dying = await session({ ttlMs: 2_000, lockDelayMs: 1_000 });
    await h.call('POST', '/v1/locks/b/acquire', { sessionId: dying });
    await h.call('DELETE', `/v1/sessions/${await session()}`);
    // A TTL hold that expires.
    await h.call('POST', '/v1/locks/c/acquire', { ttlMs: 1_000 });
    // A wait that times out behind a holder, and one granted when the hold before it ends (no timeout).
    await h.call('POST', '/v1/locks/d/acquire', { ttlMs: 60_000 });
    const waiter = h.call('POST', '/v1/locks/d/acquire', { ttlMs: 5_000, waitMs: 1_500 });
    await h.call('POST', '/v1/locks/e/acquire', { ttlMs: 1_000 });
    const granted = h.call('POST', '/v1/locks/e/acquire', { ttlMs: 5_000, waitMs: 10_000 });
    await flush();
    await h.advance(1_000);
    expect((await granted).body.acquired).toBe(true);
    await h.advance(1_000);
    expect((await h.call('GET', `/v1/sessions/${dying}`)).status).toBe(404);

    // A deadlock refused.
    const x = await session();
    const y = await session();
    await h.call('POST', '/v1/locks/L1/acquire', { sessionId: x });
    await h.call('POST', '/v1/locks/L2/acquire', { sessionId: y });
    const waitX = h.call('POST', '/v1/locks/L2/acquire', { sessionId: x, waitMs: 10_000 });
    await flush();
    expect((await h.call('POST', '/v1/locks/L1/acquire', { sessionId: y, waitMs: 10_000 })).status).toBe(409);
    await h.call('DELETE', `/v1/sessions/${y}`);
    await waitX;

    // An Idempotency-Key repeat: answered from the applied record.
    const keyed = { 'idempotency-key': 'metrics-key-1' };
    const first = await h.call('POST', '/v1/locks/k/acquire', { ttlMs: 5_000 }, keyed);
    expect((await h.call('POST', '/v1/locks/k/acquire', { ttlMs: 5_000 }, keyed)).body).toEqual(first.body);

    const m = await scrape();
    // Grants: a, b, c, d, e, e (its waiter), L1, L2, L2 (x's wait, after y's delete), k.
    expect(m.get('lockstep_lock_grants_total')).toBe(10);
    // Releases: a; y's L2 at its delete.
    expect(m.get('lockstep_lock_releases_total')).toBe(2);
    // Expiries: c and e (TTL), b (its session).
    expect(m.get('lockstep_lock_expiries_total')).toBe(3);
    expect(m.get('lockstep_sessions_ended_total{reason="expired"}')).toBe(1);
    expect(m.get('lockstep_sessions_ended_total{reason="deleted"}')).toBe(2);
    expect(m.get('lockstep_lock_delays_total')).toBe(1);
    expect(m.get('lockstep_deadlocks_refused_total')).toBe(1);
    expect(m.get('lockstep_idempotent_replays_total{path="record"}')).toBe(1);
    expect(m.get('lockstep_apply_duration_seconds_count')).toBeGreaterThan(0);
    expect((await waiter).body.acquired).toBe(false);
    expect((await scrape()).get('lockstep_waits_timed_out_total')).toBe(1);
  });
});
