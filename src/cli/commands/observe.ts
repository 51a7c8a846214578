// lockstep observe NAME: print an election's leader now and at every change
// (etcdctl elect -l), until Ctrl-C. A vacancy prints as "no leader".

import type { ElectionLeader } from 'lockstep-client';
import type { CliCommand } from '../command.js';
import { endpointFlags, makeClient } from '../endpoints.js';
import { describeFlags, parseFlagsAndOneWord, type FlagSpecs } from '../flags.js';
import { followUntilInterrupted } from '../follow.js';

const flags = {
  json: { type: 'boolean', description: 'print JSON lines: {"leader": {sessionId, value, term} | null}' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export function observeLine(leader: ElectionLeader | null): string {
  if (leader === null) return 'no leader';
  return `leader ${JSON.stringify(leader.value)} term ${leader.term} session ${leader.sessionId}`;
}

export const observeCommand: CliCommand = {
  name: 'observe',
  summary: "print an election's leader changes (Ctrl-C stops)",
  usage: [
    'usage: lockstep observe NAME [flags]',
    '',
    'Print the leader of election NAME (its value, term and session), then a line at every',
    'change; "no leader" when it is vacant. The term is the fencing token of that leadership.',
    'If the node serving the stream goes away, the next endpoint is tried. Ctrl-C stops (exit 0).',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, word: name } = parseFlagsAndOneWord(argv, flags, 'observe', 'NAME', 'election');
    const client = makeClient(values.endpoints, values.token, values);
    await followUntilInterrupted(client, (signal) => client.observe(name, { signal }), (leader) => {
      console.log(values.json ? JSON.stringify({ leader }) : observeLine(leader));
    });
    return 0;
  },
};
