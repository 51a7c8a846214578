// The text summary of a run: what was injected, what the clients saw, what
// was checked, and how to replay it.
import type { RunRecords } from '../checker/index.js';
import { expandLockSets } from '../checker/lock-sets.js';
import { type CheckResult, runVerdict, verdictOf } from '../checker/result.js';
import type { ChaosOptions } from '../options.js';
import { OUTCOMES, opTable } from './outcomes.js';

export function replayCommand(o: ChaosOptions): string {
  const extra = `${o.snapshotEvery !== null ? ` --snapshot-every ${o.snapshotEvery}` : ''}${o.electionMs !== 1000 ? ` --election-ms ${o.electionMs}` : ''}${o.tls ? ' --tls' : ''}${o.auth ? ' --auth' : ''}`;
  return `npm run chaos -- --nodes ${o.nodes} --duration ${Math.round(o.durationMs / 1000)}s --seed ${o.seed} --faults ${o.faults.join(',') || 'none'}${extra}`;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of items) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return new Map([...out].sort());
}

export function summaryText(o: ChaosOptions, r: RunRecords, checks: readonly CheckResult[], runDir: string): string {
  const lines: string[] = [];
  const verdict = runVerdict(checks);
  lines.push(`lockstep chaos: seed ${o.seed}, ${o.nodes} nodes${o.tls ? ' (TLS)' : ''}${o.auth ? ' (auth)' : ''}, ${(o.durationMs / 1000).toFixed(0)}s of faults (${o.faults.join(',') || 'none'}), run took ${(r.runEndMs / 1000).toFixed(0)}s`);
  lines.push('');
  lines.push(`faults injected: ${r.faults.length}`);
  for (const [k, n] of countBy(r.faults, (f) => `${f.kind} ${f.shape}`)) lines.push(`  ${k.padEnd(36)} ${n}`);
  lines.push('');
  lines.push(`operations: ${r.history.length}`);
  lines.push(`  ${'op'.padEnd(20)} ${OUTCOMES.map((x) => x.padStart(9)).join('')}`);
  for (const row of opTable(r.history)) lines.push(`  ${row.op.padEnd(20)} ${OUTCOMES.map((x) => String(row.counts[x]).padStart(9)).join('')}`);
  lines.push(`  (expected: a session looked up after its client deleted it answered 404, as it must)`);
  const late = r.history.filter((h) => h.resolvedLate).length;
  if (late) lines.push(`  (${late} outcomes learned after the run by asking again with the same Idempotency-Key)`);
  // A granted lock set is one hold per lock.
  const grants = expandLockSets(r.history).filter((h) => h.acquired && h.result === 'ok').length;
  const refused = r.register.filter((w) => !w.accepted).length;
  lines.push(`  ${grants} holds granted; the fenced register accepted ${r.register.length - refused} writes and refused ${refused} stale ones`);
  lines.push('');
  lines.push('checks:');
  for (const c of checks) {
    lines.push(`  ${verdictOf(c).padEnd(13)} ${c.name.padEnd(16)} ${c.checked}`);
    for (const v of c.violations.slice(0, 10)) lines.push(`       ! ${v}`);
    for (const u of c.undecided.slice(0, 10)) lines.push(`       ? ${u}`);
    for (const n of c.notes.slice(0, 5)) lines.push(`       - ${n}`);
  }
  lines.push('');
  lines.push(`run folder: ${runDir} (history.jsonl, faults.jsonl, nodes/*.log, report.html)`);
  if (verdict === 'PASS') lines.push('verdict: no violation found');
  else if (verdict === 'INCONCLUSIVE') lines.push(`verdict: INCONCLUSIVE — no violation found, but a check could not decide; replay with: ${replayCommand(o)}`);
  else lines.push(`verdict: VIOLATION — replay with: ${replayCommand(o)}`);
  return lines.join('\n') + '\n';
}
