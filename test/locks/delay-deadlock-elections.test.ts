// Examples for lock-delay, deadlock refusal and elections, and the named
// docs/safety.md #(#11 fencing, #12 grant re-checks liveness, #17 one
// command per handover).
import { describe, expect, it } from 'vitest';
import type { LockCommand } from '../../src/locks/commands.js';
import { Harness, errorCode, outcomeOf, resolved } from './harness.js';

const campaign = (name: string, sessionId: string, value: string, waitMs = 0, waitId: string | null = null): LockCommand => ({
  type: 'election.campaign', name, sessionId, value, waitMs, waitId,
});

describe('lock-delay (Chubby)', () => {
  it('after a session expiry the lock refuses new holders, waiters queue, and are granted when it ends', () => {
    const h = new Harness();
    h.session('s1', { lockDelayMs: 4_000 });
    h.hold('a', { sessionId: 's1' });
    const { events } = h.expire({ sessionIds: ['s1'] });
    expect(events).toContainEqual({ type: 'lockDelay.started', index: h.index, name: 'a', lockDelayMs: 4_000 });
    // The refusal names the lock-delay (the machine has no clock: its full length; the leader's answer has the time left).
    expect(outcomeOf(h.acquire('a').result).body).toEqual({ acquired: false, name: 'a', holders: [], queueLength: 0, lockDelayRemainingMs: 4_000 });
    const waitId = h.wait('a');
    expect(h.machine.allLockDelays()).toEqual([{ name: 'a', lockDelayMs: 4_000 }]);
    const end = h.expire({ lockDelays: ['a'] });
    expect(end.events.map((e) => e.type)).toEqual(['lockDelay.ended', 'dequeued', 'acquired', 'wait.resolved']);
    expect(resolved(end.events, waitId)?.body).toMatchObject({ acquired: true });
    expect(h.machine.getLock('a').lockDelayRemainingMs).toBeUndefined();
  });

  it('a session with lockDelayMs 0 leaves no delay', () => {
    const h = new Harness();
    h.session('s1');
    h.hold('a', { sessionId: 's1' });
    h.expire({ sessionIds: ['s1'] });
    h.hold('a');
  });
});

describe('deadlock refusal', () => {
  it('refuses the wait that closes a 2-cycle, naming the locks from the refused one', () => {
    const h = new Harness();
    h.session('A');
    h.session('B');
    h.hold('x', { sessionId: 'A' });
    h.hold('y', { sessionId: 'B' });
    h.wait('y', { sessionId: 'A' }); // A waits for B
    const out = outcomeOf(h.acquire('x', { sessionId: 'B', waitMs: 1_000 }).result);
    expect(out.status).toBe(409);
    expect(out.body).toMatchObject({ error: { code: 'deadlock', cycle: ['x', 'y'] } });
    expect(h.machine.getLock('x').waiters).toEqual([]);
  });

  it('refuses a 3-cycle through a waiter queued ahead (not only holders)', () => {
    const h = new Harness();
    for (const s of ['A', 'B', 'C', 'D']) h.session(s);
    h.hold('p', { sessionId: 'A' });
    h.hold('q', { sessionId: 'B' });
    h.hold('r', { sessionId: 'D' });
    h.wait('r', { sessionId: 'C' }); // C queued on r
    h.wait('p', { sessionId: 'B' }); // B waits for A
    h.wait('r', { sessionId: 'A' }); // A waits for D (holder) and C (ahead on r)
    // C waits on q for B: C -> B -> A -> C (A is behind C on r).
    const out = outcomeOf(h.acquire('q', { sessionId: 'C', waitMs: 1_000 }).result);
    expect(out.body).toMatchObject({ error: { code: 'deadlock', cycle: ['q', 'p', 'r'] } });
  });

  it('a chain without a cycle queues; TTL holds are never in a cycle; try-once never deadlocks', () => {
    const h = new Harness();
    h.session('A');
    h.session('B');
    h.hold('x', { sessionId: 'A' });
    h.hold('t'); // TTL hold
    h.wait('t', { sessionId: 'A' });
    h.wait('x', { sessionId: 'B' });
    h.wait('t', { ttlMs: 1_000 });
    expect(outcomeOf(h.acquire('x', { sessionId: 'B' }).result).body).toMatchObject({ acquired: false });
  });
});

describe('elections', () => {
  it('campaign on a vacancy elects with a term from the fencing counter; waitMs 0 loses without queuing', () => {
    const h = new Harness();
    h.session('s1');
    h.session('s2');
    const token = h.hold('lock');
    const won = outcomeOf(h.run(campaign('e', 's1', 'v1')).result);
    expect(won.body).toEqual({ elected: true, name: 'e', term: h.index, value: 'v1' });
    expect(h.index).toBeGreaterThan(token);
    const lost = outcomeOf(h.run(campaign('e', 's2', 'v2')).result);
    expect(lost.body).toEqual({ elected: false, name: 'e', leader: { sessionId: 's1', value: 'v1', term: h.index - 1 } });
    expect(h.machine.getElection('e')).toEqual({ name: 'e', leader: { sessionId: 's1', value: 'v1', term: h.index - 1 }, candidates: 0 });
  });

  it('proclaim changes the value under the same term; resign promotes the next candidate in the same command', () => {
    const h = new Harness();
    h.session('s1');
    h.session('s2');
    const term = (outcomeOf(h.run(campaign('e', 's1', 'v1')).result).body as { term: number }).term;
    const queued = h.run(campaign('e', 's2', 'v2', 5_000, 'c2'));
    expect(queued.result).toEqual({ kind: 'queued', waitId: 'c2' });
    expect(queued.events).toEqual([{ type: 'election.queued', index: h.index, name: 'e', waitId: 'c2', sessionId: 's2', waitMs: 5_000 }]);
    expect(outcomeOf(h.run({ type: 'election.proclaim', name: 'e', term, value: 'v1b' }).result).body).toEqual({ name: 'e', term, value: 'v1b' });
    expect(errorCode(outcomeOf(h.run({ type: 'election.proclaim', name: 'e', term: term + 99, value: 'x' }).result))).toBe('not_holder');
    const resign = h.run({ type: 'election.resign', name: 'e', term });
    expect(outcomeOf(resign.result).body).toEqual({ resigned: true });
    expect(resolved(resign.events, 'c2')?.body).toEqual({ elected: true, name: 'e', term: h.index, value: 'v2' });
    expect(resign.events.filter((e) => e.type === 'election.leader')).toEqual([
      { type: 'election.leader', index: h.index, name: 'e', leader: { sessionId: 's2', value: 'v2', term: h.index } },
    ]);
    expect(errorCode(outcomeOf(h.run({ type: 'election.resign', name: 'e', term }).result))).toBe('not_holder');
  });

  it('the leader session ending vacates (leader: null) when nobody waits', () => {
    const h = new Harness();
    h.session('s1');
    h.run(campaign('e', 's1', 'v'));
    const { events } = h.expire({ sessionIds: ['s1'] });
    expect(events).toContainEqual({ type: 'election.leader', index: h.index, name: 'e', leader: null });
    expect(h.machine.getElection('e').leader).toBeNull();
  });

  it('a cancelled candidate resolves elected:false with the leader', () => {
    const h = new Harness();
    h.session('s1');
    h.session('s2');
    h.run(campaign('e', 's1', 'v'));
    h.run(campaign('e', 's2', 'w', 5_000, 'c2'));
    const { events } = h.run({ type: 'wait.cancel', waitIds: ['c2'], reason: 'timeout' });
    expect(resolved(events, 'c2')?.body).toEqual({ elected: false, name: 'e', leader: { sessionId: 's1', value: 'v', term: expect.any(Number) } });
    expect(h.machine.getElection('e').candidates).toBe(0);
  });
});

describe('docs/safety.md', () => {
  it('#11 fencing tokens strictly increase across all names, even when one command grants several', () => {
    const h = new Harness();
    const tokens: number[] = [];
    tokens.push(h.hold('a', { mode: 'shared' }));
    tokens.push(h.hold('b'));
    const w = h.hold('c');
    tokens.push(w);
    h.wait('c', { mode: 'shared' });
    h.wait('c', { mode: 'shared' });
    h.wait('c', { mode: 'shared' });
    const { events } = h.release('c', w);
    for (const e of events) if (e.type === 'acquired') tokens.push(e.fencingToken);
    tokens.push(h.hold('d'));
    expect(tokens).toHaveLength(7);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    expect(h.machine.lastFencingToken()).toBe(tokens[tokens.length - 1]);
  });

  it('#12 a waiter whose session expired is never granted: its wait ends in the same command as the expiry', () => {
    const h = new Harness();
    h.session('holder');
    h.session('gone');
    h.session('next');
    h.hold('a', { sessionId: 'holder' });
    const goneWait = h.wait('a', { sessionId: 'gone' });
    const nextWait = h.wait('a', { sessionId: 'next' });
    // The holder and the first waiter expire in one batch: the lock must pass to 'next', not 'gone'.
    const { events } = h.expire({ sessionIds: ['gone', 'holder'] });
    expect(resolved(events, goneWait)?.status).toBe(404);
    expect(resolved(events, nextWait)?.body).toMatchObject({ acquired: true, sessionId: 'next' });
    expect(events.some((e) => e.type === 'acquired' && e.sessionId === 'gone')).toBe(false);
    expect(h.machine.getLock('a').holders.map((x) => x.sessionId)).toEqual(['next']);
  });

  it('#17 no herd, no lost wakeup: a release hands over to exactly the head waiter in that command', () => {
    const h = new Harness();
    const token = h.hold('a');
    const waits = [h.wait('a'), h.wait('a'), h.wait('a')];
    const { events } = h.release('a', token);
    expect(events.filter((e) => e.type === 'wait.resolved').map((e) => (e as { waitId: string }).waitId)).toEqual([waits[0]]);
    expect(h.machine.getLock('a').waiters).toHaveLength(2);
  });
});
