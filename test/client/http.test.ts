import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LockstepError } from '../../packages/client/src/errors.js';
import { apiError, connectionError, fakeFetch, hang, json, ManualClock, settle } from './fakes.js';

const E = ['http://n1:7001', 'http://n2:7002', 'http://n3:7003'];

function setup(handler: Parameters<typeof fakeFetch>[1], opts: Partial<ConstructorParameters<typeof Client>[0]> = {}) {
  const clock = new ManualClock();
  const { fetch, calls } = fakeFetch(clock, handler);
  const client = new Client({ endpoints: E, fetch, clock, ...opts });
  return { clock, calls, client };
}

/** Run a call to completion while driving the manual clock. */
async function drive<T>(clock: ManualClock, p: Promise<T>, stepMs = 50, maxMs = 120_000): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let t = 0; t < maxMs && !done; t += stepMs) await clock.advance(stepMs);
  await settle();
  return p;
}

describe('request engine', () => {
  it('fails over to the next endpoint on a connection error', async () => {
    const { clock, calls, client } = setup((req) => {
      if (req.endpoint === E[0]) throw connectionError('ECONNREFUSED');
      return json(200, { locks: [] });
    });
    const res = await drive(clock, client.listLocks());
    expect(res).toEqual({ locks: [] });
    expect(calls.map((c) => c.endpoint)).toEqual([E[0], E[1]]);
  });

  it('sticks to the endpoint that answered last', async () => {
    const { clock, calls, client } = setup((req) => {
      if (req.endpoint === E[0]) throw connectionError('ECONNREFUSED');
      return json(200, { locks: [] });
    });
    await drive(clock, client.listLocks());
    await drive(clock, client.listLocks());
    expect(calls.map((c) => c.endpoint)).toEqual([E[0], E[1], E[1]]);
  });

  it('fails over on 503 and reuses the idempotency key on the retry of a state-changing call', async () => {
    let n = 0;
    const { clock, calls, client } = setup(() => {
      n++;
      if (n === 1) return apiError(503, 'unavailable');
      if (n === 2) throw connectionError('ECONNRESET');
      return json(200, { acquired: true, name: 'a', fencingToken: 7, mode: 'exclusive', expiresInMs: 5000 });
    });
    const res = await drive(clock, client.acquire('a', { ttlMs: 5000 }));
    expect(res).toMatchObject({ acquired: true, fencingToken: 7 });
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.endpoint)).size).toBe(3);
    const keys = calls.map((c) => c.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[\x21-\x7e]{1,128}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('gives each call its own idempotency key', async () => {
    const { clock, calls, client } = setup(() => json(200, { released: true }));
    await drive(clock, client.release('a', 1));
    await drive(clock, client.release('a', 1));
    expect(calls[0].headers['idempotency-key']).not.toBe(calls[1].headers['idempotency-key']);
  });

  it('retries an attempt that timed out (outcome unknown) with the same key', async () => {
    let n = 0;
    const { clock, calls, client } = setup(
      (req) => {
        n++;
        if (n === 1) return hang(req);
        return json(201, { sessionId: 's1', ttlMs: 10000, lockDelayMs: 0, name: '' });
      },
      { requestTimeoutMs: 1000 },
    );
    const res = await drive(clock, client.createSession({ ttlMs: 10000 }));
    expect(res.sessionId).toBe('s1');
    expect(calls[1].atMs).toBeGreaterThanOrEqual(1000);
    expect(calls[0].headers['idempotency-key']).toBe(calls[1].headers['idempotency-key']);
  });

  it('adds waitMs to the attempt timeout of a waiting acquire', async () => {
    const { clock, calls, client } = setup(
      async (req) => {
        if (calls.length === 1) {
          // The server holds the request for the wait, then answers.
          await new Promise<void>((r) => clock.setTimer(r, 8000));
        }
        void req;
        return json(200, { acquired: false, name: 'a', holders: [], queueLength: 0 });
      },
      { requestTimeoutMs: 1000 },
    );
    const res = await drive(clock, client.acquire('a', { ttlMs: 5000, waitMs: 8000 }));
    expect(res.acquired).toBe(false);
    // One acquire; beside it, the node's health probes (answered).
    expect(calls.filter((c) => c.path !== '/healthz')).toHaveLength(1);
  });

  it('a node that hangs under a wait is noticed by its health probe, and the wait is retried elsewhere with the same key', async () => {
    const { clock, calls, client } = setup(
      (req) => {
        // n1 hangs (SIGSTOP): it answers nothing, not even /healthz.
        if (req.endpoint === E[0]) return hang(req);
        return json(200, { acquired: true, name: 'a', fencingToken: 11, mode: 'exclusive', expiresInMs: 5000 });
      },
      { requestTimeoutMs: 1000 },
    );
    let doneAtMs = -1;
    let res: unknown = null;
    void client.acquire('a', { ttlMs: 5000, waitMs: 300_000 }).then((r) => ((doneAtMs = clock.nowMs()), (res = r)));
    for (let t = 0; t < 10_000; t += 50) await clock.advance(50);
    expect(res).toMatchObject({ acquired: true, fencingToken: 11 });
    // The probe sent at 1000 goes unanswered until 2000: not the 301 s the wait's own timeout allows.
    expect(doneAtMs).toBe(2000);
    expect(calls.map((c) => `${c.endpoint}${c.path}`)).toEqual([`${E[0]}/v1/locks/a/acquire`, `${E[0]}/healthz`, `${E[1]}/v1/locks/a/acquire`]);
    expect(calls[2].headers['idempotency-key']).toBe(calls[0].headers['idempotency-key']);
  });

  it('a node that answers its health probe keeps the wait, with one probe per interval for all its waits, and none once they end', async () => {
    const { clock, calls, client } = setup(
      async (req) => {
        if (req.path === '/healthz') return json(200, { ok: true });
        // A long queue: answered after 10 s.
        await new Promise<void>((r) => clock.setTimer(r, 10_000));
        return json(200, { acquired: true, name: 'a', fencingToken: 12, mode: 'exclusive', expiresInMs: 5000 });
      },
      { requestTimeoutMs: 1000 },
    );
    const both = Promise.all([client.acquire('a', { ttlMs: 5000, waitMs: 60_000 }), client.acquire('b', { ttlMs: 5000, waitMs: 60_000 })]);
    await drive(clock, both);
    expect(calls.filter((c) => c.path !== '/healthz')).toHaveLength(2);
    const probes = calls.filter((c) => c.path === '/healthz');
    expect(probes.map((c) => c.atMs)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    await clock.advance(10_000);
    expect(calls.filter((c) => c.path === '/healthz')).toHaveLength(9);
  });

  it('honours Retry-After on 503 no_leader', async () => {
    let n = 0;
    const { clock, calls, client } = setup(() => {
      n++;
      if (n === 1) return apiError(503, 'no_leader', {}, { 'retry-after': '2' });
      return json(200, { name: 'e', leader: null, candidates: 0 });
    });
    await drive(clock, client.getElection('e'), 10);
    expect(calls).toHaveLength(2);
    expect(calls[1].atMs).toBeGreaterThanOrEqual(2000);
    expect(calls[1].atMs).toBeLessThan(2100);
  });

  it('retries 429 too_many_requests (a per-node cap) after its Retry-After, on the next endpoint, with the same key', async () => {
    const { clock, calls, client } = setup((req) => {
      if (req.endpoint === E[0]) return apiError(429, 'too_many_requests', {}, { 'retry-after': '1' });
      return json(200, { acquired: true, name: 'a', fencingToken: 9, mode: 'exclusive', expiresInMs: 5000 });
    });
    const res = await drive(clock, client.acquire('a', { ttlMs: 5000, waitMs: 10_000 }), 10);
    expect(res).toMatchObject({ acquired: true, fencingToken: 9 });
    expect(calls.map((c) => c.endpoint)).toEqual([E[0], E[1]]);
    expect(calls[1].atMs).toBeGreaterThanOrEqual(1000);
    expect(calls[1].atMs).toBeLessThan(1100);
    expect(calls[1].headers['idempotency-key']).toBe(calls[0].headers['idempotency-key']);
  });

  it('stops waiting out a 429 Retry-After when the caller aborts, and gives up when it would pass the call budget', async () => {
    const a = setup(() => apiError(429, 'too_many_requests', {}, { 'retry-after': '10' }));
    const ac = new AbortController();
    const p = a.client.getLock('a', { signal: ac.signal }).catch((e: unknown) => e);
    await a.clock.advance(1000);
    ac.abort();
    expect(await p).toMatchObject({ code: 'aborted' });
    expect(a.calls).toHaveLength(1);

    const b = setup(() => apiError(429, 'too_many_requests', {}, { 'retry-after': '2' }), { totalTimeoutMs: 5000 });
    const err = (await drive(b.clock, b.client.cluster()).catch((e: unknown) => e)) as LockstepError;
    expect(err).toMatchObject({ code: 'too_many_requests', status: 429, retryAfterMs: 2000 });
    // At 0, 2000 and 4000 ms; the next, at 6000, would pass the 5 s budget.
    expect(b.calls.map((c) => c.atMs)).toEqual([0, 2000, 4000]);
  });

  it('does not retry 429 limit_exceeded (a replicated cap, full on every node): the caller sees it at once', async () => {
    const { clock, calls, client } = setup(() => apiError(429, 'limit_exceeded', {}, { 'retry-after': '1' }));
    const err = (await drive(clock, client.createSession({ ttlMs: 5000 })).catch((e: unknown) => e)) as LockstepError;
    expect(err).toMatchObject({ code: 'limit_exceeded', status: 429 });
    expect(calls).toHaveLength(1);
  });

  it('gives up when Retry-After would pass the call budget, with the server error', async () => {
    const { clock, calls, client } = setup(() => apiError(503, 'no_leader', {}, { 'retry-after': '20' }), { totalTimeoutMs: 5000 });
    const err = await drive(clock, client.cluster()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockstepError);
    expect((err as LockstepError).code).toBe('no_leader');
    expect((err as LockstepError).retryAfterMs).toBe(20000);
    expect(calls).toHaveLength(1);
  });

  it('throws a typed error with the contract code, status and details, without retrying a 4xx', async () => {
    const { clock, calls, client } = setup(() => apiError(409, 'deadlock', { cycle: ['a', 'b'] }));
    const err = (await drive(clock, client.acquire('a', { sessionId: 's', waitMs: 1000 })).catch((e: unknown) => e)) as LockstepError;
    expect(err).toBeInstanceOf(LockstepError);
    expect(err.code).toBe('deadlock');
    expect(err.status).toBe(409);
    expect(err.details.cycle).toEqual(['a', 'b']);
    expect(calls).toHaveLength(1);
  });

  it('bounds attempts and reports every endpoint as unreachable', async () => {
    const { clock, calls, client } = setup(() => {
      throw connectionError('ECONNREFUSED');
    }, { maxAttempts: 5 });
    const err = (await drive(clock, client.cluster()).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('unreachable');
    expect(err.status).toBe(0);
    expect(err.message).toContain('http://n1:7001,http://n2:7002,http://n3:7003');
    expect(calls).toHaveLength(5);
  });

  it("keeps the most telling error: one node's 503 no_leader, not the refused connections of the others (issue 15)", async () => {
    const { clock, calls, client } = setup((req) => {
      if (req.endpoint === E[0]) return apiError(503, 'no_leader', {}, { 'retry-after': '1' });
      throw connectionError('ECONNREFUSED');
    }, { maxAttempts: 6 });
    const err = (await drive(clock, client.acquire('q', { ttlMs: 5000 })).catch((e: unknown) => e)) as LockstepError;
    // The last attempt went to a dead node; the answer is still the survivor's.
    expect(calls.at(-1)?.endpoint).not.toBe(E[0]);
    expect(err.code).toBe('no_leader');
    expect(err.status).toBe(503);
    expect(err.details).toMatchObject({ answeredCount: 1, endpointCount: 3, attempts: 6 });
  });

  it('a certificate that fails verification surely delivered nothing: a POST that met only that is not "outcome unknown"', async () => {
    for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']) {
      const { clock, client } = setup(() => {
        throw connectionError(code);
      }, { maxAttempts: 3 });
      const err = (await drive(clock, client.acquire('q', { ttlMs: 5000 })).catch((e: unknown) => e)) as LockstepError;
      expect(err.code, code).toBe('unreachable');
      expect(err.details.cause, code).toBe(code);
      expect(err.details.outcomeUnknown, code).toBe(false);
    }
  });

  it('bounds total time', async () => {
    const { clock, calls, client } = setup((req) => hang(req), { requestTimeoutMs: 1000, totalTimeoutMs: 3500, maxAttempts: 100 });
    const err = (await drive(clock, client.cluster()).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('timeout');
    expect(clock.nowMs()).toBeLessThan(5000);
    expect(calls.length).toBeLessThanOrEqual(4);
  });

  it('does not retry a membership change after 503 unavailable (no idempotency for it), but does after connection refused', async () => {
    const a = setup(() => apiError(503, 'unavailable'));
    const err = (await drive(a.clock, a.client.addMember({ id: 'n4', apiUrl: 'http://n4:7004', peerUrl: 'n4:7104' })).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('unavailable');
    expect(a.calls).toHaveLength(1);
    expect(a.calls[0].headers['idempotency-key']).toBeUndefined();

    const b = setup((req) => {
      if (req.endpoint === E[0]) throw connectionError('ECONNREFUSED');
      return json(200, {});
    });
    await drive(b.clock, b.client.removeMember('n4'));
    expect(b.calls).toHaveLength(2);
  });

  it('does not retry a 500', async () => {
    const { clock, calls, client } = setup(() => apiError(500, 'internal'));
    const err = (await drive(clock, client.cluster()).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('internal');
    expect(calls).toHaveLength(1);
  });

  it('stops when the caller aborts', async () => {
    const { clock, client } = setup((req) => hang(req));
    const ac = new AbortController();
    const p = client.acquire('a', { ttlMs: 5000, waitMs: 10_000 }, { signal: ac.signal });
    await clock.advance(100);
    ac.abort();
    const err = (await p.catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('aborted');
  });

  it('every method that does network I/O takes { signal } and ends with aborted when it fires', async () => {
    type Call = (client: Client, signal: AbortSignal) => Promise<unknown>;
    const calls: Record<string, Call> = {
      createSession: (c, signal) => c.createSession({}, { signal }),
      keepaliveSession: (c, signal) => c.keepaliveSession('s1', { signal }),
      getSession: (c, signal) => c.getSession('s1', { signal }),
      deleteSession: (c, signal) => c.deleteSession('s1', { signal }),
      listSessions: (c, signal) => c.listSessions({ signal }),
      allSessions: (c, signal) => c.allSessions({ signal }).next(),
      session: (c, signal) => c.session({}, { signal }),
      acquire: (c, signal) => c.acquire('a', { ttlMs: 5000 }, { signal }),
      release: (c, signal) => c.release('a', 1, { signal }),
      extend: (c, signal) => c.extend('a', 1, 5000, { signal }),
      getLock: (c, signal) => c.getLock('a', { signal }),
      listLocks: (c, signal) => c.listLocks({ signal }),
      allLocks: (c, signal) => c.allLocks({ signal }).next(),
      checkFencing: (c, signal) => c.checkFencing('a', 1, { signal }),
      acquireSet: (c, signal) => c.acquireSet({ locks: [{ name: 'a' }, { name: 'b' }], ttlMs: 5000 }, { signal }),
      releaseSet: (c, signal) => c.releaseSet([{ name: 'a', fencingToken: 1 }], { signal }),
      campaign: (c, signal) => c.campaign('e', { sessionId: 's1', value: 'v' }, { signal }),
      proclaim: (c, signal) => c.proclaim('e', 1, 'v', { signal }),
      resign: (c, signal) => c.resign('e', 1, { signal }),
      getElection: (c, signal) => c.getElection('e', { signal }),
      cluster: (c, signal) => c.cluster({ signal }),
      addMember: (c, signal) => c.addMember({ id: 'n4', apiUrl: 'http://n4:7004', peerUrl: 'n4:7104' }, { signal }),
      removeMember: (c, signal) => c.removeMember('n4', { signal }),
      transferLeadership: (c, signal) => c.transferLeadership(undefined, { signal }),
      snapshot: (c, signal) => c.snapshot({ signal }),
      createToken: (c, signal) => c.createToken({ name: 't', role: 'reader' }, { signal }),
      listTokens: (c, signal) => c.listTokens({ signal }),
      revokeToken: (c, signal) => c.revokeToken('t1', { signal }),
      whoami: (c, signal) => c.whoami({ signal }),
    };
    // Every method of the Client is here but these: no I/O of their own (endpoints, elect), private
    // helpers, the raw request (its spec has signal), the with* helpers (opts.signal), streams
    // (StreamOptions.signal, which ends them quietly).
    const elsewhere = ['constructor', 'endpoints', 'body', 'giveBackLate', 'request', 'withLock', 'withLocks', 'elect', 'watchLock', 'observe'];
    const methods = Object.getOwnPropertyNames(Client.prototype).filter((m) => !elsewhere.includes(m));
    expect(methods.sort()).toEqual(Object.keys(calls).sort());
    for (const [method, call] of Object.entries(calls)) {
      const { clock, calls: sent, client } = setup((req) => hang(req));
      const ac = new AbortController();
      const p = call(client, ac.signal).catch((e: unknown) => e);
      await clock.advance(100);
      expect(sent, method).toHaveLength(1);
      ac.abort();
      await settle();
      let outcome: unknown = 'still waiting';
      await Promise.race([p.then((e) => (outcome = e)), settle()]);
      expect(outcome, method).toMatchObject({ code: 'aborted' });
    }
  });

  it('treats a non-JSON 2xx as a protocol error', async () => {
    const { clock, client } = setup(() => new Response('<html>', { status: 200 }));
    const err = (await drive(clock, client.cluster()).catch((e: unknown) => e)) as LockstepError;
    expect(err.code).toBe('protocol');
  });

  it('checks its limits and endpoints at construction', () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, () => json(200, {}));
    expect(() => new Client({ endpoints: [], fetch })).toThrow(/endpoint/);
    expect(() => new Client({ endpoints: ['http://n1:7001/v1'], fetch })).toThrow(/no path/);
    expect(() => new Client({ endpoints: E, fetch, maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => new Client({ endpoints: E, fetch, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
  });
});
