// A small randomized check of the Raft safety properties (Figure 3) over the
// test network: election safety (one leader per term), log matching and
// state machine safety (applied sequences are prefixes of one another), and
// leader completeness for committed entries. The full simulator is test/sim.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/raft/types.js';
import { NotLeaderError, ProposalDroppedError, nodeId } from '../../src/raft/types.js';
import { Network, seededRandom } from './network.js';

type Op =
  | { kind: 'tick' }
  | { kind: 'propose' }
  | { kind: 'isolate'; node: number }
  | { kind: 'heal' }
  | { kind: 'restart'; node: number }
  | { kind: 'transfer'; node: number }
  | { kind: 'compact'; node: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<Op>({ kind: 'tick' }) },
  { weight: 6, arbitrary: fc.constant<Op>({ kind: 'propose' }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((node): Op => ({ kind: 'isolate', node })) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'heal' }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((node): Op => ({ kind: 'restart', node })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((node): Op => ({ kind: 'transfer', node })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((node): Op => ({ kind: 'compact', node })) },
);

function key(e: Entry): string {
  return `${e.index}@${e.term}`;
}

describe('Figure 3 safety properties under random faults', () => {
  it('one leader per term; applied logs agree; committed entries survive', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.boolean(),
        fc.array(opArb, { minLength: 50, maxLength: 250 }),
        (n, seed, preVote, ops) => {
          const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, n);
          const net = new Network(ids, { seed, config: { preVote, maxInflightAppends: 4, maxEntriesPerAppend: 3 } });
          const rnd = seededRandom(seed);
          // Random message loss on top of partitions.
          net.filter = () => (rnd() < 0.1 ? 'drop' : 'deliver');
          const leaderOfTerm = new Map<number, string>();
          let counter = 0;
          for (const op of ops) {
            switch (op.kind) {
              case 'tick':
                net.tickAll();
                break;
              case 'propose':
                for (const l of net.leaders()) {
                  try {
                    net.node(l).propose(new TextEncoder().encode(`v${counter++}`));
                  } catch (e) {
                    if (!(e instanceof NotLeaderError || e instanceof ProposalDroppedError)) throw e;
                  }
                }
                net.process();
                break;
              case 'isolate':
                net.isolate(ids[op.node % n]);
                break;
              case 'heal':
                net.heal();
                break;
              case 'restart':
                net.restart(ids[op.node % n]);
                break;
              case 'transfer':
                for (const l of net.leaders()) {
                  try {
                    net.node(l).transferLeadership(nodeId(ids[op.node % n]));
                  } catch (e) {
                    if (!(e instanceof NotLeaderError || e instanceof ProposalDroppedError)) throw e;
                  }
                }
                net.process();
                break;
              case 'compact': {
                const id = ids[op.node % n];
                const st = net.node(id).status();
                if (st.applied > 0) {
                  const snap = net.snapshotOf(id);
                  net.node(id).compact(snap, 2);
                  net.stores.get(id)!.snapshot = snap;
                }
                break;
              }
            }
            for (const [id, r] of net.nodes) {
              const st = r.status();
              if (st.role === 'leader') {
                const prev = leaderOfTerm.get(st.term);
                expect(prev === undefined || prev === id, `two leaders in term ${st.term}: ${prev}, ${id}`).toBe(true);
                leaderOfTerm.set(st.term, id);
              }
            }
          }
          // State machine safety: applied sequences are prefixes of one another.
          const seqs = ids.map((id) => (net.applied.get(id) as Entry[]).map(key));
          const longest = seqs.reduce((a, b) => (b.length > a.length ? b : a), []);
          for (const s of seqs) expect(longest.slice(0, s.length)).toEqual(s);
          // Liveness after healing: everyone converges.
          net.heal();
          net.filter = null;
          // Settled: one leader and nobody at a higher term. Without pre-vote a node that
          // campaigned while cut off comes back with a higher term and deposes a leader
          // elected meanwhile (its empty log cannot win): another election follows.
          const settled = () => {
            const ls = net.leaders();
            if (ls.length !== 1) return false;
            const t = net.node(ls[0]).status().term;
            return [...net.nodes.values()].every((r) => r.status().term === t);
          };
          for (let i = 0; i < 400 && !settled(); i++) net.tickAll();
          expect(net.leaders()).toHaveLength(1);
          expect(settled(), 'one leader, every node at its term').toBe(true);
          net.tickAll(10);
          const leader = net.node(net.leader()).status();
          for (const id of ids) {
            const st = net.node(id).status();
            if (st.conf.voters.includes(nodeId(id))) expect(st.commit).toBe(leader.commit);
          }
          // Leader completeness: every entry anyone applied is in the final applied sequences.
          const finalSeq = (net.applied.get(net.leader()) as Entry[]).map(key);
          for (const s of seqs) expect(finalSeq.slice(0, s.length)).toEqual(s);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});
