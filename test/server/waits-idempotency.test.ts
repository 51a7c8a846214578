import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Canceller } from '../../src/cancel.js';
import { decodeProposal } from '../../src/locks/codec.js';
import { flush, type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

function commandTypes(): string[] {
  return h.node.proposals.map((p) => decodeProposal(p).command.type);
}

describe('long-poll waits', () => {
  it('waiters are granted in arrival order as the lock is released', async () => {
    const first = await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000 });
    const w1 = h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 60_000, owner: 'w1' });
    await flush();
    const w2 = h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 60_000, owner: 'w2' });
    await flush();
    const lock = await h.call('GET', '/v1/locks/q');
    expect(lock.body.waiters.map((w: { owner: string }) => w.owner)).toEqual(['w1', 'w2']);

    await h.call('POST', '/v1/locks/q/release', { fencingToken: first.body.fencingToken });
    const r1 = await w1;
    expect(r1.status).toBe(200);
    expect(r1.body.acquired).toBe(true);
    expect(r1.body.fencingToken).toBeGreaterThan(first.body.fencingToken);
    await h.call('POST', '/v1/locks/q/release', { fencingToken: r1.body.fencingToken });
    const r2 = await w2;
    expect(r2.body.acquired).toBe(true);
    expect(r2.body.fencingToken).toBeGreaterThan(r1.body.fencingToken);
    expect(Number(r2.headers['x-lockstep-index'])).toBeGreaterThanOrEqual(r2.body.fencingToken);
  });

  it('a wait that runs out answers acquired: false (leader clock)', async () => {
    await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    let answered = false;
    const waiting = h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 2_000 }).then((r) => {
      answered = true;
      return r;
    });
    await flush();
    await h.advance(1_999);
    expect(answered).toBe(false);
    await h.advance(1);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ acquired: false, name: 'q', queueLength: 0 });
    expect(commandTypes()).toContain('wait.cancel');
  });

  it('a waiting acquire whose session ends answers 404 session_not_found', async () => {
    await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    const id = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const waiting = h.call('POST', '/v1/locks/q/acquire', { sessionId: id, waitMs: 30_000 });
    await flush();
    await h.call('DELETE', `/v1/sessions/${id}`);
    const res = await waiting;
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('session_not_found');
  });

  it('an abandoned wait is cancelled (reason abandoned) and leaves the queue', async () => {
    await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    const controller = new Canceller();
    const waiting = h.server.services.locks.execute(
      { type: 'lock.acquire', name: 'q', sessionId: null, ttlMs: 5_000, waitMs: 60_000, waitId: 'w-abandon', mode: 'exclusive', limit: 1, owner: null, value: null },
      { idempotency: null, cancel: controller, tokenId: null },
    );
    await flush();
    expect((await h.call('GET', '/v1/locks/q')).body.waiters).toHaveLength(1);
    controller.cancel(new Error('client went away'));
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
    await flush();
    const cancel = h.node.proposals.map((p) => decodeProposal(p).command).find((c) => c.type === 'wait.cancel');
    expect(cancel).toEqual({ type: 'wait.cancel', waitIds: ['w-abandon'], reason: 'abandoned' });
    expect((await h.call('GET', '/v1/locks/q')).body.waiters).toHaveLength(0);
  });

  it('a client gone before its wait begins: the wait is cancelled (reason abandoned) at once', async () => {
    await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    const gone = new Canceller();
    gone.cancel(new Error('client went away'));
    const waiting = h.server.services.locks.execute(
      { type: 'lock.acquire', name: 'q', sessionId: null, ttlMs: 5_000, waitMs: 60_000, waitId: 'w-gone', mode: 'exclusive', limit: 1, owner: null, value: null },
      { idempotency: null, cancel: gone, tokenId: null },
    );
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
    await flush();
    const cancel = h.node.proposals.map((p) => decodeProposal(p).command).find((c) => c.type === 'wait.cancel');
    expect(cancel).toEqual({ type: 'wait.cancel', waitIds: ['w-gone'], reason: 'abandoned' });
    expect((await h.call('GET', '/v1/locks/q')).body.waiters).toHaveLength(0);
  });

  it('many waits at once raise no listener-leak warning, and an abandoned wait leaves no listener behind', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
      const locks = h.server.services.locks;
      const controllers = Array.from({ length: 30 }, () => new Canceller());
      const waits = controllers.map((c, i) =>
        locks.execute(
          { type: 'lock.acquire', name: 'q', sessionId: null, ttlMs: 5_000, waitMs: 60_000, waitId: `w-many-${i}`, mode: 'exclusive', limit: 1, owner: null, value: null },
          { idempotency: null, cancel: c, tokenId: null },
        ),
      );
      await flush();
      // The shutdown signal every wait listens to (private: what this test is about).
      const closing = locks['closing'].signal;
      expect(getEventListeners(closing, 'abort')).toHaveLength(30);
      for (const c of controllers) c.cancel(new Error('client went away'));
      for (const w of waits) await expect(w).rejects.toMatchObject({ code: 'unavailable' });
      expect(getEventListeners(closing, 'abort')).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('too many concurrent waits on this node is 429 too_many_requests', async () => {
    await h.close();
    h = await makeHarness({ limits: { waitsMax: 1 } });
    await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 60_000 });
    void h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 60_000 });
    await flush();
    const res = await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 60_000 });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('too_many_requests');
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('idempotency', () => {
  it('a repeat replays the first outcome without executing again', async () => {
    const key = { 'idempotency-key': 'k-1' };
    const first = await h.call('POST', '/v1/locks/i/acquire', { ttlMs: 5_000 }, key);
    const again = await h.call('POST', '/v1/locks/i/acquire', { ttlMs: 5_000 }, key);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    const lock = await h.call('GET', '/v1/locks/i');
    expect(lock.body.holders).toHaveLength(1);
  });

  it('a repeat of a session create returns the same session', async () => {
    const key = { 'idempotency-key': 'create-1' };
    const a = await h.call('POST', '/v1/sessions', { ttlMs: 5_000 }, key);
    const b = await h.call('POST', '/v1/sessions', { ttlMs: 5_000 }, key);
    expect(b.status).toBe(201);
    expect(b.body.sessionId).toBe(a.body.sessionId);
    expect((await h.call('GET', '/v1/sessions')).body.sessions).toHaveLength(1);
  });

  it('the same key on another path is 409 idempotency_conflict', async () => {
    await h.call('POST', '/v1/locks/i/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k-2' });
    const res = await h.call('POST', '/v1/locks/other/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k-2' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('idempotency_conflict');
    expect((await h.call('GET', '/v1/locks/other')).body.holders).toHaveLength(0);
  });

  it('a repeat while the first still waits gets the first outcome when it comes', async () => {
    const holder = await h.call('POST', '/v1/locks/w/acquire', { ttlMs: 60_000 });
    const key = { 'idempotency-key': 'k-wait' };
    const first = h.call('POST', '/v1/locks/w/acquire', { ttlMs: 5_000, waitMs: 30_000 }, key);
    await flush();
    const repeat = h.call('POST', '/v1/locks/w/acquire', { ttlMs: 5_000, waitMs: 30_000 }, key);
    await flush();
    expect((await h.call('GET', '/v1/locks/w')).body.waiters).toHaveLength(1);
    await h.call('POST', '/v1/locks/w/release', { fencingToken: holder.body.fencingToken });
    const [a, b] = await Promise.all([first, repeat]);
    expect(a.body.acquired).toBe(true);
    expect(b.body).toEqual(a.body);
  });

  it('an outcome unknown to the proposer is 503 unavailable; the retry with the key replays it', async () => {
    h.node.failNextAfterApply = true;
    const key = { 'idempotency-key': 'k-unknown' };
    const lost = await h.call('POST', '/v1/locks/u/acquire', { ttlMs: 5_000 }, key);
    expect(lost.status).toBe(503);
    expect(lost.body.error.code).toBe('unavailable');
    const retry = await h.call('POST', '/v1/locks/u/acquire', { ttlMs: 5_000 }, key);
    expect(retry.status).toBe(200);
    expect(retry.body.acquired).toBe(true);
    expect((await h.call('GET', '/v1/locks/u')).body.holders).toHaveLength(1);
  });

  it('keepalive ignores the Idempotency-Key header', async () => {
    const id = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const key = { 'idempotency-key': 'ka' };
    expect((await h.call('POST', `/v1/sessions/${id}/keepalive`, undefined, key)).status).toBe(200);
    expect((await h.call('POST', `/v1/sessions/${id}/keepalive`, undefined, key)).status).toBe(200);
  });
});

describe('elections', () => {
  it('campaign, proclaim, observe state, resign hands over in FIFO order', async () => {
    const a = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const b = (await h.call('POST', '/v1/sessions', {})).body.sessionId;
    const won = await h.call('POST', '/v1/elections/job/campaign', { sessionId: a, value: 'A' });
    expect(won.body).toEqual({ elected: true, name: 'job', term: expect.any(Number), value: 'A' });
    const lost = await h.call('POST', '/v1/elections/job/campaign', { sessionId: b, value: 'B' });
    expect(lost.body).toEqual({ elected: false, name: 'job', leader: { sessionId: a, value: 'A', term: won.body.term } });

    const proclaimed = await h.call('POST', '/v1/elections/job/proclaim', { term: won.body.term, value: 'A2' });
    expect(proclaimed.body).toEqual({ name: 'job', term: won.body.term, value: 'A2' });
    expect((await h.call('POST', '/v1/elections/job/proclaim', { term: won.body.term + 1000, value: 'x' })).body.error.code).toBe('not_holder');

    const waiting = h.call('POST', '/v1/elections/job/campaign', { sessionId: b, value: 'B', waitMs: 60_000 });
    await flush();
    expect((await h.call('GET', '/v1/elections/job')).body).toEqual({ name: 'job', leader: { sessionId: a, value: 'A2', term: won.body.term }, candidates: 1 });
    expect((await h.call('POST', '/v1/elections/job/resign', { term: won.body.term })).body).toEqual({ resigned: true });
    const next = await waiting;
    expect(next.body).toMatchObject({ elected: true, name: 'job', value: 'B' });
    expect(next.body.term).toBeGreaterThan(won.body.term);
    expect((await h.call('POST', '/v1/elections/job/resign', { term: won.body.term })).status).toBe(409);
  });

  it('campaign validation', async () => {
    for (const body of [{}, { sessionId: 's' }, { sessionId: 's', value: 'v'.repeat(4097) }, { sessionId: 's', value: 'v', waitMs: 300_001 }]) {
      expect((await h.call('POST', '/v1/elections/e/campaign', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await h.call('POST', '/v1/elections/e/resign', { term: 0 })).status).toBe(400);
  });
});
