// lockstep snapshot save FILE: a consistent backup of the replicated state
// (admin), written to FILE (etcdctl snapshot save). `lockstep serve
// --restore-from FILE` starts a new cluster from it.

import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { BackupFormatError, decodeBackup } from '../../node/backup.js';
import { UserError, type CliCommand } from '../command.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlagsAndOneWord, type FlagSpecs } from '../flags.js';

const flags = { ...endpointFlags } as const satisfies FlagSpecs;

/** A backup holds session ids and fencing tokens (capabilities) and token hashes: readable by its owner only. */
const BACKUP_FILE_MODE = 0o600;

export const snapshotSaveCommand: CliCommand = {
  name: 'snapshot save',
  summary: 'save a consistent backup of the replicated state to a file (admin)',
  usage: [
    'usage: lockstep snapshot save FILE [flags]',
    '',
    'Writes a consistent copy of the replicated state (every session, hold, waiter, election,',
    'token and idempotency record, as of one Raft index) to FILE, mode 0600: it holds session',
    'ids and fencing tokens, which act as capabilities. The leader takes it after confirming',
    'its leadership, so it holds every change acknowledged before the command ran. Needs an',
    'admin token when auth is on.',
    '',
    'To start a NEW cluster from it, give every node of the new cluster the same file:',
    '  lockstep serve --restore-from FILE --data EMPTY_DIR --peers <the new cluster> ...',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, word: file } = parseFlagsAndOneWord(argv, flags, 'snapshot save', 'FILE');
    const client = makeClient(values.endpoints, values.token, values);
    const bytes = await withClientErrors(client, () => client.snapshot());
    let header;
    try {
      header = decodeBackup(bytes).header;
    } catch (err) {
      if (err instanceof BackupFormatError) throw new UserError(`the cluster answered something that is not a usable snapshot (${err.message}); nothing written`);
      throw err;
    }
    // Written beside FILE and renamed: FILE is never a half-written backup.
    const partial = `${file}.part`;
    try {
      rmSync(partial, { force: true });
      writeFileSync(partial, bytes, { mode: BACKUP_FILE_MODE });
      renameSync(partial, file);
    } catch (err) {
      // The cleanup may fail the same way (a file where a directory of FILE's path should be):
      // the first error is the one to tell, not a stack from this.
      try {
        rmSync(partial, { force: true });
      } catch {
        // nothing was written there
      }
      throw new UserError(`cannot write ${file}: ${(err as Error).message}`);
    }
    console.log(`saved a snapshot of cluster '${header.clusterId}' at index ${header.index} (term ${header.term}, taken by ${header.takenBy}, ${bytes.length} bytes) to ${file}`);
    return 0;
  },
};
