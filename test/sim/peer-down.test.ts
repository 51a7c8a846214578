// The leader's process dies and its connections close (kill -9): members are
// told (reportPeerDown), each at its own step, and a new leader comes within
// a few ticks instead of an election timeout; election safety is checked at
// every step (Checker). And a wrong hint (a connection drop under a live
// leader) never moves the term. Scripted clusters of real SimNodes (the
// node's Ready handler) over a fair network, many seeds.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/raft/types.js';
import { ELECTION_TIMEOUT_TICKS } from './params.js';
import { Prng } from './prng.js';
import { loadRaft } from './raft-factory.js';
import { ScriptedCluster } from './scripted-cluster.js';

const Raft = await loadRaft();

const SEEDS = 40;
/** In the spread runs, members notice the closed connection within this many steps of each other. */
const NOTICE_STEPS_MAX = 2;
/**
 * New leader after the kill, when members notice in the same step (on a real machine they notice
 * within milliseconds, far less than a tick): the members' turns (two ticks each, at most nodes - 2
 * of them, when the first in turn is behind), and pre-vote + vote round trips (4 one-step hops)
 * with slack. Far below the election timeout (ELECTION_TIMEOUT_TICKS, drawn in [E, 2E)).
 */
const fastBound = (nodes: number): number => 1 + 2 * (nodes - 2) + 6;

async function steadyCluster(nodes: number, seed: number): Promise<ScriptedCluster> {
  const c = new ScriptedCluster(Raft, nodes, seed);
  expect(await c.runUntil(() => c.leader() !== null, 10 * ELECTION_TIMEOUT_TICKS)).toBe(true);
  c.propose('before');
  await c.runSteps(3 * ELECTION_TIMEOUT_TICKS);
  return c;
}

const termsOf = (c: ScriptedCluster): number[] => [...c.nodes.values()].filter((n) => n.raft).map((n) => n.raft!.status().term);

/** Kill the leader; tell the others (each after 0..spread steps, drawn from rng; never without rng). Steps until a new leader. */
async function killLeader(c: ScriptedCluster, rng: Prng | null, spread = 0): Promise<number> {
  const old = c.leader()!;
  const oldTerm = old.raft!.status().term;
  old.crash('kill -9');
  const pending = new Map<NodeId, number>();
  // The close reaches a member after everything the leader sent before it died (one TCP stream): the
  // hint comes at step 1 at the earliest, after the messages in flight at the kill.
  for (const n of c.nodes.values()) if (n.raft && rng) pending.set(n.id as NodeId, 1 + rng.int(spread + 1));
  let steps = 0;
  while (!(c.leader() && c.leader()!.raft!.status().term > oldTerm)) {
    for (const [id, at] of pending) {
      if (at <= steps) {
        c.node(id).raft?.reportPeerDown(old.id as NodeId);
        pending.delete(id);
      }
    }
    await c.runSteps(1);
    steps++;
    if (steps > 10 * ELECTION_TIMEOUT_TICKS) throw new Error('no new leader');
  }
  return steps;
}

describe('leader process dies, connections close (reportPeerDown)', () => {
  for (const nodes of [3, 5]) {
    it(`${nodes} nodes, ${SEEDS} seeds: a new leader within ${fastBound(nodes)} ticks, every committed entry kept`, async () => {
      const worst: number[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const c = await steadyCluster(nodes, seed);
        const steps = await killLeader(c, new Prng(seed));
        worst.push(steps);
        expect(steps, `seed ${seed}`).toBeLessThanOrEqual(fastBound(nodes));
        const leader = c.leader()!;
        c.propose('after');
        await c.runSteps(8);
        for (const n of c.nodes.values()) {
          if (!n.raft) continue;
          expect(n.sm.has('before'), `${n.id} seed ${seed}`).toBe(true);
          expect(n.sm.has('after'), `${n.id} seed ${seed}`).toBe(true);
        }
        expect(c.leader()).toBe(leader);
      }
    });
  }

  it(`members that notice up to ${NOTICE_STEPS_MAX} steps apart: safe, and mostly fast (a crossed pre-vote costs an election timeout, as without the hint)`, async () => {
    let fast = 0;
    let runs = 0;
    for (const nodes of [3, 5]) {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const c = await steadyCluster(nodes, seed);
        const steps = await killLeader(c, new Prng(seed), NOTICE_STEPS_MAX);
        runs++;
        if (steps <= fastBound(nodes) + NOTICE_STEPS_MAX) fast++;
      }
    }
    expect(fast / runs).toBeGreaterThan(0.75);
  });

  it('control: without the hint, the new leader takes at least an election timeout', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const c = await steadyCluster(3, seed);
      expect(await killLeader(c, null), `seed ${seed}`).toBeGreaterThanOrEqual(ELECTION_TIMEOUT_TICKS);
    }
  });

  for (const nodes of [3, 5]) {
    it(`${nodes} nodes: wrong hints under a live leader (one member told at a time, often) never move the term`, async () => {
      for (let seed = 1; seed <= 10; seed++) {
        const c = await steadyCluster(nodes, seed);
        const rng = new Prng(seed);
        const leader = c.leader()!;
        const before = termsOf(c);
        let told = 0;
        let lastToldAt = -Infinity;
        for (let step = 0; step < 20 * ELECTION_TIMEOUT_TICKS; step++) {
          // One member at a time: a hint at a majority at once is what a dead leader looks like.
          if (step - lastToldAt >= 3 && rng.chance(0.2)) {
            lastToldAt = step;
            const others = [...c.nodes.values()].filter((n) => n !== leader);
            rng.pick(others).raft!.reportPeerDown(leader.id as NodeId);
            told++;
          }
          await c.runSteps(1);
        }
        expect(told).toBeGreaterThan(10);
        expect(termsOf(c), `seed ${seed}`).toEqual(before);
        expect(c.leader()).toBe(leader);
      }
    });
  }
});
