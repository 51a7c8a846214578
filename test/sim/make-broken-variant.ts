// Builds a deliberately broken copy of the Raft core OUTSIDE the repository,
// to show that the simulator catches each bug (BROKEN-VARIANTS.md):
//
//   npx tsx test/sim/make-broken-variant.ts <variant> [outDir]
//   LOCKSTEP_SIM_RAFT=<printed path> npm run sim -- --runs 2000
//
// Never writes inside src/. Each variant is a textual edit that must apply
// exactly once; if the core changed so that it does not, this fails loudly.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Edit {
  file: string;
  find: string;
  replace: string;
}

export const VARIANTS: Record<string, { description: string; edits: Edit[] }> = {
  'figure8-commit-by-counting': {
    description: 'the leader commits an older term entry by counting replicas (§5.4.2, Figure 8)',
    edits: [
      {
        file: 'raft.ts',
        find: 'if (idx <= this.log.commit || this.log.term(idx) !== this.term) return false;',
        replace: 'if (idx <= this.log.commit) return false; // BROKEN: Figure 8',
      },
    ],
  },
  'vote-without-up-to-date-check': {
    description: 'a node grants its vote without the election restriction (§5.4.1)',
    edits: [
      {
        file: 'raft.ts',
        find: 'const grant = canVote && upToDate;',
        replace: 'const grant = canVote || (upToDate && false); // BROKEN: no election restriction',
      },
    ],
  },
  'vote-reply-before-persist': {
    description: 'the vote reply goes out in a Ready whose hard state does not yet hold the vote (§5.1, docs/safety.md #4)',
    edits: [
      {
        file: 'raft.ts',
        find: '        this.vote = m.from;\n',
        replace: '        this.vote = m.from;\n        this.hideVote = true; // BROKEN: vote persisted one Ready late\n',
      },
      { file: 'raft.ts', find: '  private prevHard: HardState;', replace: '  private prevHard: HardState;\n  private hideVote = false;' },
      {
        file: 'raft.ts',
        find: 'return { term: this.term, vote: this.vote, commit: this.log.commit };',
        replace:
          'return { term: this.term, vote: this.hideVote ? (this.prevHard.term === this.term ? this.prevHard.vote : null) : this.vote, commit: this.log.commit };',
      },
      { file: 'raft.ts', find: '  advance(rd: Ready): void {\n', replace: '  advance(rd: Ready): void {\n    this.hideVote = false;\n' },
    ],
  },
  'stale-snapshot-restore': {
    description: 'a follower restores a snapshot older than its commit index (§7)',
    edits: [
      {
        file: 'raft.ts',
        find: 'if (meta.index <= this.log.commit) {',
        replace: 'if (false as boolean) { // BROKEN: restores stale snapshots',
      },
      {
        file: 'log.ts',
        find: 'invariant(index > this.#commit, () => `snapshot at ${index} would roll back commit ${this.#commit}`);',
        replace: '// BROKEN: no roll-back guard',
      },
    ],
  },
  're-add-removed-id': {
    description: 'the leader adds a removed node id again (docs/safety.md #10: node ids are forever)',
    edits: [
      {
        file: 'raft.ts',
        find: "if (change.kind !== 'removeNode' && m.removed.has(change.node)) {",
        replace: "if ((false as boolean) && m.removed.has(change.node)) { // BROKEN: removed ids may come back",
      },
    ],
  },
};

function main(): void {
  const [name, outArg] = process.argv.slice(2);
  const variant = name ? VARIANTS[name] : undefined;
  if (!variant) {
    console.error(`usage: make-broken-variant.ts <${Object.keys(VARIANTS).join('|')}> [outDir]`);
    process.exit(2);
  }
  const source = resolve(new URL('../../src/raft', import.meta.url).pathname);
  const out = outArg ? resolve(outArg) : mkdtempSync(join(tmpdir(), `raft-${name}-`));
  if (out.startsWith(resolve(new URL('../../src', import.meta.url).pathname))) throw new Error('refusing to write inside src/');
  const dest = join(out, 'raft');
  cpSync(source, dest, { recursive: true });
  for (const edit of variant.edits) {
    const path = join(dest, edit.file);
    const text = readFileSync(path, 'utf8');
    const count = text.split(edit.find).length - 1;
    if (count !== 1) throw new Error(`${name}: expected exactly one match in ${edit.file}, found ${count}: ${edit.find}`);
    writeFileSync(path, text.replace(edit.find, edit.replace));
  }
  console.log(join(dest, 'raft.ts'));
}

main();
