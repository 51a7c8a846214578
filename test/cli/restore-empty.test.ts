// cli.md: `--restore-from` needs an empty --data. What counts as empty: a
// directory that does not exist yet, or holds nothing but the file system's
// own lost+found (the root of every freshly made ext4 volume, where a data
// volume is often mounted).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { refuseUnlessEmpty } from '../../src/cli/commands/serve.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lockstep-restore-empty-'));
  dirs.push(d);
  return d;
}

describe('--restore-from into --data', () => {
  it('takes a missing or empty directory, or one holding only lost+found', () => {
    const root = dir();
    expect(() => refuseUnlessEmpty(join(root, 'not-yet'), 'b.snap')).not.toThrow();
    expect(() => refuseUnlessEmpty(root, 'b.snap')).not.toThrow();
    mkdirSync(join(root, 'lost+found'));
    expect(() => refuseUnlessEmpty(root, 'b.snap')).not.toThrow();
  });

  it('refuses anything else, naming what is there', () => {
    const root = dir();
    mkdirSync(join(root, 'lost+found'));
    writeFileSync(join(root, 'notes.txt'), 'x');
    expect(() => refuseUnlessEmpty(root, 'b.snap')).toThrow(/--data \S+ is not empty \(notes\.txt\)/);
  });
});
