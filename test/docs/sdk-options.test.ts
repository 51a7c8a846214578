// The README's table of `new Client({...})` options names every option the
// SDK's ClientOptions has (a user with a TLS cluster must find `tls` there).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function clientOptionKeys(): string[] {
  const src = readFileSync(`${ROOT}packages/client/src/client.ts`, 'utf8');
  const body = /export interface ClientOptions \{([\s\S]*?)\n\}/.exec(src)?.[1] ?? '';
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
}

function readmeOptionTable(): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = readme.indexOf('| `new Client({...})` option |');
  expect(start).toBeGreaterThan(-1);
  const rest = readme.slice(start).split('\n');
  return rest.slice(0, rest.findIndex((l) => !l.startsWith('|'))).join('\n');
}

describe('README: the SDK options table', () => {
  it('names every ClientOptions key', () => {
    const keys = clientOptionKeys();
    expect(keys).toContain('endpoints');
    const table = readmeOptionTable();
    expect(keys.filter((k) => !table.includes(`\`${k}\``))).toEqual([]);
  });
});
