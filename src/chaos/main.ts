// `npm run chaos -- [--nodes 3|5] [--duration 120s] [--seed S] [--faults partition,kill,pause,clock,membership] [--tls] [--auth]`
// Runs a chaos run against real `lockstep serve` processes (build first:
// `npm run build`), prints the summary, exits 1 on any violation (with the
// replay command) and 2 on a usage error.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FaultKind } from './history.js';
import { DEFAULT_OPTIONS, parseDurationMs, validate, type ChaosOptions } from './options.js';
import { replayCommand } from './report/summary.js';
import { runChaos } from './run.js';

const USAGE = `usage: npm run chaos -- [--nodes 3|5] [--duration 120s] [--seed S]
                     [--faults partition,kill,pause,clock,membership|none]
                     [--base-port 20000] [--election-ms 1000] [--heartbeat-ms 100]
                     [--recovery-bound-ms 10000] [--runs-dir .runs] [--cli dist/cli/main.js] [--snapshot-every N] [--tls] [--auth] [--quiet]`;

export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      // --base-port as `lockstep cluster up` spells it; --port-base, its old name, still works.
      'base-port': { type: 'string' },
      'port-base': { type: 'string' },
      'election-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'recovery-bound-ms': { type: 'string' },
      'runs-dir': { type: 'string' },
      cli: { type: 'string' },
      'snapshot-every': { type: 'string' },
      tls: { type: 'boolean' },
      auth: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, dflt: number): number => {
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got '${text}'`);
    return n;
  };
  const o: ChaosOptions = {
    ...DEFAULT_OPTIONS,
    nodes: int('nodes', values.nodes, DEFAULT_OPTIONS.nodes) as 3 | 5,
    durationMs: values.duration ? parseDurationMs(values.duration) : DEFAULT_OPTIONS.durationMs,
    seed: int('seed', values.seed, Math.floor(Math.random() * 1_000_000)),
    faults: values.faults === undefined ? DEFAULT_OPTIONS.faults : values.faults === 'none' ? [] : (values.faults.split(',').map((f) => f.trim()) as FaultKind[]),
    portBase: int('base-port', values['base-port'] ?? values['port-base'], DEFAULT_OPTIONS.portBase),
    electionMs: int('election-ms', values['election-ms'], DEFAULT_OPTIONS.electionMs),
    heartbeatMs: int('heartbeat-ms', values['heartbeat-ms'], DEFAULT_OPTIONS.heartbeatMs),
    recoveryBoundMs: int('recovery-bound-ms', values['recovery-bound-ms'], DEFAULT_OPTIONS.recoveryBoundMs),
    runsDir: values['runs-dir'] ?? DEFAULT_OPTIONS.runsDir,
    cliPath: values.cli ?? DEFAULT_OPTIONS.cliPath,
    quiet: values.quiet ?? false,
    snapshotEvery: values['snapshot-every'] === undefined ? null : int('snapshot-every', values['snapshot-every'], 0),
    tls: values.tls ?? false,
    auth: values.auth ?? false,
  };
  validate(o);
  return o;
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(options.cliPath)) {
    console.error(`chaos: ${options.cliPath} not found; build first (npm run build)`);
    return 1;
  }
  const outcome = await runChaos(options);
  console.log('\n' + outcome.summary);
  if (!outcome.ok) {
    console.log(`seed ${options.seed}; replay: ${replayCommand(options)}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
