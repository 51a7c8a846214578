// lockstep sessions: live sessions with their TTL, remaining time and holds.

import type { CliCommand } from '../command.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';
import { formatDuration } from '../duration.js';
import { cutNote, firstItems } from '../list.js';

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
    const { items: sessions, more } = await withClientErrors(client, () => firstItems(client.allSessions()));
    if (more) console.error(cutNote(sessions.length, 'sessions'));
    if (values.json) {
      for (const s of sessions) console.log(JSON.stringify(s));
      return 0;
    }
    if (sessions.length === 0) {
      console.log('no sessions');
      return 0;
    }
    const rows = sessions.map((s) => [
      s.sessionId,
      s.name || undefined,
      // Durations for people, as every table of the CLI (cli.md); --json keeps the milliseconds.
      formatDuration(s.ttlMs),
      formatDuration(s.remainingMs),
      formatDuration(s.lockDelayMs),
      (s.holds ?? []).map((h) => `${h.kind === 'election' ? 'election ' : ''}${h.name}#${h.fencingToken}`).join(' ') || undefined,
      (s.waits ?? []).join(' ') || undefined,
    ]);
    console.log(renderTable(['SESSION', 'NAME', 'TTL', 'LEFT', 'LOCK-DELAY', 'HOLDS', 'WAITING'], rows));
    return 0;
  },
};
