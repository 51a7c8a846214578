// client.elect with a scripted cluster: leadership after leadership as
// sessions are lost, without leaking listeners on the election's own signal.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { apiError, fakeFetch, json, ManualClock } from './fakes.js';

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
    const { fetch } = fakeFetch(clock, (req) => {
      if (req.method === 'POST' && req.path === '/v1/sessions') return json(201, { sessionId: 's1', ttlMs: 3000, lockDelayMs: 0, name: '' });
      if (req.path.endsWith('/keepalive')) return json(200, { sessionId: 's1', ttlMs: 3000 });
      // The first campaign fails for good (no retry helps a 400): the election reports it and tries again.
      if (req.path === '/v1/elections/job/campaign') return ++campaigns === 1 ? apiError(400, 'invalid_argument') : json(200, { elected: true, name: 'job', term: 7, value: 'me' });
      return json(200, { resigned: true });
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
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
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
