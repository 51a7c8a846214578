// lockstep leader transfer [--to ID]: hand Raft leadership over (before
// maintenance on the leader's machine), as etcdctl move-leader does.

import type { CliCommand } from '../command.js';
import { CLUSTER_CHANGE_TIMEOUTS, endpointFlags, makeClient, MEMBER_HINTS, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlags, type FlagSpecs } from '../flags.js';

const flags = {
  to: { type: 'string', description: 'the node id to hand over to (default: the most up-to-date follower)' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export const leaderTransferCommand: CliCommand = {
  name: 'leader transfer',
  summary: 'hand cluster leadership to another node',
  usage: ['usage: lockstep leader transfer [--to ID]', '', 'flags:', describeFlags(flags)].join('\n'),
  async run(argv) {
    const values = parseFlags(argv, flags);
    const client = makeClient(values.endpoints, values.token, values, CLUSTER_CHANGE_TIMEOUTS);
    const res = await withClientErrors(client, () => client.transferLeadership(values.to), MEMBER_HINTS);
    const leader = typeof res.leader === 'string' ? res.leader : values.to;
    console.log(leader ? `leader is now ${leader}` : 'leadership transferred');
    return 0;
  },
};
