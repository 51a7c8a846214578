// Reading a file a flag names (--tls-cert, --auth-token-file, --restore-from,
// --ca, ...) without hanging on it. readFileSync waits as long as the file
// does: on a FIFO nobody writes, open(2) never returns; on /dev/zero the read
// never ends (until 2 GiB of zeros). Either froze `lockstep serve` at start,
// a SIGTERM included (the signal waits for the event loop the read holds).
// Here a FIFO is opened without waiting for a writer (none: it reads as
// empty), a pipe or device may take `maxBytes` and PIPE_WAIT_MS at most, and
// a regular file is read whole as before; `<(command)` still works.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { errnoCode } from './errno.js';

/** How long a pipe (or terminal) may keep its end of file waiting. */
export const PIPE_WAIT_MS = 30_000;
/** The pause between reads of a pipe that has nothing yet. */
const PIPE_POLL_MS = 10;
const CHUNK_BYTES = 64 * 1024;

/** What a pipe may send for a PEM file (a certificate, a key, a CA bundle). */
export const PEM_PIPE_BYTES_MAX = 4 * 1024 * 1024;

/**
 * `path`'s bytes. Throws Node's error for a file that cannot be opened or read (ENOENT, EACCES,
 * EISDIR, ...), and an Error saying so for a pipe or device that sends more than `maxBytes`
 * or no end of file within PIPE_WAIT_MS.
 */
export function readInputFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    // A regular file ends (O_NONBLOCK changes nothing for it); its size may grow while read.
    const limit = stat.isFile() ? Infinity : maxBytes;
    const chunks: Buffer[] = [];
    let total = 0;
    let waitedMs = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      } catch (err) {
        if (errnoCode(err) !== 'EAGAIN') throw err;
        if (waitedMs >= PIPE_WAIT_MS) throw new Error(`a pipe or device that sent no end of file within ${PIPE_WAIT_MS / 1000} s`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PIPE_POLL_MS);
        waitedMs += PIPE_POLL_MS;
        continue;
      }
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > limit) throw new Error(`a ${stat.isCharacterDevice() ? 'device' : 'pipe'} that sends more than ${maxBytes} bytes (give a regular file)`);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
