import type { CliCommand } from '../command.js';
import { certsCaCommand, certsClientCommand, certsNodeCommand } from './certs.js';
import { clusterUpCommand } from './cluster-up.js';
import { electCommand } from './elect.js';
import { leaderTransferCommand } from './leader.js';
import { lockCommand } from './lock.js';
import { locksCommand } from './locks.js';
import { observeCommand } from './observe.js';
import { membersAddCommand, membersRemoveCommand } from './members.js';
import { serveCommand } from './serve.js';
import { sessionsCommand } from './sessions.js';
import { snapshotSaveCommand } from './snapshot.js';
import { statusCommand } from './status.js';
import { watchCommand } from './watch.js';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token.js';

/** Every subcommand, longest names first so that 'cluster up' wins over a bare word. Add yours here. */
export const commands: CliCommand[] = [
  clusterUpCommand,
  membersAddCommand,
  membersRemoveCommand,
  leaderTransferCommand,
  snapshotSaveCommand,
  certsCaCommand,
  certsNodeCommand,
  certsClientCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  statusCommand,
  lockCommand,
  electCommand,
  locksCommand,
  watchCommand,
  observeCommand,
  sessionsCommand,
  serveCommand,
];
