// lockstep lock NAME [--ttl-ms N] [--wait-ms N] -- CMD [ARGS...]
//
// Holds the lock with a session (kept alive by heartbeats; --ttl-ms is its
// TTL, so if this process dies the lock frees within that), runs CMD with
// LOCKSTEP_FENCING_TOKEN in its environment, sends it SIGTERM if the hold is
// lost (the session signal fires BEFORE the lease can have ended on the
// server, correctness.md item 18), releases at exit and exits with CMD's status.

import { hostname } from 'node:os';
import { isLockstepError, acquireWaiting, type LeaseEndedError } from 'lockstep-client';
import { UserError, type CliCommand } from '../command.js';
import { interruptSignal, nameAndCommand, runWhileHeld } from '../child.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseCommandLine, type FlagSpecs } from '../flags.js';

const flags = {
  'ttl-ms': { type: 'number', default: 10_000, min: 1000, max: 300_000, description: 'TTL of the session that holds the lock: how long the lock outlives this process if it dies' },
  'wait-ms': { type: 'number', min: 0, description: 'give up if the lock is not had within this long (default: wait as long as it takes; 0: try once)' },
  mode: { type: 'string', default: 'exclusive', choices: ['exclusive', 'shared'], description: 'shared = read lock' },
  limit: { type: 'number', default: 1, min: 1, max: 10_000, description: 'exclusive: up to this many holders (a semaphore)' },
  owner: { type: 'string', description: 'a label shown to others (default user@host:pid)' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export const lockCommand: CliCommand = {
  name: 'lock',
  summary: 'run a command while holding a lock',
  usage: [
    'usage: lockstep lock NAME [flags] -- CMD [ARGS...]',
    '',
    'Acquire lock NAME (waiting in line), run CMD while holding it, release it when CMD exits,',
    "and exit with CMD's status. CMD gets the fencing token in $LOCKSTEP_FENCING_TOKEN: pass it",
    'to whatever CMD writes, so a write after the hold is lost can be refused. If the hold is',
    'lost, CMD gets SIGTERM (SIGKILL 10 s later). Exit 1 if the lock could not be had.',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, positionals, rest } = parseCommandLine(argv, flags, { allowPositionals: true });
    const { name, command } = nameAndCommand('lock', positionals, rest);
    const client = makeClient(values.endpoints, values.token);
    const owner = values.owner ?? defaultOwner();
    const session = await withClientErrors(client, () => client.session({ ttlMs: values['ttl-ms'], name: `lock ${name} by ${owner}` }));
    const interrupt = interruptSignal();
    let token: number;
    try {
      const { result } = await withClientErrors(client, () =>
        acquireWaiting(
          client,
          name,
          { sessionId: session.id, waitMs: values['wait-ms'] ?? Infinity, mode: values.mode as 'exclusive' | 'shared', limit: values.limit, owner },
          AbortSignal.any([interrupt.signal, session.signal]),
        ),
      ).catch((err: unknown) => {
        if (interrupt.signal.aborted) throw new UserError(`interrupted while waiting for lock '${name}'`);
        if (session.signal.aborted) throw new UserError(`the session was lost while waiting for lock '${name}': ${(session.signal.reason as Error).message}`);
        throw err;
      });
      if (!result.acquired) {
        const holders = result.holders.map((h) => `token ${h.fencingToken}${h.owner ? ` (${h.owner})` : ''}`).join(', ');
        throw new UserError(`lock '${name}' not acquired within ${values['wait-ms']} ms; held by ${holders || 'nobody (lock-delay?)'}, ${result.queueLength} waiting`);
      }
      token = result.fencingToken;
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    } finally {
      interrupt.dispose();
    }
    const child = runWhileHeld(
      command,
      { LOCKSTEP_FENCING_TOKEN: String(token), LOCKSTEP_LOCK_NAME: name, LOCKSTEP_SESSION_ID: session.id },
      session.signal,
      () => process.stderr.write(`lockstep: lost the hold on '${name}' (${(session.signal.reason as LeaseEndedError)?.message ?? 'session ended'}); sending SIGTERM to ${command[0]}\n`),
    );
    const status = await child.status;
    // Release, then end the session; both may already be gone.
    await client.release(name, token).catch((err: unknown) => {
      if (!isLockstepError(err, 'not_holder') && !isLockstepError(err, 'session_not_found')) {
        process.stderr.write(`lockstep: could not release '${name}' (${(err as Error).message}); it ends with the session\n`);
      }
    });
    await session.close().catch(() => undefined);
    return status;
  },
};

export function defaultOwner(): string {
  const user = process.env.USER ?? process.env.USERNAME ?? 'user';
  return `${user}@${hostname()}:${process.pid}`;
}
