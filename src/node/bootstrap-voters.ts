// The cluster's bootstrap voters, as this node first started with them.
//
// The core takes the configuration from the snapshot when there is one, and
// otherwise from its bootstrap voters plus the config entries in the log
// (src/raft/raft.ts). Those voters are a fact of the cluster, fixed when it was
// made, so a node records them in its data directory at its first start and
// reads them back at every later one: `--peers` then only gives addresses
// (cli.md). Taking them from `--peers` at every start let a node restarted on
// its data with `--peers` naming only itself count itself as the whole cluster
// until its first snapshot, elect itself and commit alone beside the real
// majority (found by the CLI audit, test/node/process-bootstrap.test.ts).
//
// A data directory made before this record existed has none, and gets none
// (see settleBootstrapVoters).

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { NodeId, PersistentState } from '../raft/types.js';

export const BOOTSTRAP_VOTERS_FILE = 'bootstrap-voters.json';

/** Where a node keeps its bootstrap voters (a file in its data directory; in memory for tests). */
export interface BootstrapVotersRecord {
  /** The voters recorded at the first start, or null before it. Throws if the record is damaged. */
  read(): NodeId[] | null;
  /** Record them durably; called once, when read() gave null. */
  write(voters: NodeId[]): void;
}

/**
 * The voters this start uses: the recorded ones; at a node's first start (no Raft state yet),
 * `fromPeers`, recorded now. Data made before this record existed has state and no record: it
 * gets none, since `--peers` at this start may be the wrong one the record guards against, and
 * recording it would keep a wrong set for good where it used to last one start. So it runs as
 * it always did, on `--peers`, with a warning. (With a snapshot the core takes its
 * configuration from the snapshot and these voters are not used.)
 */
export function settleBootstrapVoters(record: BootstrapVotersRecord, fromPeers: NodeId[], state: PersistentState, log: Logger): NodeId[] {
  const recorded = record.read();
  if (recorded === null) {
    const fresh = state.snapshot === null && state.entries.length === 0 && state.hardState.term === 0;
    if (fresh) record.write(fromPeers);
    else if (state.snapshot === null) log.warn({ peers: fromPeers }, 'this data directory predates the record of its bootstrap voters: taking them from --peers at this start, as before (a node made anew records them)');
    return fromPeers;
  }
  if (!sameVoters(recorded, fromPeers)) {
    log.warn({ recorded, peers: fromPeers }, '--peers names other voters than the ones recorded at the first start; keeping the recorded ones (--peers only gives addresses now)');
  }
  return recorded;
}

/** Whether two lists name the same voters (in any order). */
export function sameVoters(a: readonly string[], b: readonly string[]): boolean {
  const s = new Set(a);
  return a.length === b.length && b.every((x) => s.has(x));
}

/** The record as a file in the data directory, replaced atomically (temporary file, fsync, rename, directory fsync). */
export class FileBootstrapVoters implements BootstrapVotersRecord {
  constructor(private readonly dir: string) {}

  read(): NodeId[] | null {
    const path = join(this.dir, BOOTSTRAP_VOTERS_FILE);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      // Not recorded yet (ENOENT also when the directory itself is not made yet).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const voters = (parsed as { voters?: unknown } | null)?.voters;
    if (!Array.isArray(voters) || voters.length === 0 || !voters.every((v) => typeof v === 'string' && v.length > 0)) {
      throw new Error(`${path} is damaged (expected {"voters": ["n1", ...]}): refusing to guess the cluster's voters`);
    }
    return voters as NodeId[];
  }

  write(voters: NodeId[]): void {
    const path = join(this.dir, BOOTSTRAP_VOTERS_FILE);
    const tmp = `${path}.partial`;
    writeFileSync(tmp, `${JSON.stringify({ voters })}\n`);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

/** The in-memory twin, for tests: survives a node's restart as long as the object does. */
export class MemoryBootstrapVoters implements BootstrapVotersRecord {
  private voters: NodeId[] | null = null;

  read(): NodeId[] | null {
    return this.voters === null ? null : [...this.voters];
  }

  write(voters: NodeId[]): void {
    this.voters = [...voters];
  }
}
