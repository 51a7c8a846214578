// createWhole (src/cli/data-lock.ts): the data-directory lock's files are made
// whole and only if absent, also where the file system has no hard links.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWhole } from '../../src/cli/data-lock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-create-whole-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failingLink(code: string) {
  return () => {
    throw Object.assign(new Error(`link: ${code}`), { code });
  };
}

describe('createWhole', () => {
  it('makes the file with its content once; a second call finds it and leaves it', () => {
    const file = path.join(dir, 'a.pid');
    expect(createWhole(file, 'first\n')).toBe(true);
    expect(createWhole(file, 'second\n')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(readdirSync(dir).filter((n) => n.startsWith('a.pid'))).toEqual(['a.pid']); // no temporary file left
  });

  it.each(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])('a file system without hard links (link: %s): made with O_EXCL instead, still only if absent', (code) => {
    const file = path.join(dir, `nolink-${code}.pid`);
    expect(createWhole(file, 'first\n', failingLink(code))).toBe(true);
    expect(createWhole(file, 'second\n', failingLink(code))).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(readdirSync(dir).filter((n) => n.startsWith(`nolink-${code}.pid`))).toEqual([`nolink-${code}.pid`]);
  });

  it('any other link error is thrown, and nothing is left behind', () => {
    const file = path.join(dir, 'eio.pid');
    expect(() => createWhole(file, 'x\n', failingLink('EIO'))).toThrow(/EIO/);
    expect(readdirSync(dir).filter((n) => n.startsWith('eio.pid'))).toEqual([]);
  });
});
