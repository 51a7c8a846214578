// The partition shapes Jepsen's nemeses use, as sets of directed links to
// cut (see net/link-proxy.ts for what cutting A→B means).
import type { Link } from '../net/fault-network.js';
import type { Prng } from '../prng.js';

export type PartitionShape = 'halves' | 'one-way' | 'majority-minority' | 'isolate-leader' | 'bridge' | 'majorities-ring' | 'flapping';
export const PARTITION_SHAPES: readonly PartitionShape[] = ['halves', 'one-way', 'majority-minority', 'isolate-leader', 'bridge', 'majorities-ring', 'flapping'];

/** Every link between the two groups, both directions. */
export function between(a: readonly string[], b: readonly string[]): Link[] {
  const out: Link[] = [];
  for (const x of a) for (const y of b) out.push([x, y], [y, x]);
  return out;
}

/** A random split into a smaller and a larger side (sizes ⌊n/2⌋ and ⌈n/2⌉). */
export function halves(nodes: readonly string[], prng: Prng): [string[], string[]] {
  const s = prng.shuffle(nodes);
  const k = Math.floor(s.length / 2);
  return [s.slice(0, k), s.slice(k)];
}

/**
 * The links to cut for a shape. `leader` is the node believed to lead (or
 * null). 'flapping' returns the shape to toggle; the nemesis flaps it.
 */
export function partitionLinks(shape: PartitionShape, nodes: readonly string[], leader: string | null, prng: Prng): { links: Link[]; describe: string } {
  const n = nodes.length;
  const target = leader ?? prng.pick(nodes);
  const others = nodes.filter((x) => x !== target);
  switch (shape) {
    case 'halves':
    case 'flapping': {
      const [a, b] = halves(nodes, prng);
      return { links: between(a, b), describe: `${a.join(',')} | ${b.join(',')}` };
    }
    case 'majority-minority': {
      // The leader ends up on the minority side, so the majority must elect anew.
      const minority = [target, ...prng.shuffle(others).slice(0, Math.floor((n - 1) / 2) - 1)];
      const majority = nodes.filter((x) => !minority.includes(x));
      return { links: between(minority, majority), describe: `minority ${minority.join(',')} (leader side) | ${majority.join(',')}` };
    }
    case 'isolate-leader':
      return { links: between([target], others), describe: `${target} alone` };
    case 'one-way': {
      // The leader can hear everyone, but nobody hears it: its heartbeats are lost, replies to others still arrive.
      return { links: others.map((o) => [target, o] as const), describe: `${target} -/-> ${others.join(',')} (inbound open)` };
    }
    case 'bridge': {
      // Two sides that cannot talk, and one node both can reach (Jepsen's bridge).
      const s = prng.shuffle(nodes);
      const bridge = s[0];
      const rest = s.slice(1);
      const a = rest.slice(0, Math.floor(rest.length / 2));
      const b = rest.slice(Math.floor(rest.length / 2));
      return { links: between(a, b), describe: `${a.join(',')} | ${b.join(',')} bridged by ${bridge}` };
    }
    case 'majorities-ring': {
      // Each node sees its neighbours on a ring (a majority when n = 5) but
      // no two nodes agree on which majority: node i reaches i±1 (and i±2 when n > 5).
      const s = prng.shuffle(nodes);
      const reach = Math.max(1, Math.floor((n - 1) / 2) - 1) ;
      const links: Link[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          const d = Math.min((i - j + n) % n, (j - i + n) % n);
          if (d > reach) links.push([s[i], s[j]]);
        }
      }
      return { links, describe: `ring ${s.join('-')}` };
    }
  }
}
