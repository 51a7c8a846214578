// `mkdir -p` that ends. Node's own (mkdirSync and mkdir with {recursive: true},
// Node 20 and 22) loops forever, spinning a core, on a path whose parent
// exists but will never hold a child that answers ENOENT to mkdir: procfs does
// (`mkdir /proc/x` is ENOENT, `mkdir /proc` EEXIST, and round again). So
// `lockstep serve --data /proc/x` printed nothing and never exited. Here each
// directory is made at most twice: once, and once more after its parent was
// made or found; an ENOENT then is final.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from './errno.js';

/**
 * Makes `dir` and the parents it lacks (each with `mode`, as Node's recursive mkdir does); fine
 * when it is a directory already. Throws Node's error (with its code: EEXIST for a file in the
 * way, ENOENT, EACCES, ENOTDIR, ...) when it cannot be made.
 */
export function makeDirectory(dir: string, mode = 0o777): void {
  try {
    mkdirSync(dir, { mode });
    return;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return mustBeDirectory(dir, err);
    const parent = dirname(dir);
    if (errnoCode(err) !== 'ENOENT' || parent === dir) throw err;
  }
  makeDirectory(dirname(dir), mode);
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    // Made by another process meanwhile is fine; anything else (ENOENT under /proc) is the answer.
    if (errnoCode(err) !== 'EEXIST') throw err;
    mustBeDirectory(dir, err);
  }
}

/** After EEXIST: a directory (or a link to one) is what was asked for; a file or a dangling link is not. */
function mustBeDirectory(dir: string, exists: unknown): void {
  if (!statSync(dir).isDirectory()) throw exists;
}
