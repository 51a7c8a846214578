// One chaos run, start to end: cluster up, workloads and nemesis for the
// duration, everything healed, unknown outcomes asked again, cluster down,
// records written, checks run, report written. Returns the verdict; the
// caller decides the exit status.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeDirectory } from '../make-dir.js';
import { runChecks, type RunRecords } from './checker/index.js';
import { checkFaultCoverage, checkMembership } from './checker/faults.js';
import { result, runVerdict, type CheckResult } from './checker/result.js';
import { ChaosCluster } from './cluster/cluster.js';
import { FencedRegister } from './cluster/fenced-register.js';
import { LeaderObserver } from './cluster/observer.js';
import type { OpRecord } from './history.js';
import { Nemesis } from './nemesis/nemesis.js';
import type { ChaosOptions } from './options.js';
import { Prng } from './prng.js';
import { writeHtmlReport } from './report/html.js';
import { replayCommand, summaryText } from './report/summary.js';
import { ChaosClient, type ClientEnv } from './workload/client.js';
import { candidateLoop, observerLoop } from './workload/elections.js';
import { abandonerLoop, prober } from './workload/expiry.js';
import { lockClientLoop, lockReaderLoop } from './workload/locks.js';
import { lockSetClientLoop } from './workload/lock-sets.js';
import { observeStreamLoop, type ObserveEvent } from './workload/observe-stream.js';
import { checkObservers } from './checker/observers.js';

export const LEADER_WAIT_MS = 30_000;
/** After the faults stop, workloads go on this long so that recovery is seen. */
export const SETTLE_MS = 5_000;
export const RESOLVE_MS = 20_000;
const OP_TIMING = { opDeadlineMs: 6000, attemptTimeoutMs: 2000 };
/** A nemesis round: a quiet spell, then one fault (nemesis.ts); kinds come round-robin, one a round. */
const NEMESIS_TIMING = { faultMsMin: 2000, faultMsMax: 6000, quietMsMin: 4000, quietMsMax: 8000 };

/**
 * A run too short to be sure of one round per fault kind asked for: the fault-coverage check
 * fails such a run, so say it at the start rather than only in the verdict.
 */
export function shortRunWarning(kindCount: number, durationMs: number): string | null {
  const roundMsMax = NEMESIS_TIMING.quietMsMax + NEMESIS_TIMING.faultMsMax;
  const neededMs = kindCount * roundMsMax;
  if (kindCount === 0 || durationMs >= neededMs) return null;
  return `--duration ${durationMs / 1000}s may be too short to inject all ${kindCount} fault kinds asked for (one a round, ${(NEMESIS_TIMING.quietMsMin + NEMESIS_TIMING.faultMsMin) / 1000}-${roundMsMax / 1000}s a round): the fault-coverage check fails a run that misses one; ${neededMs / 1000}s or more is sure`;
}
/** The chance that a lock hold stalls past its TTL before its register write (workload/locks.ts), so the fenced register meets stale writers. */
const LOCK_HOLDER_STALL_CHANCE = 0.05;

export interface RunOutcome {
  runDir: string;
  checks: CheckResult[];
  ok: boolean;
  records: RunRecords;
  summary: string;
}

export async function runChaos(options: ChaosOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const nowMs = () => performance.now() - t0;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = path.resolve(options.runsDir, `chaos-${options.seed}-${stamp}`);
  makeDirectory(runDir);
  const say = (line: string) => {
    if (!options.quiet) console.log(`[${(nowMs() / 1000).toFixed(1)}s] ${line}`);
  };
  const prng = new Prng(options.seed);
  const cluster = new ChaosCluster(
    { nodes: options.nodes, runDir, portBase: options.portBase, heartbeatMs: options.heartbeatMs, electionMs: options.electionMs, cliPath: path.resolve(options.cliPath), snapshotEvery: options.snapshotEvery, tls: options.tls, auth: options.auth },
    prng.fork(),
    nowMs,
  );
  const register = new FencedRegister(cluster.registerPort, nowMs);
  const history: OpRecord[] = [];
  const observeEvents: ObserveEvent[] = [];
  let streamIds = 0;
  let workloadsRunning = true;
  const env: ClientEnv = {
    apiUrls: () => cluster.apiUrls(),
    nowMs,
    record: (op) => history.push(op),
    running: () => workloadsRunning,
    // Read at each request: a TLS cluster's fetch exists once its CA does (cluster.start()).
    fetch: (input, init) => cluster.fetch(input, init),
  };
  const observer = new LeaderObserver(
    () => cluster.ids().map((id) => ({ id, apiUrl: cluster.node(id).apiUrl, reachable: () => cluster.node(id).running && !cluster.node(id).paused })),
    nowMs,
    (input, init) => cluster.fetch(input, init),
  );
  const nemesis = new Nemesis(
    cluster,
    prng.fork(),
    { kinds: options.faults, electionMs: options.electionMs, ...NEMESIS_TIMING },
    () => observer.currentLeader(),
    nowMs,
    say,
  );
  const extraChecks: CheckResult[] = [];
  const clients: ChaosClient[] = [];
  const client = (name: string) => {
    const c = new ChaosClient(name, `s${options.seed}`, env, prng.fork());
    clients.push(c);
    return c;
  };
  let runEndMs = 0;
  try {
    await register.start();
    await cluster.start();
    say(`started ${options.nodes} nodes in ${runDir}`);
    const tooShort = shortRunWarning(options.faults.length, options.durationMs);
    if (tooShort !== null) say(tooShort);
    for (const line of cluster.consoleLines()) say(line);
    observer.start();
    const leaderBy = nowMs() + LEADER_WAIT_MS;
    while (observer.currentLeader() === null && nowMs() < leaderBy && cluster.unexpectedExits.length === 0) await new Promise((r) => setTimeout(r, 200));
    const first = observer.currentLeader();
    if (first === null) {
      extraChecks.push(result('startup', 'a leader within 30s of start', [`no leader elected within ${LEADER_WAIT_MS}ms of start (node logs in ${runDir}/nodes)`]));
    } else {
      say(`leader ${first}; workloads and nemesis start`);
      const r = () => prng.next();
      const lockOpts = { locks: ['lock-0', 'lock-1', 'lock-2'], ttlMs: 3000, holdMsMin: 20, holdMsMax: 300, registerUrl: register.url, stallChance: LOCK_HOLDER_STALL_CHANCE, ...OP_TIMING };
      const electionOpts = { elections: ['election-0'], sessionTtlMs: 3000, keepaliveEveryMs: 700, leadMsMin: 100, leadMsMax: 800, ...OP_TIMING };
      const expiryOpts = { locks: ['ttl-0', 'ttl-1'], ttlMs: 1500, sessionTtlMs: 2000, keepalives: 2, ...OP_TIMING };
      const running = () => workloadsRunning;
      const loops: Promise<void>[] = [];
      for (let i = 0; i < options.lockClients; i++) loops.push(lockClientLoop(client(`lock-${i}`), lockOpts, running, r, env.record, nowMs));
      for (let i = 0; i < options.lockSetClients; i++) loops.push(lockSetClientLoop(client(`lock-set-${i}`), lockOpts, running, r, env.record, nowMs));
      loops.push(lockReaderLoop(client('lock-reader'), lockOpts, running, r));
      for (let i = 0; i < options.electionCandidates; i++) loops.push(candidateLoop(client(`candidate-${i}`), electionOpts, running, r));
      loops.push(observerLoop(client('election-observer'), electionOpts, running, r));
      for (let i = 0; i < 2; i++) {
        loops.push(observeStreamLoop('election-0', () => cluster.apiUrls(), running, nowMs, prng.fork(), (e) => observeEvents.push(e), () => ++streamIds, (input, init) => cluster.fetch(input, init)));
      }
      loops.push(abandonerLoop(client('abandoner'), expiryOpts, running, r));
      loops.push(prober(client('prober'), expiryOpts, running, r));
      const nemesisDone = options.faults.length > 0 ? nemesis.run() : Promise.resolve();
      await new Promise((res) => setTimeout(res, options.durationMs));
      nemesis.stop();
      await nemesisDone;
      await nemesis.healEverything();
      say(`faults healed; settling ${SETTLE_MS}ms`);
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      workloadsRunning = false;
      await Promise.all(loops);
      const unknownBefore = history.filter((o) => o.result === 'unknown').length;
      let resolved = 0;
      const resolveBy = nowMs() + RESOLVE_MS;
      for (const c of clients) resolved += await c.resolveUnknowns(resolveBy);
      say(`asked again about ${unknownBefore} unknown outcomes; ${resolved} resolved`);
    }
    runEndMs = nowMs();
  } finally {
    workloadsRunning = false;
    nemesis.stop();
    observer.stop();
    await cluster.stop().catch((err) => say(`cluster stop: ${String(err)}`));
    await register.close();
  }
  const records: RunRecords = {
    history,
    faults: nemesis.faults,
    clocks: cluster.clocks.closedSegments(),
    leaders: observer.observations,
    register: register.log,
    runEndMs,
  };
  writeJsonl(path.join(runDir, 'history.jsonl'), history);
  writeJsonl(path.join(runDir, 'faults.jsonl'), records.faults);
  writeJsonl(path.join(runDir, 'clocks.jsonl'), records.clocks);
  writeJsonl(path.join(runDir, 'leaders.jsonl'), records.leaders);
  writeJsonl(path.join(runDir, 'register.jsonl'), records.register);
  writeJsonl(path.join(runDir, 'observe.jsonl'), observeEvents);
  say('checking');
  const checks: CheckResult[] = [
    ...extraChecks,
    ...runChecks(records, { recoveryBoundMs: options.recoveryBoundMs }),
    checkObservers(observeEvents, history),
    checkMembership(records.faults),
    checkFaultCoverage(options.faults, records.faults),
    result(
      'no-crashes',
      'nodes exit only when the nemesis kills them',
      cluster.unexpectedExits.map((e) =>
        // serve exits 0 only from its graceful stop on SIGTERM/SIGINT (or dies of one not yet handled): a signal from outside the run.
        e.code === 0 || e.signal === 'SIGTERM' || e.signal === 'SIGINT'
          ? `${e.node} stopped at ${e.atMs.toFixed(0)}ms (code ${e.code}, signal ${e.signal}) on a SIGTERM or SIGINT the run did not send: another process on this machine signalled it (the run is void, not a finding against lockstep); see nodes/${e.node}.log`
          : `${e.node} exited by itself at ${e.atMs.toFixed(0)}ms (code ${e.code}, signal ${e.signal}); see nodes/${e.node}.log`,
      ),
    ),
  ];
  // Links nobody dialed through their proxy: faults on them did nothing (see FINDINGS.md F1).
  const linkStats = cluster.linkStats();
  writeFileSync(path.join(runDir, 'links.json'), JSON.stringify(linkStats, null, 1));
  const idle = linkStats.filter((l) => l.connections === 0 && !l.link.startsWith('*'));
  if (idle.length > 0) checks.push(result('fault-layer', 'every directed link was dialed through its proxy', [], [`links never dialed through their proxy: ${idle.map((l) => l.link).join(', ')}`]));
  // A violation fails the run, and so does a check that could not decide (issue 9).
  const ok = runVerdict(checks) === 'PASS';
  const summary = summaryText(options, records, checks, runDir);
  writeFileSync(path.join(runDir, 'summary.txt'), summary);
  writeFileSync(path.join(runDir, 'replay.sh'), `#!/bin/sh\n${replayCommand(options)}\n`);
  writeHtmlReport(path.join(runDir, 'report.html'), options, records, checks);
  return { runDir, checks, ok, records, summary };
}

function writeJsonl(file: string, rows: readonly unknown[]): void {
  // Infinity is not JSON: unknown completions are written as null.
  writeFileSync(file, rows.map((r) => JSON.stringify(r, (_k, v) => (v === Infinity ? null : v))).join('\n') + (rows.length ? '\n' : ''));
}
