// lockstep observe NAME: print an election's leader now and at every change
// (etcdctl elect -l), until Ctrl-C. A vacancy prints as "no leader".

import type { ElectionLeader } from 'lockstep-client';
import { UsageError, type CliCommand } from '../command.js';
import { interruptSignal } from '../child.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlagsAndWords, type FlagSpecs } from '../flags.js';

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
    const { values, positionals } = parseFlagsAndWords(argv, flags, { allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError(`observe takes one election NAME (got ${positionals.length}): lockstep observe NAME`);
    const [name] = positionals;
    const client = makeClient(values.endpoints, values.token, values);
    const interrupt = interruptSignal();
    try {
      await withClientErrors(client, async () => {
        for await (const leader of client.observe(name, { signal: interrupt.signal })) {
          console.log(values.json ? JSON.stringify({ leader }) : observeLine(leader));
        }
      });
    } finally {
      interrupt.dispose();
    }
    return 0;
  },
};
