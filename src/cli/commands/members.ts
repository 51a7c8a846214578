// lockstep members add ID --api HOST:PORT --peer HOST:PORT [--learner]
// lockstep members remove ID
//
// One membership change at a time (the server refuses a second while one is
// in flight, docs/safety.md #7). A node whose disk was lost rejoins under
// a NEW id (item 10): remove the old id, add the new one.

import { UsageError, UserError, type CliCommand } from '../command.js';
import { LockstepError } from 'lockstep-client';
import { CLUSTER_CHANGE_TIMEOUTS, endpointFlags, makeClient, MEMBER_HINTS, parseEndpoints, withClientErrors } from '../endpoints.js';
import { describeFlags, parseFlagsAndWords, type FlagSpecs } from '../flags.js';
import { checkHostPort } from './serve.js';

const addFlags = {
  // Flags only (cli.md): $LOCKSTEP_API/$LOCKSTEP_PEER name the node this runs on, not the one added.
  api: { type: 'string', required: true, flagOnly: true, description: "the new node's API address, e.g. 127.0.0.1:7004 (https:// in front when --endpoints are https:// or --ca is given)" },
  peer: { type: 'string', required: true, flagOnly: true, description: "the new node's peer address, e.g. 127.0.0.1:7104, stored as given (as serve's --peer)" },
  learner: { type: 'boolean', description: 'add as a non-voting learner (promote later by removing and re-adding as voter)' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

const removeFlags = { ...endpointFlags } as const satisfies FlagSpecs;

/**
 * The new node's API address as a URL: a bare host:port gets the scheme this command speaks to the
 * cluster with (https:// endpoints, or --ca): a node of a TLS cluster serves its API over HTTPS only.
 */
function apiUrlOf(api: string, endpoints: string | undefined, ca: string | undefined): string {
  if (/^https?:\/\//.test(api)) return api;
  // A bare address must be host:port, as serve takes it: without the port, 'nowhere' went to the
  // server as http://nowhere (port 80), whose answer was about something else.
  checkHostPort('--api', api);
  const tls = ca !== undefined || parseEndpoints(endpoints).some((url) => url.startsWith('https://'));
  return `${tls ? 'https' : 'http'}://${api}`;
}

function oneId(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`members ${what} needs exactly one node ID`);
  return positionals[0];
}

export const membersAddCommand: CliCommand = {
  name: 'members add',
  summary: 'add a node to the cluster',
  usage: [
    'usage: lockstep members add ID --api HOST:PORT --peer HOST:PORT [--learner]',
    '',
    'Start the new node first with `lockstep serve --id ID ...` and --peers listing the cluster,',
    'then add it here. Node ids are forever: a node that lost its disk rejoins under a new id.',
    '--api and --peer are flags only: $LOCKSTEP_API and $LOCKSTEP_PEER name the node this runs on',
    '(the variables `lockstep serve` reads), not the one being added.',
    '',
    'flags:',
    describeFlags(addFlags),
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseFlagsAndWords(argv, addFlags, { allowPositionals: true });
    const id = oneId(positionals, 'add');
    const apiUrl = apiUrlOf(values.api, values.endpoints, values.ca);
    // As given, as `serve --peer` stores a node's own: the peer channel is no HTTP, and TLS on it is the
    // nodes' --tls-* flags, not a scheme (an http:// put here read as a plain-text member of a TLS cluster).
    const peerUrl = values.peer;
    if (!/^[a-z]+:\/\//i.test(peerUrl)) checkHostPort('--peer', peerUrl);
    const client = makeClient(values.endpoints, values.token, values, CLUSTER_CHANGE_TIMEOUTS);
    await withClientErrors(client, () => client.addMember({ id, apiUrl, peerUrl, voter: !values.learner }).catch((err: unknown) => {
      // The leader adds the node as a learner, then waits (bounded) for it to catch up: most often
      // it is not running yet. Say so, rather than "outcome unknown, check status".
      if (err instanceof LockstepError && err.code === 'unavailable') {
        throw new UserError(
          `${id} did not join in time (${err.message}): it may be in the cluster as a learner that has not caught up. ` +
            `Is it running? Start it (lockstep serve --id ${id} --api ${values.api} --peer ${values.peer} --peers <the cluster's peers> --data DIR), ` +
            `then run this command again to finish the change (repeating it is safe); or undo it with \`lockstep members remove ${id}\`. See \`lockstep status\`.`,
        );
      }
      throw err;
    }));
    console.log(`added ${id} (${values.learner ? 'learner' : 'voter'}, api ${apiUrl}, peer ${peerUrl})`);
    return 0;
  },
};

export const membersRemoveCommand: CliCommand = {
  name: 'members remove',
  summary: 'remove a node from the cluster',
  usage: ['usage: lockstep members remove ID', '', 'flags:', describeFlags(removeFlags)].join('\n'),
  async run(argv) {
    const { values, positionals } = parseFlagsAndWords(argv, removeFlags, { allowPositionals: true });
    const id = oneId(positionals, 'remove');
    const client = makeClient(values.endpoints, values.token, values, CLUSTER_CHANGE_TIMEOUTS);
    await withClientErrors(client, () => client.removeMember(id), MEMBER_HINTS);
    console.log(`removed ${id}: stop its process (the members now refuse it); its id is never reused, so a replacement joins under a new id`);
    return 0;
  },
};
