// How to reproduce a run: the command line that replays it.

import type { SimResult } from './simulation.js';

export function replayCommand(
  r: Pick<SimResult, 'seed' | 'nodes' | 'steps'> & { machine?: SimResult['machine']; peerDownFaults?: boolean; corruptMessages?: boolean },
): string {
  const machine = r.machine === 'locks' ? ' --machine locks' : '';
  const peerDown = r.peerDownFaults ? ' --peer-down' : '';
  const corrupt = r.corruptMessages ? ' --corrupt' : '';
  return `npm run sim -- --seed ${r.seed} --nodes ${r.nodes} --steps ${r.steps}${machine}${peerDown}${corrupt}`;
}

export function describeFailure(r: SimResult): string {
  if (!r.failure) return `seed ${r.seed}: ok`;
  return `seed ${r.seed} (${r.nodes} nodes, ${r.steps} steps) failed at step ${r.failure.step}: ${r.failure.message}\n  replay: ${replayCommand(r)}`;
}
