#!/usr/bin/env node
// Runs the test command (npm test) under another Node.js major, to keep the
// code running unchanged on the Node.js lines it supports (20, 22, 24):
//
//   node scripts/test-on-node.mjs 22 [-- vitest args]
//
// The binary comes from the npm registry itself (the node-<platform>-<arch>
// packages behind npm's `node` package), so nothing but the registry npm
// already uses is needed. It is unpacked once under
// node_modules/.cache/node-<platform>-<arch>-<version>/ and put first on PATH,
// so the build, vitest and every process the tests start run under it.
// Not part of `npm test`: CI runs the suite once, on the machine's Node.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

const [major, ...rest] = process.argv.slice(2);
if (!/^\d+$/.test(major ?? '')) {
  console.error('usage: node scripts/test-on-node.mjs MAJOR [-- vitest args]   (e.g. 22)');
  process.exit(2);
}
const vitestArgs = rest[0] === '--' ? rest.slice(1) : rest;
const pkg = `node-${process.platform}-${process.arch}`;

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed:\n${r.stderr ?? ''}`);
    process.exit(1);
  }
  return r.stdout ?? '';
}

// The newest release of that major on the registry.
const versions = JSON.parse(run('npm', ['view', `${pkg}@${major}`, 'version', '--json']));
const version = [versions].flat().at(-1);
if (typeof version !== 'string') {
  console.error(`no ${pkg} release of Node.js ${major} on the registry`);
  process.exit(1);
}
const dir = path.resolve('node_modules/.cache', `${pkg}-${version}`);
const bin = path.join(dir, 'package', 'bin');
if (!existsSync(path.join(bin, 'node'))) {
  mkdirSync(dir, { recursive: true });
  run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', dir, '--silent']);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  run('tar', ['xzf', path.join(dir, tarball), '-C', dir]);
}
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
console.log(`testing under ${run(path.join(bin, 'node'), ['--version']).trim()} (${bin})`);
const test = spawnSync('node', ['scripts/test.mjs', ...vitestArgs], { stdio: 'inherit', env });
process.exit(test.status ?? 1);
