// Re-run the checkers over a finished run folder:
//   npx tsx src/chaos/recheck.ts .runs/chaos-<seed>-<time> [--recovery-bound-ms 10000]
//                                [--blur 0.2] [--blur-seed 1]
// Useful after changing a checker, or to time the checkers on a big history.
// --blur F checks a copy in which a fraction F of releases and refused
// acquires lost their answers (checker/blur.ts): a harder search, same truth.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { blurOutcomes } from './checker/blur.js';
import { runChecks, type RunRecords } from './checker/index.js';
import { checkObservers } from './checker/observers.js';
import { runVerdict, verdictOf } from './checker/result.js';
import { DEFAULT_OPTIONS } from './options.js';

function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  // Infinity was written as null (JSON has no Infinity).
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line, (k, v) => (v === null && (k === 'completeMs' || k === 'endMs' || k === 'toMs') ? Infinity : v)) as T);
}

export function loadRecords(runDir: string): { records: RunRecords; observe: ReturnType<typeof readJsonl> } {
  const history = readJsonl<RunRecords['history'][number]>(path.join(runDir, 'history.jsonl'));
  const runEndMs = Math.max(0, ...history.map((h) => (Number.isFinite(h.completeMs) ? h.completeMs : h.invokeMs)));
  return {
    records: {
      history,
      faults: readJsonl(path.join(runDir, 'faults.jsonl')),
      clocks: readJsonl(path.join(runDir, 'clocks.jsonl')),
      leaders: readJsonl(path.join(runDir, 'leaders.jsonl')),
      register: readJsonl(path.join(runDir, 'register.jsonl')),
      runEndMs,
    },
    observe: readJsonl(path.join(runDir, 'observe.jsonl')),
  };
}

const { values, positionals } = parseArgs({
  options: { 'recovery-bound-ms': { type: 'string' }, blur: { type: 'string' }, 'blur-seed': { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length !== 1) {
  console.error('usage: tsx src/chaos/recheck.ts RUN_DIR [--recovery-bound-ms N] [--blur FRACTION] [--blur-seed N]');
  process.exit(2);
}
const { records, observe } = loadRecords(positionals[0]);
if (values.blur !== undefined) {
  records.history = blurOutcomes(records.history, Number(values.blur), Number(values['blur-seed'] ?? 1));
  console.log(`blurred: ${records.history.filter((op) => op.error === 'blurred').length} releases and refused acquires made unknown`);
}
const started = performance.now();
const checks = [
  ...runChecks(records, { recoveryBoundMs: Number(values['recovery-bound-ms'] ?? DEFAULT_OPTIONS.recoveryBoundMs) }),
  checkObservers(observe as never, records.history),
];
for (const c of checks) {
  console.log(`${verdictOf(c).padEnd(13)} ${c.name.padEnd(16)} ${c.checked}`);
  for (const v of c.violations.slice(0, 10)) console.log(`     ! ${v}`);
  for (const u of c.undecided.slice(0, 10)) console.log(`     ? ${u}`);
  for (const n of c.notes.slice(0, 5)) console.log(`     - ${n}`);
}
const verdict = runVerdict(checks);
console.log(`${verdict}: ${records.history.length} ops checked in ${((performance.now() - started) / 1000).toFixed(1)}s`);
process.exit(verdict === 'PASS' ? 0 : 1);
