// The simulator with the lock state machine on every node (machine: 'locks'):
// real Raft cores over the faulty network, each node running a real
// LockMachine restored from Raft snapshots and after crashes, the clients
// proposing meaningful lock commands; the lock invariants (lock-checker.ts)
// are checked on every node after every applied entry and restore. Plus: the
// lock checker can fail (doctored states), and the default machine is untouched.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LockCommand, LockEvent, LockProposal } from '../../src/locks/commands.js';
import { LockMachine } from '../../src/locks/machine.js';
import { logIndex } from '../../src/raft/types.js';
import type { SnapshotData } from '../../src/locks/state.js';
import { acquireCmd, acquireSetCmd, NOW_MS } from '../locks/harness.js';
import { allOrNothingViolation, checkFifo, checkLockState, decodeLockState, LockChecker } from './lock-checker.js';
import { loadRaft } from './raft-factory.js';
import { describeFailure, replayCommand } from './replay.js';
import { runSimulation } from './simulation.js';
import { InvariantViolation } from './violation.js';

const Raft = await loadRaft();

/** Schedules per cluster size: 2 × 160 runs of ≥ 300 chaos steps (~7 s on this machine). */
const RUNS_PER_CLUSTER_SIZE = 160;
const CHAOS_STEPS_MIN = 300;
const CHAOS_STEPS_MAX = 340;
const BULK_TIMEOUT_MS = 120_000;

const schedule = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  steps: fc.integer({ min: CHAOS_STEPS_MIN, max: CHAOS_STEPS_MAX }),
});

describe('simulated cluster running the lock state machine', () => {
  for (const nodes of [3, 5]) {
    it(
      `${RUNS_PER_CLUSTER_SIZE} random schedules on ${nodes} nodes keep every Raft and lock safety property`,
      async () => {
        await fc.assert(
          fc.asyncProperty(schedule, async ({ seed, steps }) => {
            const r = await runSimulation({ seed, nodes, steps, machine: 'locks' }, Raft);
            if (r.failure) throw new Error(describeFailure(r));
          }),
          { numRuns: RUNS_PER_CLUSTER_SIZE },
        );
      },
      BULK_TIMEOUT_MS,
    );
  }

  it('a locks run does something: grants, lock applies on every node, snapshot restores, crashes', async () => {
    let grants = 0;
    let applies = 0;
    let restores = 0;
    let crashes = 0;
    const kinds = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const r = await runSimulation({ seed, nodes: 5, steps: 300, machine: 'locks', trace: true }, Raft);
      expect(r.failure).toBeNull();
      grants += r.stats.lockGrants;
      applies += r.stats.lockApplies;
      restores += r.stats.snapshotsRestored;
      crashes += r.stats.crashes;
      for (const line of r.trace) {
        const m = / lock \d+: (\{.*\})$/.exec(line);
        if (!m) continue;
        type Body = { error?: { code: string }; acquired?: boolean };
        const result = JSON.parse(m[1]) as { kind: string; outcome?: { status: number; body: Body } };
        const body = result.outcome?.body as (Body & { holds?: unknown; blocked?: unknown }) | undefined;
        kinds.add(result.kind === 'queued' ? 'queued' : `${result.outcome!.status}:${body?.error?.code ?? body?.acquired ?? ''}`);
        if (body?.holds !== undefined) kinds.add('set:granted');
        if (body?.blocked !== undefined) kinds.add('set:blocked');
      }
    }
    // Guards against a generator whose commands never reach real state.
    expect(grants).toBeGreaterThan(10 * 20);
    expect(applies).toBeGreaterThan(10 * 200);
    expect(restores).toBeGreaterThan(0);
    expect(crashes).toBeGreaterThan(10);
    for (const kind of ['queued', '200:true', '200:false', '201:', '404:session_not_found', '409:not_holder', '409:limit_mismatch', '409:idempotency_conflict', 'set:granted', 'set:blocked']) {
      expect(kinds, `outcome kinds seen: ${[...kinds].join(', ')}`).toContain(kind);
    }
  });

  it('a locks seed replays to an identical trace, and its replay command names the machine', async () => {
    const options = { seed: 77, nodes: 3, steps: 300, machine: 'locks' as const, trace: true };
    const first = await runSimulation(options, Raft);
    const second = await runSimulation(options, Raft);
    expect(second.trace).toEqual(first.trace);
    expect(replayCommand(first)).toContain('--machine locks');
  });

  it("the default machine is unchanged: machine 'kv' gives the same trace as no machine option", async () => {
    const a = await runSimulation({ seed: 4242, nodes: 5, steps: 300, trace: true }, Raft);
    const b = await runSimulation({ seed: 4242, nodes: 5, steps: 300, trace: true, machine: 'kv' }, Raft);
    expect(b.trace).toEqual(a.trace);
    expect(a.stats.lockApplies).toBe(0);
    expect(replayCommand(a)).not.toContain('--machine');
  });
});

// ---- the checker can fail ----

function stateAfter(build: (m: LockMachine, at: () => number) => void): SnapshotData {
  const m = new LockMachine();
  let index = 0;
  build(m, () => ++index);
  return decodeLockState(m.snapshot());
}

const proposalOf = (command: LockCommand): LockProposal => ({ command, nowMs: NOW_MS, idempotency: null });

function run(m: LockMachine, index: number, command: LockCommand) {
  return m.applyProposal(index, proposalOf(command));
}

const twoHolders = (): SnapshotData =>
  stateAfter((m, at) => {
    run(m, at(), { type: 'session.create', sessionId: 's1', ttlMs: 10_000, name: 's1', lockDelayMs: 0 });
    run(m, at(), acquireCmd('a', { sessionId: 's1' }));
    run(m, at(), acquireCmd('b', { ttlMs: 5_000, mode: 'exclusive', limit: 2 }));
    run(m, at(), acquireCmd('b', { ttlMs: 5_000, mode: 'exclusive', limit: 2 }));
  });

function expectLockViolation(f: () => void, message: RegExp): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvariantViolation);
    expect((err as InvariantViolation).property).toBe('lock safety');
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('the lock checker accepted a doctored state');
}

describe('the lock checker fails on doctored states', () => {
  it('accepts a real state', async () => {
    expect(() => checkLockState('real', twoHolders())).not.toThrow();
  });

  it('more exclusive holders than the limit', async () => {
    const s = twoHolders();
    s.locks.find((l) => l.name === 'b')!.limit = 1;
    expectLockViolation(() => checkLockState('doctored', s), /2 exclusive holders, limit 1/);
  });

  it('exclusive and shared holders together', async () => {
    const s = twoHolders();
    s.locks.find((l) => l.name === 'b')!.holders[1].mode = 'shared';
    expectLockViolation(() => checkLockState('doctored', s), /exclusive and shared/);
  });

  it('a holder whose session has ended', async () => {
    const s = twoHolders();
    s.sessions = [];
    expectLockViolation(() => checkLockState('doctored', s), /ended session s1/);
  });

  it('a waiter granted before one queued ahead of it (FIFO)', async () => {
    const m = new LockMachine();
    let index = 0;
    run(m, ++index, acquireCmd('a', { ttlMs: 5_000 }));
    run(m, ++index, acquireCmd('a', { ttlMs: 5_000, waitMs: 1_000, waitId: 'w1' }));
    run(m, ++index, acquireCmd('a', { ttlMs: 5_000, waitMs: 1_000, waitId: 'w2' }));
    const before = decodeLockState(m.snapshot());
    const out = run(m, ++index, { type: 'lock.release', name: 'a', fencingToken: 1 });
    const after = decodeLockState(m.snapshot());
    expect(() => checkFifo('real', before, after, out.events)).not.toThrow();
    // Doctor the history: the grant went to w2 while w1 still waits.
    const doctored: LockEvent[] = out.events.map((e) => (e.type === 'dequeued' ? { ...e, waitId: 'w2' } : e));
    const doctoredAfter = structuredClone(after);
    doctoredAfter.locks[0].waiters = [before.locks[0].waiters[0]];
    expectLockViolation(() => checkFifo('doctored', before, doctoredAfter, doctored), /granted waiter w2 while w1/);
  });

  it('a lock set at the head of its lines that is ready on all of them (lost wakeup), or with a place missing', async () => {
    const m = new LockMachine();
    let index = 0;
    run(m, ++index, acquireCmd('a', { ttlMs: 5_000 }));
    run(m, ++index, acquireSetCmd(['a', 'b'], { waitMs: 1_000, waitId: 'set' }));
    const s = decodeLockState(m.snapshot());
    expect(() => checkLockState('real', s)).not.toThrow();
    const ready = structuredClone(s);
    ready.locks.find((l) => l.name === 'a')!.holders = [];
    ready.locks.find((l) => l.name === 'a')!.mode = null;
    expectLockViolation(() => checkLockState('doctored', ready), /lock set set is ready on all its locks/);
    const missing = structuredClone(s);
    missing.locks.find((l) => l.name === 'b')!.waiters = [];
    expectLockViolation(() => checkLockState('doctored', missing), /0 places on b/);
  });

  it('a hold granted at once while others wait in that line (overtaking)', async () => {
    const m = new LockMachine();
    run(m, 1, acquireCmd('a', { ttlMs: 5_000, waitMs: 0 }));
    const before = decodeLockState(m.snapshot());
    before.locks[0].waiters = [{ waitId: 'w0', sessionId: null, ttlMs: 5_000, mode: 'exclusive', limit: 1, owner: null, value: null, waitMs: 1_000 }];
    const events: LockEvent[] = [{ type: 'acquired', index: 2, name: 'a', fencingToken: 2, sessionId: null, ttlMs: 5_000 }];
    expectLockViolation(() => checkFifo('doctored', before, before, events), /at once while 1 waited in line/);
  });

  it('a lock set granted in part: a hold made but answered to nobody, a grant that misses a lock', async () => {
    const m = new LockMachine();
    run(m, 1, acquireCmd('a', { ttlMs: 5_000 }));
    const before = decodeLockState(m.snapshot());
    const ask = proposalOf(acquireSetCmd(['b', 'c'], { ttlMs: 5_000 }));
    const out = m.applyProposal(2, ask);
    const after = decodeLockState(m.snapshot());
    expect(allOrNothingViolation(ask, out, before, after)).toBeNull();
    // Doctored: the set answered "not acquired" though the command granted its locks.
    const notAcquired = { ...out, result: { kind: 'done' as const, outcome: { status: 200, body: { acquired: false, blocked: [] } } } };
    expect(allOrNothingViolation(ask, notAcquired, before, after)).toMatch(/hold b\/2 was made but answered to nobody/);
    // Doctored: the answer names only one of the two locks asked for.
    const body = out.result.kind === 'done' ? (out.result.outcome.body as { holds: unknown[] }) : null;
    const oneHold = { ...out, result: { kind: 'done' as const, outcome: { status: 200, body: { ...body, holds: body!.holds.slice(0, 1) } } } };
    expect(allOrNothingViolation(ask, oneHold, before, after)).toMatch(/asked for b, c and was granted b/);
    // Doctored: a waiting set granted on one of its locks only (its place on c left, no hold there).
    run(m, 3, acquireCmd('d', { ttlMs: 5_000 }));
    run(m, 4, acquireSetCmd(['a', 'd'], { ttlMs: 5_000, waitMs: 1_000, waitId: 'set' }));
    const queued = decodeLockState(m.snapshot());
    const release = proposalOf({ type: 'lockSet.release', holds: [{ name: 'a', fencingToken: 1 }, { name: 'd', fencingToken: 4 }] });
    const granted = m.applyProposal(5, release);
    const grantedState = decodeLockState(m.snapshot());
    expect(allOrNothingViolation(release, granted, queued, grantedState)).toBeNull();
    const inPart = granted.events.filter((e) => !(e.type === 'acquired' && e.name === 'd'));
    const partState = structuredClone(grantedState);
    partState.locks.find((l) => l.name === 'd')!.holders = [];
    expect(allOrNothingViolation(release, { ...granted, events: inPart }, queued, partState)).toMatch(/answered hold d\/\d+, which was neither granted now nor held/);
  });

  it('fencing tokens that do not increase', async () => {
    const m = new LockMachine();
    run(m, 1, acquireCmd('a', { ttlMs: 5_000 }));
    const checker = new LockChecker();
    const grant = (index: number, token: number) => ({
      proposal: proposalOf(acquireCmd('a', { ttlMs: 5_000 })),
      result: { kind: 'done' as const, outcome: { status: 200, body: {} } },
      events: [{ type: 'acquired' as const, index, name: 'a', fencingToken: token, sessionId: null, ttlMs: 5_000 }],
    });
    checker.observeApplied('n1', 'n1#1', 1, m.snapshot(), grant(1, 1));
    expectLockViolation(() => checker.observeApplied('n1', 'n1#1', 2, m.snapshot(), grant(2, 1)), /tokens must strictly increase/);
  });

  it('two replicas with different states or answers at one index', async () => {
    const a = new LockMachine();
    const b = new LockMachine();
    run(a, 1, acquireCmd('a', { ttlMs: 5_000 }));
    run(b, 1, acquireCmd('b', { ttlMs: 5_000 }));
    const checker = new LockChecker();
    checker.observeApplied('n1', 'n1#1', 1, a.snapshot(), null);
    expectLockViolation(() => checker.observeApplied('n2', 'n2#1', 1, b.snapshot(), null), /different lock states after index 1/);
    const answer = (status: number) => ({ proposal: proposalOf(acquireCmd('a', { ttlMs: 5_000 })), result: { kind: 'done' as const, outcome: { status, body: {} } }, events: [] });
    checker.observeApplied('n1', 'n1#1', 2, a.snapshot(), answer(200));
    expectLockViolation(() => checker.observeApplied('n3', 'n3#1', 2, a.snapshot(), answer(409)), /answered .* at index 2/);
  });
});

// ---- FINDINGS.md F5 ----

describe('F5 (fixed): replica lock snapshots at one index are byte-identical', () => {
  /** n1 applies an acquire at 1 and a no-op at 2 (not fed to the machine, as src/node/node.ts does); n2 restores n1's Raft snapshot at 2. */
  function replicas(): { applied: Uint8Array; restored: Uint8Array } {
    const n1 = new LockMachine();
    run(n1, 1, acquireCmd('a', { ttlMs: 5_000 }));
    const n2 = new LockMachine();
    n2.restore(n1.snapshot(), logIndex(2));
    return { applied: n1.snapshot(), restored: n2.snapshot() };
  }

  it('a restore keeps the machine\'s own applied index', () => {
    const { restored } = replicas();
    expect(decodeLockState(restored).appliedIndex).toBe(1);
  });

  it('two replicas at one index have byte-identical snapshot() output', async () => {
    const { applied, restored } = replicas();
    expect(Buffer.from(restored).equals(Buffer.from(applied))).toBe(true);
  });
});
