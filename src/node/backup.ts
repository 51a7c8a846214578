// A backup of the replicated state: what `GET /v1/cluster/snapshot` answers,
// `lockstep snapshot save FILE` writes and `lockstep serve --restore-from
// FILE` starts a new cluster from.
//
// The file: the line `LOCKSTEP-SNAPSHOT`, one line of JSON (the header: the
// Raft index and term the state was taken at, where from, the length and
// CRC-32 of the state), then the state machine's own snapshot bytes. The
// header is text so that `head -2 FILE` tells an operator what a file is.
//
// A restored cluster starts its log at the backup's index: fencing tokens are
// Raft indexes, so every token granted after the restore is larger than every
// token in the backup (http-api.md: strictly larger than every token before).

import { crc32 } from '../storage/crc32.js';
import type { RaftStorage } from '../storage/api.js';
import type { LogIndex, NodeId, Term } from '../raft/types.js';
import { encodeMemberContext } from './members.js';

const MAGIC = 'LOCKSTEP-SNAPSHOT\n';
const FORMAT_VERSION = 1;
/** A header longer than this is not one of ours (it is a few hundred bytes). */
const HEADER_BYTES_MAX = 64 * 1024;

export interface BackupHeader {
  version: number;
  /** The cluster it was taken from (`serve --cluster-id`). */
  clusterId: string;
  /** The node that answered (the leader, after a ReadIndex barrier). */
  takenBy: string;
  /** Wall clock at the leader, ms since epoch: for people, never for leases. */
  takenAtMs: number;
  /** Raft index and term of the state: everything committed up to `index` is in it. */
  index: number;
  term: number;
  dataBytes: number;
  dataCrc32: number;
}

export interface Backup {
  header: BackupHeader;
  /** The lock machine's snapshot (src/locks/snapshot.ts). */
  data: Uint8Array;
}

export class BackupFormatError extends Error {}

export function encodeBackup(source: { clusterId: string; takenBy: string; takenAtMs: number; index: number; term: number }, data: Uint8Array): Uint8Array {
  const header: BackupHeader = { version: FORMAT_VERSION, ...source, dataBytes: data.length, dataCrc32: crc32(data) };
  const head = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`, 'utf8');
  return Buffer.concat([head, data]);
}

/** Reads a backup file's bytes; BackupFormatError says what is wrong with it (not ours, cut short, damaged). */
export function decodeBackup(bytes: Uint8Array): Backup {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw new BackupFormatError('not a lockstep snapshot (it does not start with LOCKSTEP-SNAPSHOT; make one with `lockstep snapshot save FILE`)');
  }
  const end = buf.indexOf(0x0a, MAGIC.length);
  if (end === -1 || end - MAGIC.length > HEADER_BYTES_MAX) throw new BackupFormatError('the snapshot header is cut short or damaged');
  let header: BackupHeader;
  try {
    header = JSON.parse(buf.subarray(MAGIC.length, end).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupFormatError('the snapshot header is not JSON (damaged file)');
  }
  if (header?.version !== FORMAT_VERSION) throw new BackupFormatError(`snapshot format version ${String(header?.version)} is not one this lockstep reads (${FORMAT_VERSION})`);
  for (const field of ['index', 'term', 'dataBytes', 'dataCrc32'] as const) {
    if (!Number.isSafeInteger(header[field]) || header[field] < 0) throw new BackupFormatError(`the snapshot header's ${field} is not a non-negative integer`);
  }
  if (header.index < 1) throw new BackupFormatError('the snapshot header\'s index must be at least 1');
  const data = buf.subarray(end + 1);
  if (data.length !== header.dataBytes) {
    const hint = data.length < header.dataBytes ? 'cut short?' : 'bytes added after its end?';
    throw new BackupFormatError(`the snapshot holds ${data.length} bytes of state, its header says ${header.dataBytes} (${hint})`);
  }
  if (crc32(data) !== header.dataCrc32) throw new BackupFormatError('the snapshot\'s state does not match its checksum (damaged file)');
  return { header, data: new Uint8Array(data) };
}

export class RestoreRefusedError extends Error {}

/**
 * Makes an EMPTY storage hold the backup as its Raft snapshot, with `voters`
 * (the new cluster's --peers) as the configuration: the node then starts as
 * if it had taken that snapshot itself. Every node of the new cluster is
 * restored from the same file, so they all start from the same index, term
 * and state, and elect a leader as usual. Storage that already holds state is
 * refused: restoring over it would fork a cluster's history.
 */
export async function restoreBackup(storage: RaftStorage, backup: Backup, voters: Array<{ id: NodeId; peerUrl: string }>): Promise<void> {
  const persisted = await storage.load();
  if (persisted.snapshot !== null || persisted.entries.length > 0 || persisted.hardState.term > 0) {
    throw new RestoreRefusedError('this node\'s data directory already holds state; --restore-from starts a NEW cluster from an empty --data (to restart this node from its own data, leave --restore-from off)');
  }
  const index = backup.header.index as LogIndex;
  const term = backup.header.term as Term;
  const memberContext: Record<string, Uint8Array> = {};
  for (const v of voters) memberContext[v.id] = encodeMemberContext({ peerUrl: v.peerUrl, apiUrl: null });
  await storage.save({
    hardState: { term, vote: null, commit: index },
    entries: [],
    snapshot: { meta: { index, term, conf: { voters: voters.map((v) => v.id), learners: [] }, memberContext }, data: backup.data },
  });
}
