// client.elect with a scripted cluster: leadership after leadership as
// sessions are lost, without leaking listeners on the election's own signal.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LockstepError } from '../../packages/client/src/errors.js';
import { apiError, fakeFetch, grantedAsAbandoned, hang, json, ManualClock, settle, type FakeHandler } from './fakes.js';
import type { Leadership } from '../../packages/client/src/election.js';

/** Collects the rejections nobody handled while `body` runs (and a turn after). */
async function unhandledRejectionsOf(body: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body();
    await new Promise((r) => setImmediate(r));
    return unhandled;
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

/** What `p` has come to by now: 'pending', 'resolved', or the error it rejected with. */
async function outcomeOf(p: Promise<unknown>): Promise<unknown> {
  let outcome: unknown = 'pending';
  p.then(
    () => (outcome = 'resolved'),
    (err: unknown) => (outcome = err),
  );
  await settle();
  return outcome;
}

/** A cluster that answers sessions and keepalives and elects at once, unless `handler` answers first. */
function cluster(clock: ManualClock, handler: (req: Parameters<FakeHandler>[0]) => Response | undefined) {
  return fakeFetch(clock, (req) => {
    const answer = handler(req);
    if (answer) return answer;
    if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's1', ttlMs: 3000, lockDelayMs: 0, name: '' });
    if (req.path.endsWith('/keepalive')) return json(200, { sessionId: 's1', ttlMs: 3000 });
    if (req.path === '/v1/elections/job/campaign') return json(200, { elected: true, name: 'job', term: 7, value: 'me' });
    if (req.method === 'DELETE') return json(200, { sessionId: 's1', released: [] });
    return json(200, { resigned: true });
  });
}

describe('elect', () => {
  it('re-campaigns after each lost session, and leaves no listener behind per leadership', async () => {
    const clock = new ManualClock();
    let sessions = 0;
    let term = 0;
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: `s${++sessions}`, ttlMs: 3000, lockDelayMs: 0, name: '' });
      // Every session is gone at its first heartbeat: leadership is lost, the election opens a new session.
      if (req.path.endsWith('/keepalive')) return apiError(404, 'session_not_found');
      if (req.path === '/v1/elections/job/campaign') return json(200, { elected: true, name: 'job', term: ++term, value: 'me' });
      if (req.method === 'DELETE') return apiError(404, 'session_not_found');
      return json(200, { resigned: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const demotions: string[] = [];
    const election = client.elect('job', 'me', { onElected: () => undefined, onDemoted: (reason) => void demotions.push(reason) });
    await clock.advance(15_000);
    expect(demotions.length).toBeGreaterThanOrEqual(12);
    expect(demotions.every((r) => r === 'session_lost')).toBe(true);
    const stop = (election as unknown as { stop: AbortController }).stop.signal;
    // At most the one of the leadership in force now.
    expect(getEventListeners(stop, 'abort').length).toBeLessThanOrEqual(1);
    const closing = election.close();
    await clock.advance(1000);
    await closing;
  });

  it('an onError callback that throws neither ends the election nor leaves a rejection nobody handles', async () => {
    const clock = new ManualClock();
    let campaigns = 0;
    // The first campaign fails (a 500, which the HTTP layer does not retry): the election reports it and tries again.
    const { fetch } = cluster(clock, (req) => (req.path === '/v1/elections/job/campaign' && ++campaigns === 1 ? apiError(500, 'internal') : undefined));
    const unhandled = await unhandledRejectionsOf(async () => {
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      let elected = 0;
      const election = client.elect('job', 'me', {
        onElected: () => void elected++,
        onError: () => {
          throw new Error('a logging callback with a bug');
        },
      });
      await clock.advance(5_000);
      expect(elected).toBe(1);
      expect(election.leadership?.term).toBe(7);
      const closing = election.close();
      await clock.advance(1000);
      await closing;
    });
    expect(unhandled).toEqual([]);
  });

  describe('an answer no retry changes (a refused token, an invalid campaign) stops the election', () => {
    it.each([
      [401, 'unauthorized'],
      [403, 'forbidden'],
    ])('when opening its session: done rejects with the error, onError gets it, no retry (%i %s)', async (status, code) => {
      const clock = new ManualClock();
      const { fetch, calls } = cluster(clock, (req) => (req.path === '/v1/sessions' ? apiError(status, code) : undefined));
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const errors: unknown[] = [];
      const election = client.elect('job', 'me', { onElected: () => undefined, onError: (err) => void errors.push(err) });
      await clock.advance(5_000);
      const err = await outcomeOf(election.done);
      expect(err).toBeInstanceOf(LockstepError);
      expect(err).toMatchObject({ code, status });
      expect(errors).toEqual([err]);
      expect(calls.filter((c) => c.path === '/v1/sessions')).toHaveLength(1);
      // Closing an election that has stopped is a no-op, not a second report of its error.
      await election.close();
    });

    it('when campaigning: done rejects with the 403, and the session it opened is closed', async () => {
      const clock = new ManualClock();
      const { fetch, calls } = cluster(clock, (req) => (req.path === '/v1/elections/job/campaign' ? apiError(403, 'forbidden', { names: ['job'] }) : undefined));
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const election = client.elect('job', 'me', { onElected: () => undefined });
      await clock.advance(5_000);
      expect(await outcomeOf(election.done)).toMatchObject({ code: 'forbidden', status: 403 });
      expect(calls.filter((c) => c.path === '/v1/elections/job/campaign')).toHaveLength(1);
      expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/v1/sessions/s1']);
    });

    it.each([
      [400, 'invalid_argument'],
      [413, 'payload_too_large'],
    ])('a campaign the server refuses as invalid stops it too: no retry can change it (%i %s)', async (status, code) => {
      const clock = new ManualClock();
      const { fetch, calls } = cluster(clock, (req) => (req.path === '/v1/elections/job/campaign' ? apiError(status, code) : undefined));
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const errors: unknown[] = [];
      const election = client.elect('job', 'me', { onElected: () => undefined, onError: (err) => void errors.push(err) });
      await clock.advance(5_000);
      const err = await outcomeOf(election.done);
      expect(err).toMatchObject({ code, status });
      expect(errors).toEqual([err]);
      expect(calls.filter((c) => c.path === '/v1/elections/job/campaign')).toHaveLength(1);
    });

    it('while leading: it demotes first, then reports the refusal and stops without opening another session', async () => {
      const clock = new ManualClock();
      const { fetch, calls } = cluster(clock, (req) => (req.path.endsWith('/keepalive') ? apiError(401, 'unauthorized') : undefined));
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const events: string[] = [];
      const election = client.elect('job', 'me', {
        onElected: (l) => void events.push(`elected ${l.term}`),
        onDemoted: (reason) => void events.push(`demoted ${reason}`),
        onError: (err) => void events.push(`error ${(err as LockstepError).code}`),
      });
      await clock.advance(5_000);
      expect(await outcomeOf(election.done)).toMatchObject({ code: 'unauthorized' });
      expect(events).toEqual(['elected 7', 'demoted session_lost', 'error unauthorized']);
      expect(election.leadership).toBeNull();
      expect(calls.filter((c) => c.path === '/v1/sessions')).toHaveLength(1);
    });

    it('with a session given: its end as unauthorized rejects done with the server\'s error', async () => {
      const clock = new ManualClock();
      const { fetch } = cluster(clock, (req) => {
        if (req.path.endsWith('/keepalive')) return apiError(401, 'unauthorized');
        // Waits in line until the session ends.
        if (req.path === '/v1/elections/job/campaign') return new Promise<Response>((_, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })) as unknown as Response;
        return undefined;
      });
      const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
      const session = await client.session({ ttlMs: 3000 });
      const election = client.elect('job', 'me', { session, onElected: () => undefined });
      await clock.advance(5_000);
      expect(await session.lost).toBe('unauthorized');
      expect(await outcomeOf(election.done)).toMatchObject({ code: 'unauthorized', status: 401 });
    });

    it('a rejected done that nobody awaits is not an unhandled rejection (no onError either)', async () => {
      const unhandled = await unhandledRejectionsOf(async () => {
        const clock = new ManualClock();
        const { fetch } = cluster(clock, (req) => (req.path === '/v1/sessions' ? apiError(401, 'unauthorized') : undefined));
        const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
        const election = client.elect('job', 'me', { onElected: () => undefined });
        await clock.advance(5_000);
        expect(election.leadership).toBeNull();
      });
      expect(unhandled).toEqual([]);
    });
  });

  it('leadership.value is the value last proclaimed', async () => {
    const clock = new ManualClock();
    const { fetch } = cluster(clock, (req) => (req.path === '/v1/elections/job/proclaim' ? json(200, { name: 'job', term: 7, value: 'v2' }) : undefined));
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let led: { value: string; proclaim(v: string): Promise<void> } | null = null;
    const election = client.elect('job', 'me', { onElected: (l) => void (led = l) });
    await clock.advance(10);
    expect(led!.value).toBe('me');
    await led!.proclaim('v2');
    expect(led!.value).toBe('v2');
    expect(election.leadership?.value).toBe('v2');
    await election.close();
  });

  it('leadership.proclaim takes { signal } and ends with aborted when it fires', async () => {
    const clock = new ManualClock();
    const { fetch } = cluster(clock, (req) => (req.path === '/v1/elections/job/proclaim' ? (hang(req) as unknown as Response) : undefined));
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    let led: Leadership | null = null;
    const election = client.elect('job', 'me', { onElected: (l) => void (led = l) });
    await clock.advance(10);
    const ac = new AbortController();
    const p = led!.proclaim('v2', { signal: ac.signal }).catch((e: unknown) => e);
    await clock.advance(100);
    ac.abort();
    expect(await outcomeOf(p)).toBe('resolved');
    expect(await p).toMatchObject({ code: 'aborted' });
    expect(led!.value).toBe('me');
    await election.close();
  });

  it('a campaign aborted as the server elects it: the SDK asks again with the same key and resigns that term', async () => {
    const clock = new ManualClock();
    const late = grantedAsAbandoned(() => json(200, { elected: true, name: 'job', term: 7, value: 'me' }));
    const resigned: unknown[] = [];
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.path === '/v1/elections/job/campaign') return late.handler(req);
      if (req.path === '/v1/elections/job/resign') resigned.push(req.body);
      return json(200, { resigned: true });
    });
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const ac = new AbortController();
    const p = client.campaign('job', { sessionId: 's1', value: 'me', waitMs: 300_000 }, { signal: ac.signal }).catch((e: unknown) => e);
    await clock.advance(100);
    ac.abort();
    expect(await p).toMatchObject({ code: 'aborted' });
    await clock.advance(100);
    expect(late.repeats).toHaveLength(1);
    expect(resigned).toEqual([{ term: 7 }]);
  });

  it('close() ends a session create still under way instead of waiting it out', async () => {
    const clock = new ManualClock();
    const { fetch } = fakeFetch(clock, (req) => hang(req));
    const client = new Client({ endpoints: ['http://n1:7001'], fetch, clock });
    const election = client.elect('job', 'me', { onElected: () => undefined });
    await clock.advance(100);
    expect(await outcomeOf(election.close())).toBe('resolved');
  });
});
