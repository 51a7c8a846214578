// One node per data directory. Two `serve` processes on one --data (the
// restart command cluster up printed, run while the node still runs; a
// second `cluster up` on the same --data at other ports) both appended to its
// log and overwrote each other's hard state: corruption nothing downstream
// catches. LevelDB locks its directory itself; the file engine did not. A
// file, serve.pid, naming the process (`<pid> <start time> <nonce>`) does it
// for both engines; a file whose process is gone (kill -9, a crash, a reboot)
// is taken over, and the start time tells a reused pid from its first owner.
//
// Node has no flock, so the exclusion is built from two atomic steps of the
// file system: link(2), which makes a name only if it is absent, and the
// uniqueness of each file's content (the random nonce). The rules:
//
//  1. Files are only ever created whole: written under a temporary name and
//     linked to their name (`create`). A half-written serve.pid, which an
//     O_EXCL create followed by a write showed for a moment, read as "no
//     process": a second node starting at the same moment removed the first
//     one's fresh file and took the directory too.
//     On a file system without hard links (vfat, some network mounts) the
//     file is made with O_EXCL and written at once instead: that moment
//     returns there, rather than no lock at all.
//  2. Holding the directory = having linked serve.pid. Its holder removes it
//     at exit, after checking it still holds its own content.
//  3. Only a file judged stale (its process is gone: it never comes back) is
//     removed by another process, and only by the one process that holds its
//     takeover claim: `serve.pid.takeover-<digest of the stale content>`,
//     made by `create`, so one process at a time. Holding it, the claimer
//     reads serve.pid again and removes it only if it still holds the stale
//     content it judged; then it removes the claim and starts over (link
//     serve.pid, which another starting node may win: then that one holds it).
//
// Why at most one holder: the race this replaces was "A and B both read the
// stale content; A removes it and links its own; B, on its old reading,
// removes A's fresh file". Under rule 3, B must first create the claim. While
// A holds it B cannot; once A removed it, B can, but B then reads serve.pid
// again and finds A's content, not the stale one, so it removes nothing.
// Between the claimer's read and its remove, serve.pid cannot change: its
// stale content is unique (a nonce; an older file's pid and start time),
// only a claim holder removes it, and its owner is gone. A claimer that dies
// leaves a claim whose process is gone: that claim is itself stale and is
// removed by the same rule (a claim on the claim), and a claim left after the
// stale file was removed names content that never comes back, so it is inert.
// What it cannot see: processes in other pid namespaces (two containers
// sharing one volume) look gone to each other.
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errno.js';
import { UserError } from './command.js';

/** In --data while a node runs on it: `<pid> <start time> <nonce>`. */
export const DATA_LOCK_FILE = 'serve.pid';

/** serve.pid and the files its taking makes beside it (a temporary file, a takeover claim): not data. */
export function isDataLockFile(name: string): boolean {
  return name === DATA_LOCK_FILE || name.startsWith(`${DATA_LOCK_FILE}.`);
}

/** How many times the lock is tried: each failed try is a takeover done, or a wait for another's. */
const ATTEMPTS = 50;
/** The wait while another process is in the middle of a takeover (microseconds, unless it was stopped). */
const TAKEOVER_WAIT_MS = 10;
/** Claims on claims: each level needs a process killed inside a takeover. */
const CLAIM_DEPTH_MAX = 8;

/** The file-system and process steps lockDataDir takes, replaced in tests to drive their interleaving. */
export interface LockSteps {
  /** A new content for a file of this process: `<pid> <start time> <nonce>`, unique. */
  ticket(): string;
  /** Whether the process that wrote `content` still runs. */
  runs(content: string): boolean;
  /** Makes `path` holding `content`, whole, only if absent; false if it exists. */
  create(path: string, content: string): boolean;
  /** `path`'s content; null if there is none. */
  read(path: string): string | null;
  /** Removes `path` (fine if gone). */
  remove(path: string): void;
  /** Runs `fn` when this process exits. */
  atExit(fn: () => void): void;
  /** Waits while another process takes the directory over. */
  pause(): void;
}

/** The start time in a ticket where /proc cannot say. */
const UNKNOWN_START = '-';

/** A process's start time in clock ticks since boot (/proc/PID/stat, field 22), or '' where /proc cannot say. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process a lock file names still runs (the same process: same pid and start time). */
function holderRuns(text: string): boolean {
  const [pidText, startText = ''] = text.trim().split(' ');
  const started = startText === UNKNOWN_START ? '' : startText;
  const pid = Number(pidText);
  // This process's own pid: an earlier run of a container whose node is pid 1 again, or a node this process stopped.
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    if (errnoCode(err) !== 'EPERM') return false;
  }
  const now = startTime(pid);
  return now === '' || started === '' || now === started;
}

/** link(2) errors of a file system without hard links (vfat, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Makes `path` holding `content`, whole, only if absent (rule 1); false if it exists. Where the
 * file system has no hard links, the file is made with O_EXCL and written at once, as before
 * link(2) was used: there a reader may see it empty for the moment between the two.
 */
export function createWhole(path: string, content: string, link: (existing: string, name: string) => void = linkSync): boolean {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(temp, content, { flag: 'wx', mode: 0o600 });
  try {
    link(temp, path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(errnoCode(err) ?? '')) throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  try {
    writeFileSync(path, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/** The steps on this machine's file system and processes. */
export const systemSteps: LockSteps = {
  ticket: () => `${process.pid} ${startTime(process.pid) || UNKNOWN_START} ${randomBytes(12).toString('hex')}\n`,
  runs: holderRuns,
  create: (path, content) => createWhole(path, content),
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw err;
    }
  },
  remove: (path) => rmSync(path, { force: true }),
  atExit: (fn) => process.once('exit', fn),
  pause: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TAKEOVER_WAIT_MS),
};

/**
 * Takes `data` for this process until it exits (the file is removed then); a UserError (exit 1)
 * when a running node holds it.
 */
export function lockDataDir(data: string, steps: LockSteps = systemSteps): void {
  try {
    for (const taking = takingDataDir(data, steps); !taking.next().done; );
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--data ${data}: cannot write ${DATA_LOCK_FILE} (${errnoCode(err) ?? (err as Error).message})`);
  }
}

/**
 * lockDataDir's steps: it pauses (yields) before each one that another process could see or
 * change, so that a test can run several takers step by step in any order.
 */
export function* takingDataDir(data: string, steps: LockSteps): Generator<void, void, undefined> {
  const path = join(data, DATA_LOCK_FILE);
  const mine = steps.ticket();
  let busy: string | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    yield;
    if (steps.create(path, mine)) {
      steps.atExit(() => {
        try {
          if (steps.read(path) === mine) steps.remove(path);
        } catch {
          // nothing more to do at exit
        }
      });
      return;
    }
    yield;
    const holder = steps.read(path);
    if (holder === null) continue; // removed in between: try again
    yield;
    if (steps.runs(holder)) {
      const pid = holder.trim().split(' ')[0];
      throw new UserError(`--data ${data} is in use by a running node (pid ${pid}, ${path}): two nodes on one data directory would corrupt its log; stop that one first (a restart command is for a node that has exited)`);
    }
    busy = yield* removeStale(path, holder, steps, 0);
    if (busy !== null) steps.pause();
  }
  throw new UserError(`--data ${data}: another node is taking it at this moment (${busy ?? path})`);
}

/** The claim on removing `path` while it holds `content`: beside it, named by the content. */
function claimOf(path: string, content: string): string {
  return join(dirname(path), `${DATA_LOCK_FILE}.takeover-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`);
}

/**
 * Removes `path` if it still holds `stale` (judged: its process is gone), under the claim that
 * makes this process the only one to do so. Null once done (by this process or another); else the
 * claim another live process holds, to wait for.
 */
function* removeStale(path: string, stale: string, steps: LockSteps, depth: number): Generator<void, string | null, undefined> {
  const claim = claimOf(path, stale);
  yield;
  if (steps.create(claim, steps.ticket())) {
    try {
      yield;
      if (steps.read(path) === stale) {
        yield;
        steps.remove(path);
      }
    } finally {
      yield;
      steps.remove(claim);
    }
    return null;
  }
  yield;
  const claimer = steps.read(claim);
  if (claimer === null) return null; // done just now: look again
  yield;
  if (steps.runs(claimer) || depth >= CLAIM_DEPTH_MAX) return claim;
  // Its claimer died taking over: the claim is stale in turn.
  return yield* removeStale(claim, claimer, steps, depth + 1);
}
