// Idempotency records (docs/safety.md #15) and snapshot/restore.
import { describe, expect, it } from 'vitest';
import { encodeProposal } from '../../src/locks/codec.js';
import { IdempotencyTable } from '../../src/locks/idempotency.js';
import { IDEMPOTENCY_KEYED_WRITES_PER_SECOND, IDEMPOTENCY_RECORD_AGE_MS_MAX, IDEMPOTENCY_RECORDS_MAX, RESTORE_TOKEN_GAP } from '../../src/locks/limits.js';
import { raiseTokenFloor } from '../../src/locks/snapshot.js';
import { LockMachine } from '../../src/locks/machine.js';
import { logIndex, term } from '../../src/raft/types.js';
import { Harness, acquireCmd, errorCode, outcomeOf, resolved } from './harness.js';

const idem = (key: string, path = '/v1/locks/a/acquire', method = 'POST') => ({ key, method, path });

describe('idempotency', () => {
  it('a repeat with the same key returns the first outcome without executing', () => {
    const h = new Harness();
    const first = h.run(acquireCmd('a'), idem('k1'));
    const again = h.run(acquireCmd('a'), idem('k1'));
    expect(again.result).toEqual(first.result);
    expect(again.events).toEqual([]);
    expect(h.machine.getLock('a').holders).toHaveLength(1);
  });

  it('lookupIdempotency answers what applying the repeat would, without changing anything', () => {
    const h = new Harness();
    expect(h.machine.lookupIdempotency('k1', 'POST', '/v1/locks/a/acquire')).toEqual({ kind: 'miss' });
    const first = outcomeOf(h.run(acquireCmd('a'), idem('k1')).result);
    expect(h.machine.lookupIdempotency('k1', 'POST', '/v1/locks/a/acquire')).toEqual({ kind: 'done', outcome: first });
    expect(h.machine.lookupIdempotency('k1', 'POST', '/v1/locks/b/acquire').kind).toBe('conflict');
  });

  it('the same key on another path or method is 409 idempotency_conflict', () => {
    const h = new Harness();
    h.run(acquireCmd('a'), idem('k1'));
    expect(errorCode(outcomeOf(h.run(acquireCmd('b'), idem('k1', '/v1/locks/b/acquire')).result))).toBe('idempotency_conflict');
    expect(errorCode(outcomeOf(h.run(acquireCmd('a'), idem('k1', '/v1/locks/a/acquire', 'PUT')).result))).toBe('idempotency_conflict');
    expect(h.machine.getLock('b').holders).toEqual([]);
  });

  it('a repeat while the first is waiting gets the same wait; after it resolves, its outcome', () => {
    const h = new Harness();
    const token = h.hold('a');
    const cmd = acquireCmd('a', { waitMs: 10_000, waitId: 'w-first' });
    expect(h.run(cmd, idem('k')).result).toEqual({ kind: 'queued', waitId: 'w-first' });
    expect(h.run({ ...cmd, waitId: 'w-retry' }, idem('k')).result).toEqual({ kind: 'queued', waitId: 'w-first' });
    expect(h.machine.getLock('a').waiters).toHaveLength(1);
    const { events } = h.release('a', token);
    const granted = resolved(events, 'w-first');
    expect(h.run({ ...cmd, waitId: 'w-retry2' }, idem('k')).result).toEqual({ kind: 'done', outcome: granted });
  });

  it('records live at least 10 minutes by the proposals clock, then are forgotten', () => {
    const h = new Harness();
    h.run(acquireCmd('a'), idem('old'));
    h.nowMs += 10 * 60_000;
    expect(h.run(acquireCmd('a'), idem('old')).events).toEqual([]);
    h.nowMs += 10 * 60_000;
    // Well past the age limit: the key is forgotten and the command runs again.
    const rerun = outcomeOf(h.run(acquireCmd('b'), idem('old', '/v1/locks/b/acquire')).result);
    expect(rerun.body).toMatchObject({ acquired: true, name: 'b' });
  });

  it('a leader clock that went back does not age a new record early (ages use the max nowMs seen)', () => {
    const h = new Harness();
    h.run(acquireCmd('x'), idem('first'));
    h.nowMs -= 60 * 60_000; // a new leader whose wall clock is an hour behind
    h.run(acquireCmd('a'), idem('young'));
    h.nowMs += 60 * 60_000 + 9 * 60_000; // clocks agree again, 9 minutes after 'young' was recorded
    expect(h.run(acquireCmd('a'), idem('young')).events).toEqual([]);
    expect(h.machine.getLock('a').holders).toHaveLength(1);
  });

  it('the table is bounded and keeps every record its full age: a full table refuses new keys', () => {
    const table = new IdempotencyTable(2, 1_000);
    const o = { status: 200, body: {} };
    table.record('a', 'POST', '/x', 0, o, null);
    table.record('b', 'POST', '/x', 1, o, null);
    expect(table.hasRoom()).toBe(false);
    expect(table.fullAt(1_000)).toBe(true);
    expect(() => table.record('c', 'POST', '/x', 2, o, null)).toThrow(/full/);
    expect(table.lookup('a', 'POST', '/x').kind).toBe('done');
    // Once the oldest is past its age there is room again.
    expect(table.fullAt(1_001)).toBe(false);
    table.prune(1_001);
    expect(table.lookup('a', 'POST', '/x').kind).toBe('miss');
    expect(table.lookup('b', 'POST', '/x').kind).toBe('done');
    expect(table.hasRoom()).toBe(true);
  });

  it('a machine with a full table answers a new key 429 limit_exceeded, executes nothing and records nothing; known keys still replay', () => {
    const h = new Harness(new LockMachine({ idempotencyRecordsMax: 3 }));
    const first = outcomeOf(h.run(acquireCmd('a'), idem('k1')).result);
    h.run(acquireCmd('b'), idem('k2', '/v1/locks/b/acquire'));
    h.run(acquireCmd('c'), idem('k3', '/v1/locks/c/acquire'));
    const refused = h.run(acquireCmd('d'), idem('k4', '/v1/locks/d/acquire'));
    expect(errorCode(outcomeOf(refused.result))).toBe('limit_exceeded');
    expect(outcomeOf(refused.result).status).toBe(429);
    expect(refused.events).toEqual([]);
    expect(h.machine.getLock('d').holders).toEqual([]);
    expect(h.machine.lookupIdempotency('k4', 'POST', '/v1/locks/d/acquire')).toEqual({ kind: 'miss' });
    // Nine minutes on, the young records are all still there (nothing evicted), and k1 still replays.
    h.nowMs += 9 * 60_000;
    expect(outcomeOf(h.run(acquireCmd('a'), idem('k1')).result)).toEqual(first);
    expect(h.machine.idempotencyFullAt(h.nowMs)).toBe(true);
    // Unkeyed commands are not limited by the table.
    expect(outcomeOf(h.run(acquireCmd('e')).result).status).toBe(200);
    // Past the age limit the oldest go, and the same key k4 now executes.
    h.nowMs += 3 * 60_000;
    expect(h.machine.idempotencyFullAt(h.nowMs)).toBe(false);
    expect(outcomeOf(h.run(acquireCmd('d'), idem('k4', '/v1/locks/d/acquire')).result).status).toBe(200);
  });

  it('keeps every record for at least 10 minutes (the contract) and at most the named age', () => {
    expect(IDEMPOTENCY_RECORD_AGE_MS_MAX).toBeGreaterThanOrEqual(10 * 60_000);
    expect(IDEMPOTENCY_RECORDS_MAX).toBe(IDEMPOTENCY_KEYED_WRITES_PER_SECOND * IDEMPOTENCY_RECORD_AGE_MS_MAX / 1_000);
  });
});

describe('snapshot and restore', () => {
  it('a restored machine answers queries and later commands exactly like the original', () => {
    const h = new Harness();
    h.session('s1', { lockDelayMs: 1_000 });
    h.session('s2');
    h.hold('a', { sessionId: 's1' });
    h.hold('sem', { limit: 3, owner: 'o', value: 'v' });
    h.wait('a', { sessionId: 's2' });
    h.wait('a', { mode: 'shared' });
    h.run({ type: 'election.campaign', name: 'e', sessionId: 's2', value: 'x', waitMs: 0, waitId: null });
    h.run(acquireCmd('z', { waitMs: 100, waitId: 'wz' }), { key: 'k', method: 'POST', path: '/p' });

    const copy = new LockMachine();
    copy.restore(h.machine.snapshot(), logIndex(h.index));
    expect(copy.snapshot()).toEqual(h.machine.snapshot());
    expect(copy.appliedIndex()).toBe(h.index);
    for (const m of [h.machine, copy]) expect(m.getSession('s1')).toEqual(h.machine.getSession('s1'));
    expect(copy.listLocks()).toEqual(h.machine.listLocks());
    expect(copy.allWaits()).toEqual(h.machine.allWaits());

    const next = { command: { type: 'expire' as const, sessionIds: ['s1'], holds: [], lockDelays: [] }, nowMs: h.nowMs, idempotency: null };
    const a = h.machine.applyProposal(h.index + 1, next);
    const b = copy.applyProposal(h.index + 1, next);
    expect(b).toEqual(a);
    expect(copy.snapshot()).toEqual(h.machine.snapshot());
  });

  it('a cluster restored from a backup grants tokens (and terms) at least RESTORE_TOKEN_GAP above the backup\'s; nothing else changes', () => {
    const h = new Harness();
    h.session('s1');
    const held = h.hold('a', { sessionId: 's1' });
    h.hold('sem', { limit: 3, owner: 'o', value: 'v' });
    h.run({ type: 'election.campaign', name: 'e', sessionId: 's1', value: 'x', waitMs: 0, waitId: null });
    const last = h.machine.lastFencingToken();
    const raised = raiseTokenFloor(h.machine.snapshot(), RESTORE_TOKEN_GAP);
    // Every node restored from one file starts from the same bytes.
    expect(raiseTokenFloor(h.machine.snapshot(), RESTORE_TOKEN_GAP)).toEqual(raised);
    const restored = new Harness(new LockMachine());
    restored.machine.restore(raised, logIndex(h.index));
    restored.index = h.index;
    expect(restored.machine.lastFencingToken()).toBe(last + RESTORE_TOKEN_GAP);
    expect(restored.machine.listLocks()).toEqual(h.machine.listLocks());
    expect(restored.machine.getLock('a').holders[0].fencingToken).toBe(held);
    expect(restored.hold('b')).toBe(last + RESTORE_TOKEN_GAP + 1);
    restored.run({ type: 'election.resign', name: 'e', term: h.machine.getElection('e').leader!.term });
    restored.run({ type: 'election.campaign', name: 'e', sessionId: 's1', value: 'y', waitMs: 0, waitId: null });
    expect(restored.machine.getElection('e').leader!.term).toBeGreaterThan(last + RESTORE_TOKEN_GAP);
    // A file whose state is not a lock snapshot is refused, not restored.
    expect(() => raiseTokenFloor(encodeProposal({ command: { type: 'expire', sessionIds: [], holds: [], lockDelays: [] }, nowMs: 0, idempotency: null }), RESTORE_TOKEN_GAP)).toThrow(/snapshot version/);
  });

  it('apply() decodes msgpack entries and returns the result with the events, in order', () => {
    const m = new LockMachine();
    const { result, events } = m.apply({
      index: logIndex(7),
      term: term(1),
      data: encodeProposal({ command: { type: 'session.create', sessionId: 's', ttlMs: 1_000, name: '', lockDelayMs: 0 }, nowMs: 0, idempotency: null }),
    });
    expect(result).toEqual({ kind: 'done', outcome: { status: 201, body: { sessionId: 's', ttlMs: 1_000, lockDelayMs: 0, name: '' } } });
    expect(events).toEqual([{ type: 'session.created', index: 7, sessionId: 's', ttlMs: 1_000 }]);
    expect(() => m.apply({ index: logIndex(7), term: term(1), data: new Uint8Array() })).toThrow(/invariant/);
  });
});
