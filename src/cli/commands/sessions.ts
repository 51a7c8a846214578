// lockstep sessions: live sessions with their TTL, remaining time and holds.

import type { CliCommand } from '../command.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlags, type FlagSpecs } from '../flags.js';
import { formatDuration } from '../duration.js';
import { itemsToList, printList } from '../list.js';

const flags = {
  json: { type: 'boolean', description: 'print JSON lines, one session a line' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export const sessionsCommand: CliCommand = {
  name: 'sessions',
  summary: 'list sessions with TTLs and holds',
  usage: ['usage: lockstep sessions [flags]', '', 'flags:', describeFlags(flags)].join('\n'),
  async run(argv) {
    const values = parseFlags(argv, flags);
    const client = makeClient(values.endpoints, values.token, values);
    const sessions = await withClientErrors(client, () => itemsToList(client.allSessions(), 'sessions'));
    printList(sessions, {
      json: values.json,
      empty: 'no sessions',
      headers: ['SESSION', 'NAME', 'TTL', 'LEFT', 'LOCK-DELAY', 'HOLDS', 'WAITING'],
      row: (s) => [
        s.sessionId,
        s.name || undefined,
        // Durations for people, as every table of the CLI (cli.md); --json keeps the milliseconds.
        formatDuration(s.ttlMs),
        formatDuration(s.remainingMs),
        formatDuration(s.lockDelayMs),
        (s.holds ?? []).map((h) => `${h.kind === 'election' ? 'election ' : ''}${h.name}#${h.fencingToken}`).join(' ') || undefined,
        (s.waits ?? []).join(' ') || undefined,
      ],
    });
    return 0;
  },
};
