// The seeded cluster simulator as a test: thousands of random schedules of
// partitions, crashes (including inside Ready handling), lossy reordering
// network, membership changes and leadership transfers against the real Raft
// core, with every safety property checked at every step and liveness after
// the heal. A failure prints the seed and the command that replays it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRaft } from './raft-factory.js';
import { describeFailure } from './replay.js';
import { runSimulation } from './simulation.js';

const Raft = await loadRaft();

/** Schedules per cluster size; 2 × 1000 runs of ≥ 300 chaos steps (~25 s on this machine). */
const RUNS_PER_CLUSTER_SIZE = 1000;
const CHAOS_STEPS_MIN = 300;
const CHAOS_STEPS_MAX = 340;
const BULK_TIMEOUT_MS = 180_000;

const schedule = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  steps: fc.integer({ min: CHAOS_STEPS_MIN, max: CHAOS_STEPS_MAX }),
});

describe('simulated cluster (Raft paper Figure 3 properties + liveness after heal)', () => {
  for (const nodes of [3, 5]) {
    it(
      `${RUNS_PER_CLUSTER_SIZE} random schedules on ${nodes} nodes keep every safety property and recover after the heal`,
      async () => {
        await fc.assert(
          fc.asyncProperty(schedule, async ({ seed, steps }) => {
            const r = await runSimulation({ seed, nodes, steps }, Raft);
            if (r.failure) throw new Error(describeFailure(r));
          }),
          { numRuns: RUNS_PER_CLUSTER_SIZE },
        );
      },
      BULK_TIMEOUT_MS,
    );
  }
});

/** Schedules with corrupted messages from members (issue 10); fewer, the property is the same. */
const CORRUPT_RUNS = 300;

describe('simulated cluster whose members send corrupted messages (fields out of range, stray terms, TimeoutNow from followers)', () => {
  it(
    `${CORRUPT_RUNS} random schedules on 3 and 5 nodes: every safety property holds, no node throws, and the cluster recovers after the heal`,
    async () => {
      let refused = 0;
      let stepped = 0;
      await fc.assert(
        fc.asyncProperty(schedule, fc.constantFrom(3, 5), async ({ seed, steps }, nodes) => {
          const r = await runSimulation({ seed, nodes, steps, corruptMessages: true }, Raft);
          if (r.failure) throw new Error(describeFailure(r));
          refused += r.stats.corruptRefused;
          stepped += r.stats.corruptStepped;
        }),
        { numRuns: CORRUPT_RUNS },
      );
      // Both paths are exercised: refused outright, and stepped (left to stickiness and Raft's rules).
      expect(refused).toBeGreaterThan(1000);
      expect(stepped).toBeGreaterThan(100);
    },
    BULK_TIMEOUT_MS,
  );
});

/** Schedules where leaders die with their connections closing, and members are told (reportPeerDown); fewer runs, same property. */
const PEER_DOWN_RUNS = 300;

describe('simulated cluster whose leader processes die with their connections closing (reportPeerDown), with wrong hints too', () => {
  it(
    `${PEER_DOWN_RUNS} random schedules on 3 and 5 nodes keep every safety property and recover after the heal`,
    async () => {
      let kills = 0;
      let reports = 0;
      await fc.assert(
        fc.asyncProperty(schedule, fc.constantFrom(3, 5), async ({ seed, steps }, nodes) => {
          const r = await runSimulation({ seed, nodes, steps, peerDownFaults: true }, Raft);
          if (r.failure) throw new Error(describeFailure(r));
          kills += r.stats.leaderKills;
          reports += r.stats.peerDownReports;
        }),
        { numRuns: PEER_DOWN_RUNS },
      );
      // Not vacuous: leaders were killed and hints were acted on.
      expect(kills).toBeGreaterThan(PEER_DOWN_RUNS);
      expect(reports).toBeGreaterThan(3 * PEER_DOWN_RUNS);
    },
    BULK_TIMEOUT_MS,
  );
});

describe('replay', () => {
  it('a seed replays to an identical trace', async () => {
    const options = { seed: 424242, nodes: 5, steps: 300, trace: true };
    const first = await runSimulation(options, Raft);
    const second = await runSimulation(options, Raft);
    expect(first.trace.length).toBeGreaterThan(1000);
    expect(second.trace).toEqual(first.trace);
    expect(second.stats).toEqual(first.stats);
  });

  it('different seeds give different schedules', async () => {
    const a = await runSimulation({ seed: 1, nodes: 3, steps: 300, trace: true }, Raft);
    const b = await runSimulation({ seed: 2, nodes: 3, steps: 300, trace: true }, Raft);
    expect(a.trace).not.toEqual(b.trace);
  });

  it('a run does something: leaders, commits, reads, crashes and partitions happen', async () => {
    let leaders = 0;
    let committed = 0;
    let reads = 0;
    let crashes = 0;
    let partitions = 0;
    let confChanges = 0;
    let readdsRefused = 0;
    let snapshots = 0;
    let superseded = 0;
    for (let seed = 0; seed < 20; seed++) {
      const { stats } = await runSimulation({ seed, nodes: 5, steps: 300 }, Raft);
      leaders += stats.leadersElected;
      committed += stats.committed;
      reads += stats.readsServed;
      crashes += stats.crashes;
      partitions += stats.partitions;
      confChanges += stats.confChanges;
      readdsRefused += stats.readdsRefused;
      snapshots += stats.snapshotsRestored;
      superseded += stats.appendsSuperseded;
    }
    // Guards against a simulator that silently checks nothing (e.g. no leader ever elected).
    expect(leaders).toBeGreaterThan(20);
    expect(committed).toBeGreaterThan(20 * 30);
    expect(reads).toBeGreaterThan(20);
    expect(crashes).toBeGreaterThan(20);
    expect(partitions).toBeGreaterThan(20);
    expect(confChanges).toBeGreaterThan(5);
    // The nemesis asked to add removed ids again, and was refused (an id that got in fails the run).
    expect(readdsRefused).toBeGreaterThan(0);
    expect(snapshots).toBeGreaterThan(0);
    // Leaders hold commit notices (each node draws its hold) and later Appends replace some of them.
    expect(superseded).toBeGreaterThan(0);
  });
});
