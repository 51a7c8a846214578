// The partition shapes the nemesis chooses from. Each blocks a set of
// directed links in the SimNetwork and returns a one-line description.

import type { NodeId } from '../../src/raft/types.js';
import type { SimNetwork } from './network.js';
import type { Prng } from './prng.js';

export type PartitionKind = 'halves' | 'majority-minority' | 'one-way' | 'isolate-leader' | 'bridge';
export const PARTITION_KINDS: readonly PartitionKind[] = ['halves', 'majority-minority', 'one-way', 'isolate-leader', 'bridge'];

/** Apply a partition of `kind` over `members`; returns its description, or null if the shape does not fit. */
export function partition(
  net: SimNetwork,
  rng: Prng,
  kind: PartitionKind,
  members: readonly NodeId[],
  leader: NodeId | null,
): string | null {
  if (members.length < 2) return null;
  const shuffled = rng.shuffle([...members]);
  switch (kind) {
    case 'halves': {
      const half = Math.floor(shuffled.length / 2);
      const [a, b] = [shuffled.slice(0, half), shuffled.slice(half)];
      net.blockBetween(a, b);
      return `partition halves [${a}] | [${b}]`;
    }
    case 'majority-minority': {
      const minoritySize = 1 + rng.int(Math.max(1, Math.floor((shuffled.length - 1) / 2)));
      const [minority, majority] = [shuffled.slice(0, minoritySize), shuffled.slice(minoritySize)];
      net.blockBetween(minority, majority);
      return `partition minority [${minority}] | majority [${majority}]`;
    }
    case 'one-way': {
      // One node's inbound (or outbound) links are cut: it talks to a cluster it
      // cannot hear, or hears a cluster that cannot hear it.
      const node = shuffled[0];
      const others = shuffled.slice(1);
      if (rng.chance(0.5)) {
        net.blockOneWay(others, [node]);
        return `partition one-way: ${node} hears nobody, everybody hears ${node}`;
      }
      net.blockOneWay([node], others);
      return `partition one-way: ${node} hears everybody, nobody hears ${node}`;
    }
    case 'isolate-leader': {
      if (leader === null || !members.includes(leader)) return null;
      const others = members.filter((m) => m !== leader);
      net.blockBetween([leader], others);
      return `partition isolate leader ${leader} | [${others}]`;
    }
    case 'bridge': {
      if (shuffled.length < 3) return null;
      const bridge = shuffled[0];
      const rest = shuffled.slice(1);
      const half = Math.ceil(rest.length / 2);
      const [a, b] = [rest.slice(0, half), rest.slice(half)];
      net.blockBetween(a, b);
      return `partition bridge ${bridge} sees [${a}] and [${b}], which do not see each other`;
    }
  }
}
