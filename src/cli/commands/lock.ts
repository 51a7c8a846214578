// lockstep lock NAME [NAME...] [--ttl-ms N] [--wait-ms N] -- CMD [ARGS...]
//
// Holds the lock — or, with several names, all of them as one lock set (all
// or nothing, waiting in line for all of them at once, never holding part:
// http-api.md "Lock sets") — with a session (kept alive by heartbeats;
// --ttl-ms is its TTL, so if this process dies the locks free within that),
// runs CMD with the fencing token(s) in its environment, sends it SIGTERM if
// the hold is lost (the session signal fires BEFORE the lease can have ended
// on the server, docs/safety.md #18; a hold released by someone else is seen
// when the session is read back, src/cli/hold-watch.ts), releases at exit and
// exits with CMD's status.

import { hostname, userInfo } from 'node:os';
import { acquireWaiting, type Client, HEARTBEATS_PER_TTL, isLockstepError, releaseAll, type Session, sessionName, waitInChunks } from 'lockstep-client';
import { LOCK_SET_NAMES_MAX } from '../../locks/limits.js';
import { FlagValueError, UserError, type CliCommand } from '../command.js';
import { interruptSignal, namesAndCommand, runWhileHeld } from '../child.js';
import { watchHolds } from '../hold-watch.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseCommandLine, type FlagSpecs } from '../flags.js';
import { formatDuration } from '../duration.js';

const flags = {
  'ttl-ms': { type: 'number', default: 10_000, min: 1000, max: 300_000, description: 'TTL of the session that holds the lock: how long the lock outlives this process if it dies' },
  'wait-ms': { type: 'number', min: 0, description: 'give up if the lock is not had within this long (default: wait as long as it takes; 0: try once)' },
  mode: { type: 'string', default: 'exclusive', choices: ['exclusive', 'shared'], description: 'shared = read lock (every NAME)' },
  limit: { type: 'number', default: 1, min: 1, max: 10_000, description: 'exclusive: up to this many holders (a semaphore; every NAME)' },
  owner: { type: 'string', description: 'a label shown to others (default user@host:pid)' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

type Mode = 'exclusive' | 'shared';

interface Held {
  holds: Array<{ name: string; fencingToken: number }>;
  release(): Promise<void>;
}

interface Request {
  client: Client;
  session: Session;
  names: string[];
  waitMs: number;
  mode: Mode;
  limit: number;
  owner: string;
  signal: AbortSignal;
}

const holdersText = (holders: Array<{ fencingToken: number; owner?: string }>): string =>
  holders.map((h) => `token ${h.fencingToken}${h.owner ? ` (${h.owner})` : ''}`).join(', ');

/** What stands in the way of one lock: its holders, its queue, and a lock-delay when there is one. */
function inTheWay(b: { holders: Array<{ fencingToken: number; owner?: string }>; queueLength: number; lockDelayRemainingMs?: number }): string {
  const parts = [`held by ${holdersText(b.holders) || 'nobody'}`, `${b.queueLength} waiting`];
  if (b.lockDelayRemainingMs !== undefined) {
    parts.push(`in lock-delay for another ${formatDuration(b.lockDelayRemainingMs)} (the session that held it expired; nobody gets it until then)`);
  }
  return parts.join(', ');
}

async function holdOne(r: Request): Promise<Held> {
  const [name] = r.names;
  const { result } = await acquireWaiting(r.client, name, { sessionId: r.session.id, waitMs: r.waitMs, mode: r.mode, limit: r.limit, owner: r.owner }, r.signal);
  if (!result.acquired) {
    throw new UserError(`lock '${name}' not acquired within ${formatDuration(r.waitMs)}; ${inTheWay(result)}`);
  }
  return {
    holds: [{ name, fencingToken: result.fencingToken }],
    release: () => r.client.release(name, result.fencingToken).then(() => undefined),
  };
}

async function holdSet(r: Request): Promise<Held> {
  const locks = r.names.map((name) => ({ name, mode: r.mode, limit: r.limit }));
  const { result } = await waitInChunks(r.client.clock, r.waitMs, (waitMs) =>
    r.client.acquireSet({ locks, sessionId: r.session.id, waitMs, owner: r.owner }, { signal: r.signal }),
  );
  if (!result.acquired) {
    const blocked = result.blocked.map((b) => `'${b.name}' ${inTheWay(b)}`);
    throw new UserError(`locks ${r.names.map((n) => `'${n}'`).join(', ')} not acquired within ${formatDuration(r.waitMs)} (all or nothing); in the way: ${blocked.join('; ')}`);
  }
  const holds = result.holds.map(({ name, fencingToken }) => ({ name, fencingToken }));
  return { holds, release: () => releaseAll(r.client, result.holds) };
}

/**
 * One lock: LOCKSTEP_LOCK_NAME and LOCKSTEP_FENCING_TOKEN. Every run also
 * gets the lists, in the order given: LOCKSTEP_LOCK_NAMES ("a b") and
 * LOCKSTEP_FENCING_TOKENS ("a=41 b=42"); with several locks there is no one
 * token, so only the lists.
 */
function holdEnv(held: Held, sessionId: string): Record<string, string> {
  const env: Record<string, string> = {
    LOCKSTEP_LOCK_NAMES: held.holds.map((h) => h.name).join(' '),
    LOCKSTEP_FENCING_TOKENS: held.holds.map((h) => `${h.name}=${h.fencingToken}`).join(' '),
    LOCKSTEP_SESSION_ID: sessionId,
  };
  if (held.holds.length === 1) {
    env.LOCKSTEP_LOCK_NAME = held.holds[0].name;
    env.LOCKSTEP_FENCING_TOKEN = String(held.holds[0].fencingToken);
  }
  return env;
}

export const lockCommand: CliCommand = {
  name: 'lock',
  summary: 'run a command while holding a lock (or several, as one lock set)',
  usage: [
    'usage: lockstep lock NAME [NAME...] [flags] -- CMD [ARGS...]',
    '',
    'Acquire lock NAME (waiting in line), run CMD while holding it, release it when CMD exits,',
    "and exit with CMD's status. CMD gets the fencing token in $LOCKSTEP_FENCING_TOKEN: pass it",
    'to whatever CMD writes, so a write after the hold is lost can be refused. If the hold is',
    'lost, CMD gets SIGTERM (SIGKILL 10 s later). Exit 1 if the lock could not be had.',
    '',
    `Several NAMEs (up to ${LOCK_SET_NAMES_MAX}) are taken as one lock set: all of them or none, waiting in`,
    'line for all of them at once, never holding part of them (so two commands that name the',
    'same locks in different orders never deadlock). CMD gets $LOCKSTEP_LOCK_NAMES ("a b") and',
    '$LOCKSTEP_FENCING_TOKENS ("a=41 b=42"), one token per lock, in the order given.',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, positionals, rest } = parseCommandLine(argv, flags, { allowPositionals: true });
    const { names, command } = namesAndCommand('lock', positionals, rest, LOCK_SET_NAMES_MAX);
    if (new Set(names).size !== names.length) throw new UserError(`lock names a lock twice: ${names.join(' ')}`);
    // Said here in the CLI's words; the server's answer would name its body field.
    if (values.mode === 'shared' && values.limit !== 1) throw new FlagValueError('--limit applies to --mode exclusive only (a shared lock takes any number of holders): drop --limit, or use --mode exclusive');
    const client = makeClient(values.endpoints, values.token, values);
    const owner = values.owner ?? defaultOwner();
    const quoted = names.map((n) => `'${n}'`).join(', ');
    const what = `${names.length === 1 ? 'lock' : 'locks'} ${quoted}`;
    const session = await withClientErrors(client, () => client.session({ ttlMs: values['ttl-ms'], name: sessionName(`lock ${names.join(' ')} by ${owner}`) }));
    const interrupt = interruptSignal();
    let held: Held;
    try {
      const request: Request = {
        client,
        session,
        names,
        waitMs: values['wait-ms'] ?? Infinity,
        mode: values.mode as Mode,
        limit: values.limit,
        owner,
        signal: AbortSignal.any([interrupt.signal, session.signal]),
      };
      held = await withClientErrors(client, () => (names.length === 1 ? holdOne(request) : holdSet(request))).catch((err: unknown) => {
        if (interrupt.signal.aborted) throw new UserError(`interrupted while waiting for ${what}`);
        if (session.signal.aborted) throw new UserError(`the session was lost while waiting for ${what}: ${(session.signal.reason as Error).message}`);
        throw err;
      });
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    } finally {
      interrupt.dispose();
    }
    // Lost with the session, or on its own (released by someone who has its fencing token).
    const watch = watchHolds(client, session.id, held.holds.map((h) => ({ kind: 'lock', ...h })), values['ttl-ms'] / HEARTBEATS_PER_TTL);
    const lost = AbortSignal.any([session.signal, watch.signal]);
    const child = runWhileHeld(command, holdEnv(held, session.id), lost, () =>
      process.stderr.write(`lockstep: lost the hold on ${quoted} (${(lost.reason as Error | undefined)?.message ?? 'session ended'}); sending SIGTERM to ${command[0]}\n`),
    );
    const status = await child.status;
    watch.stop();
    // Release, then end the session; both may already be gone.
    await held.release().catch((err: unknown) => {
      if (!isLockstepError(err, 'not_holder') && !isLockstepError(err, 'session_not_found')) {
        process.stderr.write(`lockstep: could not release ${quoted} (${(err as Error).message}); it ends with the session\n`);
      }
    });
    await session.close().catch(() => undefined);
    return status;
  },
};

export function defaultOwner(): string {
  return `${userName()}@${hostname()}:${process.pid}`;
}

/**
 * $USER (Windows: $USERNAME), else the system's name for this process's user: a container or a
 * cron job often sets neither, and the label read the literal word 'user' (root's holds too).
 */
function userName(): string {
  const fromEnv = process.env.USER || process.env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    // A uid with no entry in the user database.
    return 'user';
  }
}
