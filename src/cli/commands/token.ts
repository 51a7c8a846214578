// lockstep token create NAME --role admin|writer|reader [--prefix P]...   (prints the secret once)
// lockstep token list
// lockstep token revoke ID
//
// Admin commands (http-api.md "Tokens and roles"): run them with the root
// token or another admin token in --token / LOCKSTEP_TOKEN.

import { UsageError, type CliCommand } from '../command.js';
import { endpointFlags, makeClient, TOKEN_HINTS, withClientErrors } from '../endpoints.js';
import { describeFlags, parseCommandLine, parseFlagsAndWords, type FlagSpecs, type FlagValues } from '../flags.js';
import { printList } from '../list.js';

const ROLES = ['admin', 'writer', 'reader'] as const;

const createFlags = {
  role: { type: 'string', required: true, choices: ROLES, description: 'admin: everything; writer: locks, sessions, elections on its names; reader: reads and watches on its names' },
  prefix: { type: 'list', description: 'the token may touch only names that start with one of these (writer, reader); none: every name' },
  json: { type: 'boolean', description: 'print the token (with its secret) as one JSON line' },
  ...endpointFlags,
} as const satisfies FlagSpecs;
const listFlags = { json: { type: 'boolean', description: 'print JSON lines, one token a line' }, ...endpointFlags } as const satisfies FlagSpecs;
const revokeFlags = { ...endpointFlags } as const satisfies FlagSpecs;

function onePositional<S extends FlagSpecs>(argv: string[], specs: S, what: string): { values: FlagValues<S>; arg: string } {
  const parsed = parseFlagsAndWords(argv, specs, { allowPositionals: true });
  if (parsed.positionals.length !== 1) throw new UsageError(`token ${what} needs exactly one ${what === 'create' ? 'NAME' : 'ID'}`);
  return { values: parsed.values, arg: parsed.positionals[0] };
}

export const tokenCreateCommand: CliCommand = {
  name: 'token create',
  summary: 'create a token (prints its secret once)',
  usage: [
    'usage: lockstep token create NAME --role admin|writer|reader [--prefix P]...',
    '',
    'Prints the new token\'s id and its secret. The secret is shown this once and stored nowhere',
    '(the cluster keeps its SHA-256): hand it to its user, who passes it as --token / LOCKSTEP_TOKEN.',
    '',
    'flags:',
    describeFlags(createFlags),
  ].join('\n'),
  async run(argv) {
    const { values: v, arg: name } = onePositional(argv, createFlags, 'create');
    const client = makeClient(v.endpoints, v.token, v);
    // --role is checked against ROLES by the flag parser.
    const role = v.role as (typeof ROLES)[number];
    const created = await withClientErrors(client, () => client.createToken({ name, role, ...(v.prefix.length > 0 ? { prefixes: v.prefix } : {}) }));
    if (v.json) {
      console.log(JSON.stringify(created));
      return 0;
    }
    console.log(`created token ${created.id} (${created.name}, ${created.role}${created.prefixes.length > 0 ? `, names ${created.prefixes.map((p) => `${p}*`).join(' ')}` : ', every name'})`);
    console.log(`secret: ${created.secret}`);
    console.log('(shown once: keep it now; give it as --token or LOCKSTEP_TOKEN)');
    return 0;
  },
};

export const tokenListCommand: CliCommand = {
  name: 'token list',
  summary: 'list the tokens (never their secrets)',
  usage: ['usage: lockstep token list', '', 'The root token (serve --auth-token-file) is not listed: it is not in the replicated state.', '', 'flags:', describeFlags(listFlags)].join('\n'),
  async run(argv) {
    const parsed = parseCommandLine(argv, listFlags);
    const v = parsed.values;
    const client = makeClient(v.endpoints, v.token, v);
    const { tokens } = await withClientErrors(client, () => client.listTokens());
    printList(tokens, {
      json: v.json,
      empty: 'no tokens (besides the root token)',
      headers: ['ID', 'NAME', 'ROLE', 'PREFIXES'],
      row: (t) => [t.id, t.name, t.role, t.prefixes.join(' ') || undefined],
    });
    return 0;
  },
};

export const tokenRevokeCommand: CliCommand = {
  name: 'token revoke',
  summary: 'revoke a token on every node',
  usage: ['usage: lockstep token revoke ID', '', 'Once committed the token can no longer act on any node; its waits and watches end.', '', 'flags:', describeFlags(revokeFlags)].join('\n'),
  async run(argv) {
    const { values: v, arg: id } = onePositional(argv, revokeFlags, 'revoke');
    const client = makeClient(v.endpoints, v.token, v);
    await withClientErrors(client, () => client.revokeToken(id), TOKEN_HINTS);
    console.log(`revoked ${id}`);
    return 0;
  },
};
