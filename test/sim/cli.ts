// npm run sim -- --seed S [--nodes 3|5] [--steps N] [--machine kv|locks]   replay one seed, print its trace
// npm run sim -- --runs N [--nodes 3|5] [--steps N] [--base-seed B] [--machine kv|locks]   N random seeds, report
// --machine locks: every node also runs the lock state machine (lock-checker.ts).
// --corrupt: members send corrupted messages in the chaos phase (corrupt.ts).
// --peer-down: leaders die with their connections closing, members are told (reportPeerDown), wrong hints too.
//
// A run is a pure function of (seed, nodes, steps), so a failing seed printed
// by the test suite or by --runs replays exactly here.

import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadRaft, RAFT_OVERRIDE_ENV } from './raft-factory.js';
import { describeFailure, replayCommand } from './replay.js';
import { runSimulation, SIM_MACHINES, type SimMachine, type SimResult } from './simulation.js';

export const DEFAULT_STEPS = 300;
const SEED_MAX = 0x7fff_ffff;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      nodes: { type: 'string' },
      steps: { type: 'string' },
      runs: { type: 'string' },
      'base-seed': { type: 'string' },
      machine: { type: 'string', default: 'kv' },
      'peer-down': { type: 'boolean', default: false },
      corrupt: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (values.seed === undefined && values.runs === undefined)) {
    console.log('usage: npm run sim -- --seed S [--nodes 3|5] [--steps N] [--machine kv|locks] [--peer-down] [--corrupt] [--quiet]');
    console.log('       npm run sim -- --runs N [--nodes 3|5] [--steps N] [--base-seed B] [--machine kv|locks] [--peer-down] [--corrupt]');
    return values.help ? 0 : 2;
  }
  const Raft = await loadRaft();
  if (process.env[RAFT_OVERRIDE_ENV]) console.log(`using Raft from ${process.env[RAFT_OVERRIDE_ENV]}`);
  const steps = positiveInt('steps', values.steps, DEFAULT_STEPS);
  if (!SIM_MACHINES.includes(values.machine as SimMachine)) throw new Error(`--machine must be one of ${SIM_MACHINES.join(', ')}`);
  const machine = values.machine as SimMachine;
  const fixedNodes = values.nodes === undefined ? null : positiveInt('nodes', values.nodes, 3);

  if (values.seed !== undefined) {
    const seed = positiveInt('seed', values.seed, 0);
    const nodes = fixedNodes ?? 3;
    const r = await runSimulation(
      { seed, nodes, steps, machine, peerDownFaults: values['peer-down'], corruptMessages: values.corrupt, trace: true, echo: values.quiet ? undefined : (line) => console.log(line) },
      Raft,
    );
    printSummary(r);
    return r.failure ? 1 : 0;
  }

  const runs = positiveInt('runs', values.runs, 100);
  const baseSeed = positiveInt('base-seed', values['base-seed'], randomInt(SEED_MAX));
  console.log(`${runs} runs from base seed ${baseSeed} (${steps} chaos steps each, machine ${machine})`);
  const failures: SimResult[] = [];
  const started = Date.now();
  let ticks = 0;
  for (let i = 0; i < runs; i++) {
    const seed = (baseSeed + i) % SEED_MAX;
    const nodes = fixedNodes ?? (i % 2 === 0 ? 3 : 5);
    const r = await runSimulation({ seed, nodes, steps, machine, peerDownFaults: values['peer-down'], corruptMessages: values.corrupt }, Raft);
    ticks += r.stats.stepsRun;
    if (r.failure) {
      failures.push(r);
      console.log(describeFailure(r));
    }
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`${runs - failures.length} passed, ${failures.length} failed, ${ticks} ticks in ${seconds.toFixed(1)}s`);
  return failures.length > 0 ? 1 : 0;
}

function printSummary(r: SimResult): void {
  const s = r.stats;
  console.log(
    `seed ${r.seed}: ${s.stepsRun} steps, ${s.leadersElected} leaders, ${s.committed} committed, ${s.acknowledged} acknowledged, ` +
      `${s.readsServed} reads, ${s.crashes} crashes, ${s.partitions} partitions, ${s.confChanges} conf changes (${s.readdsRefused} re-adds of removed ids refused), ` +
      `${s.transfers} transfers, ${s.snapshotsRestored} snapshots restored, ${s.delivered} delivered, ${s.dropped} dropped, ` +
      `liveness after ${s.livenessTicks ?? '-'} ticks` +
      (r.machine === 'locks' ? `; locks: ${s.lockApplies} applies checked, ${s.lockGrants} grants` : ''),
  );
  if (r.failure) {
    console.log(`FAILED (${r.failure.property}) at step ${r.failure.step}: ${r.failure.message}`);
    console.log(`replay: ${replayCommand(r)}`);
  } else {
    console.log('ok');
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
