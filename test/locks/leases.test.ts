// The leader's LeaseTable, driven by a fake monotonic clock.
import { describe, expect, it } from 'vitest';
import type { LockEvent } from '../../src/locks/commands.js';
import { LeaseTable } from '../../src/locks/leases.js';
import { Harness } from './harness.js';

const nothingDue = { expire: { sessionIds: [], holds: [], lockDelays: [] }, cancelWaits: [] };

/** Feeds every event the machine emits into the table at the fake time. */
function wire(h: Harness, table: LeaseTable, clock: { nowMs: number }): void {
  const run = h.run.bind(h);
  h.run = (command, idempotency = null) => {
    const out = run(command, idempotency);
    for (const e of out.events) table.onEvent(e, clock.nowMs);
    return out;
  };
}

describe('LeaseTable', () => {
  it('a session is due exactly at its TTL after the last keepalive, never before', () => {
    const table = new LeaseTable();
    const created: LockEvent = { type: 'session.created', index: 1, sessionId: 's', ttlMs: 1_000 };
    table.onEvent(created, 0);
    expect(table.due(499)).toEqual(nothingDue);
    expect(table.keepalive('s', 500)).toBe(true);
    expect(table.due(999)).toEqual(nothingDue);
    expect(table.due(1_499).expire.sessionIds).toEqual([]);
    expect(table.due(1_500).expire.sessionIds).toEqual(['s']);
    // due() is a query: still listed until the committed end arrives.
    expect(table.due(1_600).expire.sessionIds).toEqual(['s']);
    table.onEvent({ type: 'session.ended', index: 2, sessionId: 's', reason: 'expired' }, 1_700);
    expect(table.due(10_000)).toEqual(nothingDue);
    expect(table.keepalive('s', 10_000)).toBe(false);
  });

  it('refuses a keepalive once the lease has run out, before the expiry is applied (FINDINGS F5)', () => {
    const table = new LeaseTable();
    table.onEvent({ type: 'session.created', index: 1, sessionId: 's', ttlMs: 1_000 }, 0);
    expect(table.keepalive('s', 999)).toBe(true);
    // Due at 1 999: the leader proposes its expiry; a keepalive then must not revive it.
    expect(table.due(1_999).expire.sessionIds).toEqual(['s']);
    expect(table.keepalive('s', 1_999)).toBe(false);
    expect(table.keepalive('s', 2_050)).toBe(false);
    expect(table.due(2_050).expire.sessionIds).toEqual(['s']);
  });

  it('time left is whole milliseconds (the monotonic clock is not): the watch stream\'s state event sends it as it is', () => {
    // http-api.md: integers are JSON numbers, durations ms. GET routes cut fractions in their
    // serializer; GET /v1/locks/{name}/watch's first `state` event sent expiresInMs 471316.218738.
    const h = new Harness();
    const table = new LeaseTable();
    const clock = { nowMs: 0.25 };
    wire(h, table, clock);
    h.session('s', { ttlMs: 1_000, lockDelayMs: 2_000 });
    const token = h.hold('t', { ttlMs: 1_000 });
    const left = table.deadlines(100.5);
    expect(left.sessionRemainingMs('s')).toBe(899);
    expect(left.holdRemainingMs('t', token)).toBe(899);
    expect(h.machine.getLock('t', left).holders[0].expiresInMs).toBe(899);
  });

  it('tracks TTL holds, extensions, lock-delays and waits from the machine events', () => {
    const h = new Harness();
    const table = new LeaseTable();
    const clock = { nowMs: 100 };
    wire(h, table, clock);
    h.session('s', { ttlMs: 5_000, lockDelayMs: 2_000 });
    const token = h.hold('t', { ttlMs: 1_000 });
    h.hold('d', { sessionId: 's' });
    const waitId = h.wait('t', { waitMs: 3_000 });
    clock.nowMs = 600;
    h.run({ type: 'lock.extend', name: 't', fencingToken: token, ttlMs: 1_000 });
    expect(table.due(1_100).expire.holds).toEqual([]);
    expect(table.due(1_600).expire.holds).toEqual([{ name: 't', fencingToken: token }]);
    expect(table.due(3_100).cancelWaits).toEqual([waitId]);
    expect(table.deadlines(1_100).holdRemainingMs('t', token)).toBe(500);
    expect(h.machine.getLock('t', table.deadlines(1_100)).holders[0].expiresInMs).toBe(500);

    clock.nowMs = 5_100;
    expect(table.due(5_100).expire.sessionIds).toEqual(['s']);
    h.expire({ sessionIds: ['s'] });
    expect(table.due(7_099).expire.lockDelays).toEqual([]);
    expect(table.due(7_100).expire.lockDelays).toEqual(['d']);
    clock.nowMs = 7_100;
    h.expire({ lockDelays: ['d'] });
    expect(table.due(7_100).expire.lockDelays).toEqual([]);
  });

  it('a granted wait stops its deadline', () => {
    const h = new Harness();
    const table = new LeaseTable();
    const clock = { nowMs: 0 };
    wire(h, table, clock);
    const token = h.hold('a');
    h.wait('a', { waitMs: 1_000 });
    h.release('a', token);
    expect(table.due(2_000).cancelWaits).toEqual([]);
    expect(table.due(6_000).expire.holds).toHaveLength(1); // the waiter's TTL hold, from the grant at 0
  });

  it('docs/safety.md #14: a new leader restarts every deadline in full plus grace, never shorter', () => {
    const h = new Harness();
    h.session('s', { ttlMs: 10_000, lockDelayMs: 3_000 });
    h.session('gone', { lockDelayMs: 3_000 });
    h.hold('d', { sessionId: 'gone' });
    h.expire({ sessionIds: ['gone'] });
    const token = h.hold('t', { ttlMs: 4_000 });
    const waitId = h.wait('t', { waitMs: 2_000 });
    const table = new LeaseTable();
    // The old leader may have heard a heartbeat just before it died: at 50_000 nothing may end before its full TTL.
    table.resetAll(h.machine, 50_000, 500);
    expect(table.due(50_000 + 500 + 1_999)).toEqual(nothingDue);
    expect(table.due(50_000 + 500 + 2_000).cancelWaits).toEqual([waitId]);
    expect(table.due(50_000 + 500 + 3_000).expire.lockDelays).toEqual(['d']);
    expect(table.due(50_000 + 500 + 4_000).expire.holds).toEqual([{ name: 't', fencingToken: token }]);
    expect(table.due(50_000 + 500 + 9_999).expire.sessionIds).toEqual([]);
    expect(table.due(50_000 + 500 + 10_000).expire.sessionIds).toEqual(['s']);
    // A keepalive soon after failover does not cut the grace.
    const again = new LeaseTable();
    again.resetAll(h.machine, 0, 500);
    again.keepalive('s', 100);
    expect(again.due(10_499).expire.sessionIds).toEqual([]);
    expect(again.nextDeadlineMs()).toBe(2_500);
  });

  it('a clock reading older than one already seen is treated as the newer one (never early)', () => {
    const table = new LeaseTable();
    table.onEvent({ type: 'session.created', index: 1, sessionId: 's', ttlMs: 1_000 }, 5_000);
    // A late report with an older timestamp starts the hold's deadline from 5_000, not 1_000.
    table.onEvent({ type: 'acquired', index: 2, name: 'x', fencingToken: 2, sessionId: null, ttlMs: 1_000 }, 1_000);
    expect(table.due(5_999)).toEqual(nothingDue);
    expect(table.due(6_000).expire.holds).toEqual([{ name: 'x', fencingToken: 2 }]);
  });

  it('clear() on losing leadership leaves nothing to end', () => {
    const table = new LeaseTable();
    table.onEvent({ type: 'session.created', index: 1, sessionId: 's', ttlMs: 1_000 }, 0);
    table.clear();
    expect(table.due(1_000_000)).toEqual(nothingDue);
    expect(table.nextDeadlineMs()).toBeNull();
  });
});
