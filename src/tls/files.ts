// Certificates on disk: DIR/<name>.crt (mode 0644) and DIR/<name>.key (mode
// 0600), never overwritten (a CA replaced by mistake would orphan every
// certificate it signed).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory } from '../make-dir.js';
import type { Pem } from './certificates.js';

export interface PemPaths {
  cert: string;
  key: string;
}

export function pemPaths(dir: string, name: string): PemPaths {
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export class CertificateExistsError extends Error {}

/** Writes both files, or neither when either exists already. */
export function writePem(dir: string, name: string, pem: Pem): PemPaths {
  const paths = pemPaths(dir, name);
  for (const path of [paths.cert, paths.key]) {
    if (existsSync(path)) throw new CertificateExistsError(`${path} exists already; remove it first to make a new one`);
  }
  makeDirectory(dir);
  // 'wx': fails rather than replace a file created since the check.
  writeFileSync(paths.key, pem.key, { mode: 0o600, flag: 'wx' });
  writeFileSync(paths.cert, pem.cert, { mode: 0o644, flag: 'wx' });
  return paths;
}

export function readPem(paths: PemPaths): Pem {
  return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') };
}
