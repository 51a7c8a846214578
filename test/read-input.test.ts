// readInputFile: a file a flag names, read without hanging on a FIFO nobody writes or a device
// that never ends (test/cli/serve-inputs.test.ts runs serve on them: readFileSync would hang this worker).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readInputFile } from '../src/read-input.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-read-input-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readInputFile', () => {
  it('reads a regular file whole, past the limit for pipes', () => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x'.repeat(200_000));
    expect(readInputFile(file, 10).length).toBe(200_000);
  });

  it('throws Node\'s error for a missing file and a directory', () => {
    expect(() => readInputFile(join(dir, 'nope'), 10)).toThrow(/ENOENT/);
    expect(() => readInputFile(dir, 10)).toThrow(/EISDIR/);
  });

  it('reads a FIFO nobody writes to as empty, at once', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(readInputFile(fifo, 10).length).toBe(0);
  });

  it.runIf(existsSync('/dev/zero'))('stops reading a device past the limit, saying so', () => {
    expect(() => readInputFile('/dev/zero', 100_000)).toThrow('a device that sends more than 100000 bytes (give a regular file)');
    expect(readInputFile('/dev/null', 10).length).toBe(0);
  });
});
