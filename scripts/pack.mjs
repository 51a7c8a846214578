#!/usr/bin/env node
// npm run pack [-- --out DIR] [--no-build]: the two installable tarballs, into
// DIR (default .), built first unless --no-build (dist/ is known fresh):
//   lockstep-client-<v>.tgz  the SDK (packages/client): no dependencies at all;
//   lockstep-<v>.tgz         the server and the `lockstep` CLI, with the SDK
//                            inside it (bundleDependencies), so that
//                            `npm install ./lockstep-<v>.tgz` needs no registry
//                            entry for lockstep-client.
// Prints the two paths, one a line.
//
// Why not a bare `npm pack` at the root: its package.json carries what a clone
// needs (the `prepare` that builds on `npm ci`, dev dependencies, workspaces).
// npm treats `prepare` in a tarball dependency as an install script of a
// non-registry source and warns about it on every install. So the root is
// packed as usual (npm's own file list and bundling), then its manifest is
// stripped of the clone-only fields and the tarball packed again.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Manifest fields that only make sense in a clone of the repository. */
const CLONE_ONLY_FIELDS = ['scripts', 'devDependencies', 'workspaces', 'overrides'];

const { values } = parseArgs({ options: { out: { type: 'string', default: '.' }, 'no-build': { type: 'boolean', default: false } } });
const buildArgs = values['no-build'] ? ['--ignore-scripts'] : [];
const outDir = resolve(values.out);
mkdirSync(outDir, { recursive: true });

/** Runs npm pack with the given arguments; returns the tarball's file name. */
function npmPack(args, cwd) {
  const json = execFileSync('npm', ['pack', '--json', '--silent', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [{ filename }] = JSON.parse(json);
  return filename;
}

const stageDir = mkdtempSync(join(tmpdir(), 'lockstep-pack-'));
try {
  // The root's `prepare` builds both packages; the client's `prepack` builds it again (cheap).
  const rawName = npmPack(['--pack-destination', stageDir, ...buildArgs], ROOT);
  const clientName = npmPack(['-w', 'lockstep-client', '--pack-destination', outDir, ...buildArgs], ROOT);

  execFileSync('tar', ['-xzf', join(stageDir, rawName), '-C', stageDir]);
  const packageDir = join(stageDir, 'package');
  const manifestPath = join(packageDir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  for (const field of CLONE_ONLY_FIELDS) delete manifest[field];
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const serverName = npmPack(['--pack-destination', outDir, '--ignore-scripts'], packageDir);

  console.log(join(outDir, clientName));
  console.log(join(outDir, serverName));
} finally {
  rmSync(stageDir, { recursive: true, force: true });
}
