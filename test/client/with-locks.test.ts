// client.withLocks: a lock set held for the function's run, one signal for
// the set, every lock's own token, release of all (and of what is left when
// part of the set is gone already).
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LockstepError } from '../../packages/client/src/errors.js';
import { apiError, fakeFetch, type FakeHandler, grantedAsAbandoned, hang, json, ManualClock, settle } from './fakes.js';

const HOLDS = [
  { name: 'acct:1', fencingToken: 41, mode: 'exclusive' },
  { name: 'acct:2', fencingToken: 42, mode: 'shared' },
];
const granted = () => json(200, { acquired: true, holds: HOLDS, expiresInMs: 5000 });

function setup(handler: FakeHandler) {
  const clock = new ManualClock();
  const releases: unknown[] = [];
  const { fetch, calls } = fakeFetch(clock, async (req) => {
    if (req.path === '/v1/lock-sets/release') releases.push((req.body as { holds: unknown }).holds);
    if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's9', ttlMs: 3000, lockDelayMs: 0, name: '' });
    if (req.method === 'DELETE' && req.path === '/v1/sessions/s9') return json(200, { sessionId: 's9', released: [] });
    return handler(req);
  });
  const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
  return { clock, calls, client, releases };
}

const ok: FakeHandler = (req) => {
  if (req.path === '/v1/lock-sets/acquire') return granted();
  if (req.path === '/v1/lock-sets/release') return json(200, { released: ['acct:1', 'acct:2'] });
  if (req.path.endsWith('/keepalive')) return json(200, { sessionId: 's9', ttlMs: 3000 });
  return apiError(404, 'not_found');
};

describe('withLocks', () => {
  it("a release that fails after the function threw does not hide the function's error", async () => {
    const { client, releases } = setup((req) => {
      if (req.path === '/v1/lock-sets/acquire') return granted();
      if (req.path === '/v1/lock-sets/release') return apiError(403, 'forbidden');
      return apiError(404, 'not_found');
    });
    await expect(
      client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000 }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(releases.length).toBeGreaterThan(0);
    await expect(client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000 }, () => 'done')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('asks for the set in one request, hands every token over, returns the value and releases them all at once', async () => {
    const { client, calls, releases } = setup(ok);
    const v = await client.withLocks(['acct:1', { name: 'acct:2', mode: 'shared' }], { ttlMs: 5000, waitMs: 1000, owner: 'me' }, (set) => {
      expect(set.fencingToken('acct:1')).toBe(41);
      expect(set.fencingToken('acct:2')).toBe(42);
      expect(set.holds.map((h) => h.name)).toEqual(['acct:1', 'acct:2']);
      expect(() => set.fencingToken('acct:3')).toThrow(LockstepError);
      expect(set.signal.aborted).toBe(false);
      return 'moved';
    });
    expect(v).toBe('moved');
    const acquire = calls.find((c) => c.path === '/v1/lock-sets/acquire');
    expect(acquire?.body).toEqual({ locks: [{ name: 'acct:1' }, { name: 'acct:2', mode: 'shared' }], ttlMs: 5000, waitMs: 1000, owner: 'me' });
    expect(acquire?.headers['idempotency-key']).toBeTruthy();
    expect(releases).toEqual([[{ name: 'acct:1', fencingToken: 41 }, { name: 'acct:2', fencingToken: 42 }]]);
  });

  it('one signal for the set: a TTL set fires before the TTL, counted from the acquire send time', async () => {
    const { clock, client } = setup(ok);
    let abortedAt = -1;
    await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000, safetyMarginMs: 500 }, async (set) => {
      set.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(6000);
    });
    expect(abortedAt).toBe(4500);
  });

  it('a session set fires when the session is lost', async () => {
    const { clock, client } = setup((req) => (req.path.endsWith('/keepalive') ? apiError(404, 'session_not_found') : ok(req)));
    let abortedAt = -1;
    await client.withLocks(['acct:1', 'acct:2'], {}, async (set) => {
      expect(set.session?.id).toBe('s9');
      set.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(5000);
    });
    expect(abortedAt).toBe(1000);
  });

  it('not acquired within waitMs: not_acquired naming what blocked, nothing to release', async () => {
    const blocked = [{ name: 'acct:2', holders: [{ fencingToken: 7, mode: 'exclusive' }], queueLength: 1 }];
    const { client, releases } = setup((req) => (req.path === '/v1/lock-sets/acquire' ? json(200, { acquired: false, blocked }) : ok(req)));
    const err = (await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000 }, () => 1).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('not_acquired');
    expect(err.message).toContain("'acct:2' (1 holder(s), 1 waiting)");
    expect(err.details.blocked).toEqual(blocked);
    expect(releases).toEqual([]);
  });

  it('waits longer than one request allows in several requests (waitMs above 300000)', async () => {
    let asked = 0;
    const { clock, client, calls } = setup((req) => {
      if (req.path !== '/v1/lock-sets/acquire') return ok(req);
      asked++;
      if (asked === 1) return new Promise<Response>((r) => clock.setTimer(() => r(json(200, { acquired: false, blocked: [] })), 300_000));
      return granted();
    });
    const done = client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000, waitMs: 400_000 }, () => 'ok');
    await clock.advance(300_000);
    await expect(done).resolves.toBe('ok');
    const waits = calls.filter((c) => c.path === '/v1/lock-sets/acquire').map((c) => (c.body as { waitMs: number }).waitMs);
    expect(waits).toEqual([300_000, 100_000]);
  });

  it('releases what is left when part of the set is gone already (a set release is all or nothing)', async () => {
    const { client, releases } = setup((req) => {
      if (req.path === '/v1/lock-sets/release') {
        const holds = (req.body as { holds: Array<{ name: string }> }).holds;
        if (holds.some((h) => h.name === 'acct:1')) return apiError(409, 'not_holder', { names: ['acct:1'] });
        return json(200, { released: holds.map((h) => h.name) });
      }
      return ok(req);
    });
    await expect(client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000 }, () => 'ok')).resolves.toBe('ok');
    expect(releases).toEqual([
      [{ name: 'acct:1', fencingToken: 41 }, { name: 'acct:2', fencingToken: 42 }],
      [{ name: 'acct:2', fencingToken: 42 }],
    ]);
  });

  it('extend renews every hold and moves the one deadline; a hold that is gone ends the set', async () => {
    const extended: string[] = [];
    let refuse = false;
    const { clock, client } = setup((req) => {
      if (req.path.endsWith('/extend')) {
        extended.push(req.path);
        return refuse && req.path.includes('acct%3A2') ? apiError(409, 'not_holder') : json(200, { expiresInMs: 5000 });
      }
      return ok(req);
    });
    let abortedAt = -1;
    await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000, safetyMarginMs: 500 }, async (set) => {
      set.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(3000);
      await set.extend();
      expect(extended).toEqual(['/v1/locks/acct%3A1/extend', '/v1/locks/acct%3A2/extend']);
      await clock.advance(4000);
      expect(set.signal.aborted).toBe(false);
      refuse = true;
      await expect(set.extend()).rejects.toMatchObject({ code: 'not_holder' });
      expect(set.signal.aborted).toBe(true);
    });
    expect(abortedAt).toBe(7000);
    await settle();
  });

  it('a shorter extend brings the set\'s deadline forward (a failover restarts each hold at the TTL last set)', async () => {
    const ttls = new Map<string, number>();
    const { clock, client } = setup((req) => {
      if (req.path.endsWith('/extend')) {
        const ttlMs = (req.body as { ttlMs?: number }).ttlMs ?? ttls.get(req.path) ?? 60_000;
        ttls.set(req.path, ttlMs);
        return json(200, { expiresInMs: ttlMs });
      }
      return ok(req);
    });
    await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 60_000 }, async (set) => {
      await clock.advance(1000);
      await set.extend(5000);
      expect(set.remainingMs()).toBe(5000 - 500);
      await clock.advance(1000);
      await set.extend();
      expect(set.remainingMs()).toBe(5000 - 500);
      await clock.advance(5000);
      expect(set.signal.aborted).toBe(true);
    });
    await settle();
  });

  it('a TTL set granted after a wait in line longer than its TTL is renewed once, not handed over already lapsed', async () => {
    const extended: { path: string; atMs: number }[] = [];
    const { clock, client } = setup(async (req) => {
      if (req.path === '/v1/lock-sets/acquire') {
        await new Promise<void>((r) => clock.setTimer(r, 3000));
        return json(200, { acquired: true, holds: HOLDS, expiresInMs: 2000 });
      }
      if (req.path.endsWith('/extend')) {
        extended.push({ path: req.path, atMs: req.atMs });
        return json(200, { expiresInMs: 2000 });
      }
      return ok(req);
    });
    let abortedAt = -1;
    const p = client.withLocks(['acct:1', 'acct:2'], { ttlMs: 2000, waitMs: 10_000, safetyMarginMs: 200 }, async (set) => {
      expect(set.signal.aborted).toBe(false);
      set.signal.addEventListener('abort', () => (abortedAt = clock.nowMs()));
      await clock.advance(5000);
    });
    await clock.advance(3000);
    await p;
    expect(extended).toEqual([
      { path: '/v1/locks/acct%3A1/extend', atMs: 3000 },
      { path: '/v1/locks/acct%3A2/extend', atMs: 3000 },
    ]);
    expect(abortedAt).toBe(3000 + 2000 - 200);
  });

  it('refuses ttlMs and session together', async () => {
    const { client } = setup(ok);
    const session = await client.session({ ttlMs: 3000 });
    await expect(client.withLocks(['a', 'b'], { ttlMs: 5000, session }, () => 1)).rejects.toMatchObject({ code: 'invalid_argument' });
    await session.close();
  });

  it('set.extend takes { signal } and ends with aborted when it fires', async () => {
    const { clock, client } = setup((req) => (req.path.endsWith('/extend') ? hang(req) : ok(req)));
    const err = await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 5000 }, async (set) => {
      const ac = new AbortController();
      const p = set.extend(5000, { signal: ac.signal }).catch((e: unknown) => e);
      await clock.advance(100);
      ac.abort();
      // Without the signal the extend would hang on: give it a few turns, not the test's timeout.
      return Promise.race([p, settle().then(() => 'still waiting')]);
    });
    expect(err).toMatchObject({ code: 'aborted' });
  });

  it('acquireSet aborted as the server grants it: the SDK asks again with the same key and releases the whole set', async () => {
    const late = grantedAsAbandoned(granted);
    const { clock, client, releases } = setup((req) => (req.path === '/v1/lock-sets/acquire' ? late.handler(req) : ok(req)));
    const ac = new AbortController();
    const p = client.acquireSet({ locks: [{ name: 'acct:1' }, { name: 'acct:2' }], ttlMs: 5000, waitMs: 10_000 }, { signal: ac.signal }).catch((e: unknown) => e);
    await clock.advance(100);
    ac.abort();
    expect(await p).toMatchObject({ code: 'aborted' });
    await clock.advance(100);
    expect(late.repeats).toHaveLength(1);
    expect(releases).toEqual([HOLDS.map(({ name, fencingToken }) => ({ name, fencingToken }))]);
  });
});
