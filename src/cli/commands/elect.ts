// lockstep elect NAME [--value V] -- CMD [ARGS...]
//
// Campaign (waiting in line), run CMD while leader with the election term in
// LOCKSTEP_FENCING_TOKEN, send it SIGTERM if leadership is lost (the session
// signal fires before its lease can have ended on the server, docs/safety.md
// #18), resign at exit and exit with CMD's status.

import { hostname } from 'node:os';
import { HEARTBEATS_PER_TTL, WAIT_MS_MAX_PER_REQUEST, type Session, sessionName } from 'lockstep-client';
import { UserError, type CliCommand } from '../command.js';
import { interruptSignal, namesAndCommand, runWhileHeld } from '../child.js';
import { watchHolds } from '../hold-watch.js';
import { endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import { describeFlags, parseCommandLine, type FlagSpecs } from '../flags.js';

const flags = {
  value: { type: 'string', description: 'what the leader proclaims, e.g. its address (default host:pid)' },
  'ttl-ms': { type: 'number', default: 10_000, min: 1000, max: 300_000, description: 'TTL of the session behind the candidacy: how long leadership outlives this process if it dies' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export const electCommand: CliCommand = {
  name: 'elect',
  summary: 'run a command while leader of an election',
  usage: [
    'usage: lockstep elect NAME [flags] -- CMD [ARGS...]',
    '',
    'Campaign in election NAME (waiting in line behind the leader), run CMD once elected,',
    "resign when CMD exits and exit with CMD's status. CMD gets the election term, a fencing",
    'token, in $LOCKSTEP_FENCING_TOKEN. If leadership is lost, CMD gets SIGTERM (SIGKILL 10 s later).',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, positionals, rest } = parseCommandLine(argv, flags, { allowPositionals: true });
    const { names: [name], command } = namesAndCommand('elect', positionals, rest);
    const value = values.value ?? `${hostname()}:${process.pid}`;
    const client = makeClient(values.endpoints, values.token, values);
    const interrupt = interruptSignal();
    let session: Session | null = null;
    let term: number;
    try {
      // Wait as long as it takes; a session lost while waiting is replaced.
      for (;;) {
        if (interrupt.signal.aborted) throw new UserError(`interrupted while campaigning in '${name}'`);
        if (session === null || !session.alive) {
          session = await withClientErrors(client, () => client.session({ ttlMs: values['ttl-ms'], name: sessionName(`elect ${name} ${value}`) }));
        }
        const s = session;
        const res = await withClientErrors(client, () =>
          client.campaign(name, { sessionId: s.id, value, waitMs: WAIT_MS_MAX_PER_REQUEST }, { signal: AbortSignal.any([interrupt.signal, s.signal]) }),
        ).catch((err: unknown) => {
          if (interrupt.signal.aborted || s.signal.aborted) return null;
          throw err;
        });
        if (res?.elected) {
          term = res.term;
          break;
        }
      }
    } catch (err) {
      await session?.close().catch(() => undefined);
      throw err;
    } finally {
      interrupt.dispose();
    }
    const s = session;
    // Lost with the session, or on its own (resigned by someone who has the term).
    const watch = watchHolds(client, s.id, [{ kind: 'election', name, fencingToken: term }], values['ttl-ms'] / HEARTBEATS_PER_TTL);
    const lost = AbortSignal.any([s.signal, watch.signal]);
    const child = runWhileHeld(
      command,
      { LOCKSTEP_FENCING_TOKEN: String(term), LOCKSTEP_ELECTION_NAME: name, LOCKSTEP_ELECTION_TERM: String(term), LOCKSTEP_SESSION_ID: s.id },
      lost,
      () => process.stderr.write(`lockstep: lost leadership of '${name}' (${(lost.reason as Error | undefined)?.message ?? 'session ended'}); sending SIGTERM to ${command[0]}\n`),
    );
    const status = await child.status;
    watch.stop();
    if (s.alive) await client.resign(name, term).catch(() => undefined);
    await s.close().catch(() => undefined);
    return status;
  },
};
