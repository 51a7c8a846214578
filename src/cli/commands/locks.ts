// lockstep locks [--prefix P]: held locks with their holders and waiters.

import type { LockList } from 'lockstep-client';
import type { CliCommand } from '../command.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlags, type FlagSpecs } from '../flags.js';
import { formatDuration } from '../duration.js';
import { itemsToList, printList } from '../list.js';

const flags = {
  prefix: { type: 'string', description: "only locks whose name starts with this (e.g. 'ticket:')" },
  json: { type: 'boolean', description: 'print JSON lines, one lock a line' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

/** Waiters named in a row of the table: the rest are in `--json`. */
const WAITERS_NAMED = 3;

/**
 * The WAITERS column: how many, and who is first in line (owner, else session; a mode other than
 * the lock's in brackets), e.g. `2 (bob, carol[shared])`: "held locks with holders and waiters"
 * (cli.md), where a bare count said nothing of who waits.
 */
/** The MODE column: a semaphore's holders each hold `exclusive` of one of its `limit` places. */
export function modeText(lock: Pick<LockList['locks'][number], 'mode' | 'limit'>): string | null {
  return lock.limit > 1 ? `semaphore (limit ${lock.limit})` : lock.mode;
}

export function waitersText(lock: Pick<LockList['locks'][number], 'mode' | 'waiters'>): string {
  const n = lock.waiters.length;
  if (n === 0) return '0';
  const named = lock.waiters.slice(0, WAITERS_NAMED).map((w) => `${w.owner ?? w.sessionId ?? 'ttl'}${w.mode !== lock.mode ? `[${w.mode}]` : ''}`);
  return `${n} (${named.join(', ')}${n > WAITERS_NAMED ? ', …' : ''})`;
}

export const locksCommand: CliCommand = {
  name: 'locks',
  summary: 'list held locks with holders, waiters and lock-delays',
  usage: ['usage: lockstep locks [flags]', '', 'flags:', describeFlags(flags)].join('\n'),
  async run(argv) {
    const values = parseFlags(argv, flags);
    const client = makeClient(values.endpoints, values.token, values);
    const locks = await withClientErrors(client, () => itemsToList(client.allLocks({ prefix: values.prefix }), 'locks', 'narrow them with --prefix'));
    printList(locks, {
      json: values.json,
      empty: values.prefix ? `no locks with prefix '${values.prefix}'` : 'no locks held',
      headers: ['NAME', 'MODE', 'HOLDERS (token)', 'SESSION/TTL', 'WAITERS', 'LOCK-DELAY'],
      row: (l) => [
        l.name,
        modeText(l),
        l.holders.map((h) => `${h.fencingToken}${h.owner ? `(${h.owner})` : ''}`).join(' '),
        l.holders.map((h) => h.sessionId ?? (h.expiresInMs !== undefined ? `ttl ${formatDuration(h.expiresInMs)}` : '')).join(' '),
        waitersText(l),
        // A lock nobody holds is listed while in lock-delay: say why nobody gets it.
        l.lockDelayRemainingMs === undefined ? undefined : formatDuration(l.lockDelayRemainingMs),
      ],
    });
    return 0;
  },
};
