import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LockstepError } from '../../packages/client/src/errors.js';
import { apiError, fakeFetch, grantedAsAbandoned, hang, json, ManualClock, settle } from './fakes.js';

function setup(acquireAnswer: () => Response) {
  const clock = new ManualClock();
  const released: number[] = [];
  const { fetch, calls } = fakeFetch(clock, (req) => {
    if (req.path === '/v1/locks/job/acquire') return acquireAnswer();
    if (req.path === '/v1/locks/job/release') {
      released.push((req.body as { fencingToken: number }).fencingToken);
      return json(200, { released: true });
    }
    if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's9', ttlMs: 10_000, lockDelayMs: 0, name: '' });
    if (req.method === 'DELETE' && req.path === '/v1/sessions/s9') return json(200, { sessionId: 's9', released: [] });
    if (req.path.endsWith('/keepalive')) return json(200, { sessionId: 's9', ttlMs: 10_000 });
    return apiError(404, 'not_found');
  });
  const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
  return { clock, calls, client, released };
}

const granted = () => json(200, { acquired: true, name: 'job', fencingToken: 42, mode: 'exclusive', expiresInMs: 5000 });

describe('withLock', () => {
  it('passes the fencing token, returns the value and releases', async () => {
    const { client, released } = setup(granted);
    const v = await client.withLock('job', { ttlMs: 5000 }, (hold) => {
      expect(hold.fencingToken).toBe(42);
      expect(hold.signal.aborted).toBe(false);
      return 'done';
    });
    expect(v).toBe('done');
    expect(released).toEqual([42]);
  });

  it('refuses a safetyMarginMs not below ttlMs before acquiring anything', async () => {
    const { calls, client } = setup(granted);
    const err = await client.withLock('job', { ttlMs: 5000, safetyMarginMs: 5000 }, () => 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/withLock: safetyMarginMs/);
    await expect(client.withLocks(['job', 'other'], { ttlMs: 5000, safetyMarginMs: 6000 }, () => 'never')).rejects.toThrow(/withLocks: safetyMarginMs/);
    expect(calls).toEqual([]);
  });

  it('releases when the function throws, and rethrows', async () => {
    const { client, released } = setup(granted);
    await expect(
      client.withLock('job', { ttlMs: 5000 }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(released).toEqual([42]);
  });

  it("a release that fails after the function threw does not hide the function's error", async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path === '/v1/locks/job/acquire') return granted();
      if (req.path === '/v1/locks/job/release') return apiError(403, 'forbidden');
      return apiError(404, 'not_found');
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    await expect(
      client.withLock('job', { ttlMs: 5000 }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // With nothing thrown by the function, the release's failure is the caller's to see.
    await expect(client.withLock('job', { ttlMs: 5000 }, () => 'done')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('a TTL hold signal fires before the TTL, counted from the acquire send time', async () => {
    const { clock, client } = setup(granted);
    let abortedAt = -1;
    await client.withLock('job', { ttlMs: 5000, safetyMarginMs: 500 }, async (hold) => {
      hold.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(6000);
    });
    expect(abortedAt).toBe(4500);
  });

  it('a TTL hold granted after a wait in line longer than its TTL is renewed once, not handed over already lapsed', async () => {
    const clock = new ManualClock();
    const extends_: { atMs: number; body: unknown }[] = [];
    const { fetch } = fakeFetch(clock, async (req) => {
      if (req.path.endsWith('/acquire')) {
        // Granted after 3 s in line: the server's 2 s TTL starts at the grant, the client only knows the send.
        await new Promise<void>((r) => clock.setTimer(r, 3000));
        return json(200, { acquired: true, name: 'job', fencingToken: 42, mode: 'exclusive', expiresInMs: 2000 });
      }
      if (req.path.endsWith('/extend')) {
        extends_.push({ atMs: req.atMs, body: req.body });
        return json(200, { expiresInMs: 2000 });
      }
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let abortedAt = -1;
    const p = client.withLock('job', { ttlMs: 2000, waitMs: 10_000, safetyMarginMs: 200 }, async (hold) => {
      expect(hold.signal.aborted).toBe(false);
      hold.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(5000);
    });
    await clock.advance(3000);
    await p;
    expect(extends_).toEqual([{ atMs: 3000, body: { fencingToken: 42, ttlMs: 2000 } }]);
    expect(abortedAt).toBe(3000 + 2000 - 200);
  });

  it('a TTL hold granted at once is not renewed', async () => {
    const { client, calls } = setup(granted);
    await client.withLock('job', { ttlMs: 5000 }, () => 1);
    expect(calls.some((c) => c.path.endsWith('/extend'))).toBe(false);
  });

  it('throws not_acquired with the holders when the lock is held', async () => {
    const { client } = setup(() => json(200, { acquired: false, name: 'job', holders: [{ fencingToken: 3, mode: 'exclusive' }], queueLength: 2 }));
    const err = (await client.withLock('job', { ttlMs: 5000 }, () => 1).catch((e: unknown) => e)) as LockstepError;
    expect(err).toBeInstanceOf(LockstepError);
    expect(err.code).toBe('not_acquired');
    expect(err.details.queueLength).toBe(2);
  });

  it('says so when a lock-delay, not a holder, stands in the way (and keeps its time left)', async () => {
    const { client } = setup(() => json(200, { acquired: false, name: 'job', holders: [], queueLength: 0, lockDelayRemainingMs: 3400 }));
    const err = (await client.withLock('job', { ttlMs: 5000 }, () => 1).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('not_acquired');
    expect(err.details.lockDelayRemainingMs).toBe(3400);
    expect(err.message).toContain('lock-delay');
    expect(err.message).not.toContain('is held');
  });

  it('with neither ttlMs nor session opens a session for the call and closes it after', async () => {
    const { client, calls } = setup(granted);
    await client.withLock('job', {}, (hold) => {
      expect(hold.session?.id).toBe('s9');
    });
    await settle();
    const acquire = calls.find((c) => c.path.endsWith('/acquire'));
    expect(acquire?.body).toMatchObject({ sessionId: 's9' });
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/v1/sessions/s9')).toBe(true);
  });

  it('ignores not_holder on release (the hold already ended)', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => (req.path.endsWith('/acquire') ? granted() : apiError(409, 'not_holder')));
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    await expect(client.withLock('job', { ttlMs: 5000 }, () => 'ok')).resolves.toBe('ok');
  });

  it('a session hold signal fires when the session is lost', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path.endsWith('/acquire')) return granted();
      if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's9', ttlMs: 3000, lockDelayMs: 0, name: '' });
      if (req.path.endsWith('/keepalive')) return apiError(404, 'session_not_found');
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const session = await client.session({ ttlMs: 3000 });
    let abortedAt = -1;
    await client.withLock('job', { session }, async (hold) => {
      hold.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(5000);
      expect(hold.signal.aborted).toBe(true);
    });
    // The first heartbeat (at ttl/3) learns the session is gone.
    expect(abortedAt).toBe(1000);
  });

  it('a shorter extend brings the deadline forward: after a failover the lease restarts at the TTL last set', async () => {
    // Like the server: extend sets the hold's TTL (without ttlMs: keeps the one last set) and answers it.
    // The leader never shortens a running lease, but a new leader restarts it at that TTL, so after
    // extend(5000) on a 60 s hold the server may end it 5 s after the extend was sent.
    const clock = new ManualClock();
    let holdTtlMs = 60_000;
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path.endsWith('/acquire')) return json(200, { acquired: true, name: 'job', fencingToken: 42, mode: 'exclusive', expiresInMs: holdTtlMs });
      if (req.path.endsWith('/extend')) {
        holdTtlMs = (req.body as { ttlMs?: number }).ttlMs ?? holdTtlMs;
        return json(200, { expiresInMs: holdTtlMs });
      }
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let abortedAt = -1;
    // The default margin is that of the TTL in force: 6 s for 60 s, then 500 ms for 5 s.
    await client.withLock('job', { ttlMs: 60_000 }, async (hold) => {
      hold.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(1000);
      await hold.extend(5000);
      expect(hold.remainingMs()).toBe(5000 - 500);
      await clock.advance(1000);
      await hold.extend(); // the TTL last set: 5 s, not the acquire's 60 s
      expect(hold.remainingMs()).toBe(5000 - 500);
      await clock.advance(60_000);
    });
    expect(abortedAt).toBe(2000 + 5000 - 500);
  });

  it('extend moves a TTL hold deadline, measured from the extend send time', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, async (req) => {
      if (req.path.endsWith('/acquire')) return granted();
      if (req.path.endsWith('/extend')) {
        // A slow answer: the deadline counts from the send, not from this.
        await new Promise<void>((r) => clock.setTimer(r, 700));
        return json(200, { expiresInMs: 5000 });
      }
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let abortedAt = -1;
    await client.withLock('job', { ttlMs: 5000, safetyMarginMs: 500 }, async (hold) => {
      hold.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(3000);
      const p = hold.extend();
      await clock.advance(700);
      await p;
      await clock.advance(10_000);
    });
    expect(abortedAt).toBe(3000 + 5000 - 500);
  });

  it('hold.extend takes { signal } and ends with aborted when it fires', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path === '/v1/locks/job/acquire') return granted();
      if (req.path === '/v1/locks/job/extend') return hang(req);
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const err = await client.withLock('job', { ttlMs: 5000 }, async (hold) => {
      const ac = new AbortController();
      const p = hold.extend(5000, { signal: ac.signal }).catch((e: unknown) => e);
      await clock.advance(100);
      ac.abort();
      // Without the signal the extend would hang on: give it a few turns, not the test's timeout.
      return Promise.race([p, settle().then(() => 'still waiting')]);
    });
    expect(err).toMatchObject({ code: 'aborted' });
  });

  describe('an abort that races a grant', () => {
    function lateGrantSetup() {
      const clock = new ManualClock();
      const late = grantedAsAbandoned(granted);
      const released: number[] = [];
      const { fetch, calls } = fakeFetch(clock, (req) => {
        if (req.path === '/v1/locks/job/acquire') return late.handler(req);
        if (req.path === '/v1/locks/job/release') released.push((req.body as { fencingToken: number }).fencingToken);
        return json(200, { released: true });
      });
      return { clock, calls, released, repeats: late.repeats, client: new Client({ endpoints: ['http://n1:7001'], fetch, clock }) };
    }

    it('acquire: the SDK asks again with the same key (trying once) and releases the grant the caller never saw', async () => {
      const { clock, calls, client, released, repeats } = lateGrantSetup();
      const ac = new AbortController();
      const p = client.acquire('job', { ttlMs: 5000, waitMs: 10_000 }, { signal: ac.signal }).catch((e: unknown) => e);
      await clock.advance(100);
      ac.abort();
      expect(await p).toMatchObject({ code: 'aborted', details: { outcomeUnknown: true } });
      await clock.advance(100);
      expect(repeats).toHaveLength(1);
      expect(repeats[0].headers['idempotency-key']).toBe(calls[0].headers['idempotency-key']);
      expect(repeats[0].body).toMatchObject({ ttlMs: 5000, waitMs: 0 });
      expect(released).toEqual([42]);
    });

    it('withLock: the function never runs, and the late grant is released', async () => {
      const { clock, client, released } = lateGrantSetup();
      const ac = new AbortController();
      let ran = false;
      const p = client.withLock('job', { ttlMs: 5000, waitMs: 10_000, signal: ac.signal }, () => void (ran = true)).catch((e: unknown) => e);
      await clock.advance(100);
      ac.abort();
      expect(await p).toMatchObject({ code: 'aborted' });
      await clock.advance(100);
      expect(ran).toBe(false);
      expect(released).toEqual([42]);
    });

    it('asks nothing again when no request can have reached a server', async () => {
      const before = lateGrantSetup();
      const err = await before.client.acquire('job', { ttlMs: 5000 }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'aborted', details: { outcomeUnknown: false } });
      await before.clock.advance(100);
      expect(before.calls).toEqual([]);

      // Refused by a per-node cap (nothing proposed), then aborted while waiting out its Retry-After.
      const clock = new ManualClock();
      const { fetch, calls } = fakeFetch(clock, () => apiError(429, 'too_many_requests', {}, { 'retry-after': '5' }));
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const ac = new AbortController();
      const p = client.acquire('job', { ttlMs: 5000, waitMs: 10_000 }, { signal: ac.signal }).catch((e: unknown) => e);
      await clock.advance(1000);
      ac.abort();
      expect(await p).toMatchObject({ code: 'aborted', details: { outcomeUnknown: false } });
      await clock.advance(10_000);
      expect(calls).toHaveLength(1);
    });
  });

  it('withLock and withLocks: the signal also ends the session they open for the call', async () => {
    const clock = new ManualClock();
    const { fetch, calls } = fakeFetch(clock, (req) => hang(req));
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    for (const take of [
      (signal: AbortSignal) => client.withLock('job', { signal }, () => 'never'),
      (signal: AbortSignal) => client.withLocks(['job', 'other'], { signal }, () => 'never'),
    ]) {
      const ac = new AbortController();
      const p = take(ac.signal).catch((e: unknown) => e);
      await clock.advance(100);
      ac.abort();
      expect(await Promise.race([p, settle().then(() => 'still waiting')])).toMatchObject({ code: 'aborted' });
    }
    expect(calls.map((c) => c.path)).toEqual(['/v1/sessions', '/v1/sessions']);
  });

  it('withLock and withLocks: a grant whose answer arrives just after the caller aborted does not run the function, and is released', async () => {
    const clock = new ManualClock();
    let caller = new AbortController();
    const released: unknown[] = [];
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path.endsWith('/acquire')) {
        // The caller gives up while the grant is on its way: the whole answer still arrives.
        caller.abort();
        return req.path.startsWith('/v1/lock-sets') ? json(200, { acquired: true, holds: [{ name: 'job', fencingToken: 43, mode: 'exclusive' }, { name: 'other', fencingToken: 44, mode: 'exclusive' }] }) : granted();
      }
      released.push(req.body);
      return json(200, { released: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let ran = false;
    await expect(client.withLock('job', { ttlMs: 5000, signal: caller.signal }, () => void (ran = true))).rejects.toMatchObject({ code: 'aborted' });
    caller = new AbortController();
    await expect(client.withLocks(['job', 'other'], { ttlMs: 5000, signal: caller.signal }, () => void (ran = true))).rejects.toMatchObject({ code: 'aborted' });
    expect(ran).toBe(false);
    expect(released).toEqual([{ fencingToken: 42 }, { holds: [{ name: 'job', fencingToken: 43 }, { name: 'other', fencingToken: 44 }] }]);
  });
});
