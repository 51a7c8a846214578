// Correctness.md item 18: the client measures its lease from the SEND time of
// the last acknowledged heartbeat, on a monotonic clock, and stops before
// ttl - margin; event-loop stalls count.
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { SESSION_NAME_CHARS_MAX, sessionName } from '../../packages/client/src/session-name.js';
import { LeaseEndedError } from '../../packages/client/src/lease.js';
import { apiError, connectionError, fakeFetch, hang, json, ManualClock, type FakeRequest } from './fakes.js';

const TTL_MS = 3000;
const MARGIN_MS = 300;

function setup(keepalive: (req: FakeRequest, n: number) => Response | Promise<Response>) {
  const clock = new ManualClock();
  let n = 0;
  const deleted: string[] = [];
  const { fetch, calls } = fakeFetch(clock, (req) => {
    if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's1', ttlMs: TTL_MS, lockDelayMs: 0, name: 'x' });
    if (req.path === '/v1/sessions/s1/keepalive') return keepalive(req, ++n);
    if (req.method === 'DELETE') {
      deleted.push(req.path);
      return json(200, { sessionId: 's1', released: [] });
    }
    return apiError(404, 'not_found');
  });
  const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock, requestTimeoutMs: 1000 });
  return { clock, calls, client, deleted };
}

describe('Session lease signal', () => {
  it('heartbeats about every ttl/3 and stays alive while they are acknowledged', async () => {
    const { clock, calls, client } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(20_000);
    expect(s.signal.aborted).toBe(false);
    const beats = calls.filter((c) => c.path.endsWith('/keepalive'));
    expect(beats.length).toBeGreaterThanOrEqual(19);
    expect(beats.length).toBeLessThanOrEqual(21);
    await s.close();
  });

  it('fires the signal at ttl - margin after the last acknowledged SEND when heartbeats stop being acknowledged', async () => {
    const { clock, client } = setup((req, n) => (n === 1 ? json(200, { sessionId: 's1', ttlMs: TTL_MS }) : hang(req)));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    let abortedAt = -1;
    s.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
    // First heartbeat is sent at 1000 and acknowledged: the lease runs to 1000 + 3000 - 300.
    await clock.advance(10_000);
    expect(abortedAt).toBe(1000 + TTL_MS - MARGIN_MS);
    expect(abortedAt).toBeLessThan(1000 + TTL_MS);
    expect(s.signal.reason).toBeInstanceOf(LeaseEndedError);
    expect(await s.lost).toBe('expired');
  });

  it('measures from the send time, not the time the answer arrived', async () => {
    const clock0 = { v: 0 };
    const { clock, client } = setup(async (_req, n) => {
      if (n === 1) {
        // A slow answer: sent at 1000, acknowledged at 1900.
        await new Promise<void>((r) => clock.setTimer(r, 900));
        clock0.v = clock.nowMs();
        return json(200, { sessionId: 's1', ttlMs: TTL_MS });
      }
      throw connectionError('ECONNREFUSED');
    });
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    let abortedAt = -1;
    s.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
    await clock.advance(10_000);
    expect(clock0.v).toBe(1900);
    expect(abortedAt).toBe(1000 + TTL_MS - MARGIN_MS);
  });

  it('an event-loop stall past the deadline ends the lease even if a late answer acknowledges the heartbeat', async () => {
    const { clock, client } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(900);
    expect(s.alive).toBe(true);
    // The process freezes for 5 s; timers and the heartbeat answer run late.
    clock.stall(5000);
    expect(s.alive).toBe(false);
    await clock.advance(1000);
    expect(s.signal.aborted).toBe(true);
    expect(await s.lost).toBe('expired');
  });

  it('deletes a session whose lease may have lapsed, so its holds go at once', async () => {
    const { clock, client, deleted } = setup((req) => hang(req));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(5000);
    expect(s.signal.aborted).toBe(true);
    expect(deleted).toEqual(['/v1/sessions/s1']);
  });

  it('ends at once when the server says session_not_found', async () => {
    const { clock, client } = setup(() => apiError(404, 'session_not_found'));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(1001);
    expect(s.signal.aborted).toBe(true);
    expect(clock.nowMs()).toBeLessThan(TTL_MS - MARGIN_MS);
    expect(await s.lost).toBe('not_found');
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
  ])('ends at once, as unauthorized, when the server refuses its token (%i %s), and sends no more requests with it', async (status, code) => {
    const { clock, calls, client, deleted } = setup(() => apiError(status, code));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(1001);
    // Refused at the first heartbeat (sent at 1000), not retried until the deadline (2700).
    expect(s.signal.aborted).toBe(true);
    expect(await s.lost).toBe('unauthorized');
    const reason = s.signal.reason as LeaseEndedError;
    expect(reason).toBeInstanceOf(LeaseEndedError);
    expect(reason.reason).toBe('unauthorized');
    expect(reason.cause).toMatchObject({ code, status });
    await clock.advance(10_000);
    await s.close();
    // The same token would be refused again: no retried keepalive, no delete.
    expect(calls.filter((c) => c.path.endsWith('/keepalive'))).toHaveLength(1);
    expect(deleted).toEqual([]);
  });

  it('keeps the lease through a transient failure that a retry repairs before the deadline', async () => {
    const { clock, client } = setup((_req, n) => (n === 2 ? apiError(503, 'no_leader') : json(200, { sessionId: 's1', ttlMs: TTL_MS })));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(10_000);
    expect(s.signal.aborted).toBe(false);
    await s.close();
  });

  it('close() fires the signal and deletes the session once', async () => {
    const { client, deleted } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await Promise.all([s.close(), s.close()]);
    expect(s.signal.aborted).toBe(true);
    expect(await s.lost).toBe('closed');
    expect(deleted).toEqual(['/v1/sessions/s1']);
  });

  it('refuses a safetyMarginMs not below the TTL with a RangeError naming it, before creating a session nobody would keep alive', async () => {
    for (const safetyMarginMs of [TTL_MS, TTL_MS + 1, -1, Number.NaN]) {
      const { calls, client } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
      const err = await client.session({ ttlMs: TTL_MS, safetyMarginMs }).catch((e: unknown) => e);
      expect(err, String(safetyMarginMs)).toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(/safetyMarginMs/);
      expect(calls, String(safetyMarginMs)).toEqual([]);
    }
    // Without ttlMs the server's default TTL (10 s) is the one the margin must fit.
    const { calls, client } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    await expect(client.session({ safetyMarginMs: 10_000 })).rejects.toThrow(RangeError);
    expect(calls).toEqual([]);
  });

  it('a margin of most of the TTL still keeps the session alive: heartbeats come before the client-side deadline', async () => {
    const { clock, client } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    // Acts for 600 ms of each 3000: a first heartbeat at ttl/3 (1000) would come after that deadline.
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: 2400 });
    await clock.advance(10_000);
    expect(s.signal.aborted).toBe(false);
    await s.close();
  });

  it('deletes a session whose server-given TTL the margin does not fit, instead of leaving it to run out', async () => {
    const { calls, client, deleted } = setup(() => json(200, { sessionId: 's1', ttlMs: TTL_MS }));
    // Asked for 10 s, the (fake) server made it TTL_MS (3 s): a 5 s margin no longer fits.
    await expect(client.session({ ttlMs: 10_000, safetyMarginMs: 5000 })).rejects.toThrow(RangeError);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'DELETE']);
    expect(deleted).toEqual(['/v1/sessions/s1']);
  });

  it('a hung node does not eat the lease: the heartbeat fails over to another node in time', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's1', ttlMs: TTL_MS, lockDelayMs: 0, name: '' });
      if (req.endpoint === 'http://n1:7001') return hang(req);
      return json(200, { sessionId: 's1', ttlMs: TTL_MS });
    });
    const client = new Client({ endpoints: ['http://n1:7001', 'http://n2:7002'], fetch, clock, requestTimeoutMs: 60_000 });
    const s = await client.session({ ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    await clock.advance(20_000);
    expect(s.signal.aborted).toBe(false);
    await s.close();
  });
});

describe('sessionName', () => {
  it('keeps a label that fits and cuts a longer one to the server limit in code points, marked with …', () => {
    expect(sessionName('lock a by me')).toBe('lock a by me');
    const exact = 'x'.repeat(SESSION_NAME_CHARS_MAX);
    expect(sessionName(exact)).toBe(exact);
    const cut = sessionName('😀'.repeat(300));
    expect(Array.from(cut)).toHaveLength(SESSION_NAME_CHARS_MAX);
    expect(cut.endsWith('😀…')).toBe(true);
  });
});
