// A consumer project outside the repository: an empty folder that installs
// lockstep's tarballs the way an application would, with npm, and nothing
// from this repository's node_modules.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * npm 11 asks the project before running any dependency's install script.
 * These two only pick their bundled prebuilt binary (and compile from source
 * where none fits): the README tells users to approve them, as here.
 */
export const APPROVED_INSTALL_SCRIPTS = { 'classic-level': true, 'msgpackr-extract': true };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without what `npm test` / `npm run` put there (npm_config_*, npm_package_*, ...). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

export function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `npm run pack -- --no-build --out dir`: returns the SDK and the server/CLI tarballs' paths. */
export async function packBoth(outDir: string): Promise<{ clientTgz: string; serverTgz: string }> {
  const r = await run(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--no-build', '--out', outDir], ROOT);
  if (r.code !== 0) throw new Error(`scripts/pack.mjs failed (${r.code}): ${r.stderr}`);
  const [clientTgz, serverTgz] = r.stdout.trim().split('\n');
  return { clientTgz, serverTgz };
}

/** An empty ESM project with its own package.json. */
export function emptyProject(dir: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', ...extra }, null, 2));
  return dir;
}

interface LockEntry {
  dev?: boolean;
  link?: boolean;
  [k: string]: unknown;
}

/**
 * Writes the package-lock.json that `npm install <serverTgz>` would write if
 * it resolved every dependency to the version this repository's own lock file
 * tests, so that `npm ci --offline` installs the tarball from the npm cache
 * alone (resolving version ranges needs the registry; installing a locked
 * tree does not). The tarball goes in by path and integrity, its production
 * tree as this repository's package-lock.json has it, hoisted to the top as
 * npm would.
 */
export function lockLikeRepository(projectDir: string, serverTgz: string): void {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const spec = `file:${basename(serverTgz)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(serverTgz)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { lockstep: spec } },
    'node_modules/lockstep': {
      version: manifest.version,
      resolved: spec,
      integrity,
      bundleDependencies: manifest.bundleDependencies,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const name of manifest.bundleDependencies ?? []) {
    const link = repoLock.packages[`node_modules/${name}`];
    const target = repoLock.packages[link.resolved as string];
    packages[`node_modules/lockstep/node_modules/${name}`] = { version: target.version, inBundle: true, engines: target.engines };
  }
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev || entry.link) continue;
    packages[path] = entry;
  }
  writeFileSync(join(projectDir, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** npm's warnings in an install's output (npm prints them on stderr as `npm warn ...`). */
export function npmWarnings(r: RunResult): string[] {
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^npm warn/i.test(l));
}
