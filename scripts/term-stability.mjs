// No spurious elections (issue 12): the Raft term of a 3-node lockstep cluster
// must not move over N minutes at rest and N minutes under the 128-client
// uncontended load. Runs the bench's `rest-<seconds>` and `uncontended-128`
// rows for lockstep alone (one round each, the same cluster, fsync on, default
// timings), reads the term moves the bench measures around each row, prints
// them, and exits 1 if the term moved. Run it alone on the machine, inside a
// network namespace if others use loopback ports.
//
//   node scripts/term-stability.mjs [--minutes 10]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  console.error(`--minutes must be a positive number, got ${values.minutes}`);
  process.exit(2);
}
const seconds = Math.round(minutes * 60);
const args = ['run', '--silent', 'bench', '--', '--systems', 'lockstep', '--rounds', '1', '--warmup-seconds', '0', '--seconds', String(seconds), '--workloads', `rest-${seconds},uncontended-128`];
console.error(`npm ${args.join(' ')}`);
const child = spawn('npm', args, { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
const code = await new Promise((resolve) => child.on('close', resolve));
const line = out.split('\n').find((l) => l.startsWith('BENCH '));
if (code !== 0 || line === undefined) {
  console.error(`bench failed (exit ${code}) or printed no BENCH line`);
  process.exit(2);
}
const bench = JSON.parse(line.slice('BENCH '.length));
/** More failed requests than this share of the load's cycles: the window did not hold the load it claims. */
const FAILED_SHARE_MAX = 0.01;
let moved = false;
let unloaded = false;
for (const w of bench.workloads) {
  for (const m of w.results.lockstep ?? []) {
    const termMoved = m.termMoved ?? null;
    console.log(`${w.id}: term moved by ${termMoved ?? 'unknown'}${m.failed ? ` (${m.failed} failed requests)` : ''}`);
    if (termMoved !== 0) moved = true;
    const cycles = (m.perSecond ?? 0) * seconds;
    if (w.id.startsWith('uncontended') && m.failed > FAILED_SHARE_MAX * Math.max(cycles, 1)) unloaded = true;
  }
}
if (moved) console.log(`FAIL: the term moved (or was not read) within ${minutes} min at rest or under load`);
else if (unloaded) console.log(`NOT EXERCISED: the term stayed put, but more than ${FAILED_SHARE_MAX * 100}% of the load's requests failed, so the window was not under the load it names`);
else console.log(`ok: the term stayed put for ${minutes} min at rest and ${minutes} min under 128 clients`);
process.exit(moved || unloaded ? 1 : 0);
