// Every shell and TypeScript block of the README runs as pasted (issue 15
// item 6), against a real 3-node cluster of this checkout. A block that cannot
// run here says why in its fence: ```sh skip: <reason>. A new block without
// that runs too, so a block someone adds is either runnable or marked.
// The README's addresses (127.0.0.1:7001-7003) are moved to this test's ports.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { sourceCluster } from '../node/support/proc-cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** API ports 23101-23103, peer ports 23201-23203 (test/PORTS.md). */
const BASE_PORT = 23_100;
// Generous: on a loaded 2-core machine the tour block (eight `npx lockstep` runs) took 206 s.
const BLOCK_TIMEOUT_MS = 480_000;

interface Block {
  line: number;
  lang: string;
  skip: string | null;
  code: string;
}

function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    const skip = /^\s*skip\b:?\s*(.*)$/.exec(open[2]);
    blocks.push({ line: start + 1, lang: open[1], skip: skip ? skip[1] : null, code: body.join('\n') });
  }
  return blocks;
}

const blocks = readmeBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).filter((b) => b.lang === 'sh' || b.lang === 'ts');

let cluster: LocalCluster;
beforeAll(async () => {
  // serve's own timings, as the README's `cluster up`: `lockstep status` exits 1
  // while there is no leader, and a 500 ms election timeout is a pause away on a loaded machine.
  cluster = await sourceCluster(3, BASE_PORT, { timings: 'default' });
}, 60_000);
afterAll(async () => {
  await cluster?.destroy();
});

/** The README's local addresses as this test's. */
function moved(code: string): string {
  return code.replace(/127\.0\.0\.1:700([1-9])/g, (_, i: string) => `127.0.0.1:${BASE_PORT + Number(i)}`);
}

describe('README blocks', () => {
  it('every block that is skipped says why', () => {
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks.filter((b) => b.skip !== null && b.skip.trim() === '').map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  for (const block of blocks.filter((b) => b.skip === null)) {
    it(`README.md:${block.line} (${block.lang}) runs as pasted`, () => {
      const env = { ...process.env, LOCKSTEP_ENDPOINTS: cluster.endpoints.join(','), PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` };
      let file: string | null = null;
      let command: string[];
      if (block.lang === 'sh') {
        command = ['bash', '-e', '-c', moved(block.code)];
      } else {
        file = path.join(ROOT, `.readme-block-${block.line}.ts`);
        writeFileSync(file, moved(block.code));
        command = [process.execPath, '--import', 'tsx', file];
      }
      try {
        const r = spawnSync(command[0], command.slice(1), { cwd: ROOT, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS - 10_000 });
        expect(r.status, `README.md:${block.line}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
      } finally {
        if (file) rmSync(file, { force: true });
      }
    }, BLOCK_TIMEOUT_MS);
  }
});
