// makeDirectory: `mkdir -p` as Node's recursive mkdir does it, minus its endless loop under /proc
// (which test/cli/bad-paths.test.ts runs in a child process: a spin would hang this worker).
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from '../src/make-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-make-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
};

describe('makeDirectory', () => {
  it('makes the missing parents too, each with the mode', () => {
    const deep = join(dir, 'a', 'b', 'c');
    makeDirectory(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(deep).mode & 0o777).toBe(0o700);
  });

  it('is fine with a directory that exists, and a link to one', () => {
    makeDirectory(dir);
    symlinkSync(dir, join(dir, 'link'));
    makeDirectory(join(dir, 'link'));
    makeDirectory(join(dir, 'link', 'x'));
    expect(statSync(join(dir, 'x')).isDirectory()).toBe(true);
  });

  it('throws with the code Node gives: a file in the way, a file as a parent, a dangling link', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(codeOf(() => makeDirectory(file))).toBe('EEXIST');
    expect(codeOf(() => makeDirectory(join(file, 'x', 'y')))).toBe('ENOTDIR');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(codeOf(() => makeDirectory(join(dir, 'dangling')))).toBe('ENOENT');
    expect(codeOf(() => makeDirectory(join(dir, 'dangling', 'x')))).toBe('ENOENT');
  });

  it('makes a relative path', () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      makeDirectory(join('r', 's'));
    } finally {
      process.chdir(cwd);
    }
    expect(statSync(join(dir, 'r', 's')).isDirectory()).toBe(true);
  });
});
