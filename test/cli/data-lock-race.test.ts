// Two processes taking one data directory at the same moment, over a serve.pid left by a process
// that is gone: at most one may hold it, each time (the takeover race: both judged the file stale,
// the second removed the first one's fresh file and took the directory too). Real processes, as
// the lock is about processes: each takes it with lockDataDir, released together from a busy wait
// on the same instant, and keeps it while the other tries. Many rounds, a few at a time.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_LOCK_FILE } from '../../src/cli/data-lock.js';
import { TEST_CLI } from '../node/support/proc-cluster.js';

const ROUNDS = 60;
const AT_ONCE = 6;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = TEST_CLI === 'dist' ? path.join(ROOT, 'dist/cli/data-lock.js') : path.join(ROOT, 'src/cli/data-lock.ts');

// Says "ready", waits for "go <epoch ms>", spins until then, takes the directory, says how it went,
// and holds on until its stdin closes.
const TAKER = `
const { lockDataDir } = await import(${JSON.stringify(MODULE)});
const data = process.argv[1];
let input = '';
process.stdin.on('data', (d) => {
  input += d;
  const m = /^go (\\d+)\\n/.exec(input);
  if (!m) return;
  input = '';
  const at = Number(m[1]);
  while (Date.now() < at);
  try {
    lockDataDir(data);
    process.stdout.write('won\\n');
  } catch (err) {
    process.stdout.write('refused: ' + err.message + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\\n');
`;

const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-data-lock-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Taker {
  child: ChildProcessWithoutNullStreams;
  said(what: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

function taker(data: string): Taker {
  const args = TEST_CLI === 'dist' ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...args, '--input-type=module', '-e', TAKER, data], { stdio: 'pipe' });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const said = (what: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = what.exec(out);
        if (m) resolve(m[0]);
        else if (child.exitCode !== null) reject(new Error(`taker exited: ${out}`));
        else waiters.push(check);
      };
      check();
      void exited.then(check);
    });
  return { child, said, exited };
}

/** A pid no process has now: one that just exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function round(n: number): Promise<string[]> {
  const data = path.join(dir, `r${n}`);
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data);
  // As a node killed with -9 leaves it (pid and start time; the start time names no process now).
  writeFileSync(path.join(data, DATA_LOCK_FILE), `${deadPid()} 1\n`);
  const takers = [taker(data), taker(data)];
  try {
    await Promise.all(takers.map((t) => t.said(/^ready$/m)));
    const at = Date.now() + 50;
    for (const t of takers) t.child.stdin.write(`go ${at}\n`);
    return await Promise.all(takers.map((t) => t.said(/^(won|refused: .*)$/m)));
  } finally {
    for (const t of takers) t.child.stdin.end();
    await Promise.all(takers.map((t) => t.exited));
    // The winner's exit gave the directory back, and the takeover left nothing behind.
    expect(readdirSync(data)).toEqual([]);
  }
}

describe('two processes taking a data directory with a stale serve.pid at the same moment', () => {
  it(`one of them holds it, every time (${ROUNDS} rounds)`, async () => {
    const outcomes: string[][] = [];
    for (let start = 0; start < ROUNDS; start += AT_ONCE) {
      outcomes.push(...(await Promise.all(Array.from({ length: Math.min(AT_ONCE, ROUNDS - start) }, (_, i) => round(start + i)))));
    }
    const twice = outcomes.filter((o) => o.filter((x) => x === 'won').length > 1).length;
    const never = outcomes.filter((o) => !o.includes('won'));
    expect(twice, `rounds in which both held the directory: ${twice} of ${ROUNDS}`).toBe(0);
    expect(never, 'rounds that nobody won').toEqual([]);
    for (const o of outcomes) expect(o.find((x) => x !== 'won')).toMatch(/is in use by a running node \(pid \d+/);
  }, 120_000);
});
