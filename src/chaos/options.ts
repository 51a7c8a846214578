// Options of a chaos run, with their defaults and limits.
import type { FaultKind } from './history.js';

export interface ChaosOptions {
  nodes: 3 | 5;
  durationMs: number;
  seed: number;
  faults: FaultKind[];
  /** Ports portBase .. portBase+99 are used (20000-21999 are the suite's). */
  portBase: number;
  heartbeatMs: number;
  electionMs: number;
  /** After the faults heal, a leader and an acknowledged write within this. */
  recoveryBoundMs: number;
  /** Where run folders go. */
  runsDir: string;
  /** The CLI entry point to spawn (`node <cliPath> serve ...`). */
  cliPath: string;
  /** Client loops per workload. */
  lockClients: number;
  /** Clients taking lock sets of the lock workload's locks. */
  lockSetClients: number;
  electionCandidates: number;
  quiet: boolean;
  /** Passed to `serve --snapshot-every`; null: the server's default. */
  snapshotEvery: number | null;
  /** A TLS cluster: HTTPS API and mutual-TLS peers, certificates made under the run folder. */
  tls: boolean;
  /** Auth on: a root token for the run (serve --auth-token-file); every request of the run carries it. Without TLS the peers prove it to each other. */
  auth: boolean;
}

export const DURATION_MS_MAX = 24 * 3600 * 1000;
export const PORT_BASE_MIN = 20000;
export const PORT_BASE_MAX = 21900;

export const DEFAULT_OPTIONS: ChaosOptions = {
  nodes: 3,
  durationMs: 120_000,
  seed: 1,
  faults: ['partition', 'kill', 'pause', 'clock', 'membership'],
  auth: false,
  portBase: 20000,
  heartbeatMs: 100,
  electionMs: 1000,
  recoveryBoundMs: 10_000,
  runsDir: '.runs',
  cliPath: 'dist/cli/main.js',
  lockClients: 6,
  lockSetClients: 2,
  electionCandidates: 3,
  quiet: false,
  snapshotEvery: null,
  tls: false,
};

/** "120s", "2m", "1500ms", "90" (seconds). */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`bad duration '${text}' (use e.g. 120s, 2m, 1500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (!(ms > 0 && ms <= DURATION_MS_MAX)) throw new Error(`duration must be in (0, 24h]: '${text}'`);
  return Math.round(ms);
}

export function validate(o: ChaosOptions): void {
  if (o.nodes !== 3 && o.nodes !== 5) throw new Error(`--nodes must be 3 or 5, got ${o.nodes}`);
  if (!(o.portBase >= PORT_BASE_MIN && o.portBase <= PORT_BASE_MAX)) throw new Error(`--base-port must be in ${PORT_BASE_MIN}..${PORT_BASE_MAX}`);
  const known = ['partition', 'kill', 'pause', 'clock', 'membership'];
  for (const f of o.faults) if (!known.includes(f)) throw new Error(`unknown fault '${f}' (known: ${known.join(',')})`);
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new Error(`--seed must be a non-negative integer`);
}
