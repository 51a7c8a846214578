// lockstep watch NAME: print a lock's events as they happen, one line each,
// until Ctrl-C (etcdctl watch). The SDK reconnects to another node when a
// stream drops; every stream starts with a `state` line, so a reconnect is
// visible and resynchronises the reader instead of silently losing changes.

import { LockstepError, type LockWatchEvent } from 'lockstep-client';
import { UserError, type CliCommand } from '../command.js';
import { endpointFlags, makeClient } from '../endpoints.js';
import { describeFlags, parseFlagsAndOneWord, type FlagSpecs } from '../flags.js';
import { followUntilInterrupted } from '../follow.js';
import { formatDuration } from '../duration.js';

const flags = {
  json: { type: 'boolean', description: 'print JSON lines: {"event": ..., "data": ...}' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

interface HolderData {
  fencingToken?: number;
  owner?: string;
  sessionId?: string;
  mode?: string;
}

function holderText(h: HolderData): string {
  const who = h.owner ?? (h.sessionId !== undefined ? `session ${h.sessionId}` : 'ttl');
  return `${h.fencingToken ?? '?'} (${who})`;
}

/** One line for a person: the event, then what it concerns, then the Raft index it was applied at. */
export function watchLine(ev: LockWatchEvent): string {
  const d = ev.data;
  if (ev.type === 'state') {
    const holders = Array.isArray(d.holders) ? (d.holders as HolderData[]) : [];
    const waiters = Array.isArray(d.waiters) ? d.waiters.length : 0;
    const held = holders.length === 0 ? 'free' : `held by ${holders.map(holderText).join(', ')}`;
    const delay = typeof d.lockDelayRemainingMs === 'number' ? `, in lock-delay for another ${formatDuration(d.lockDelayRemainingMs)}` : '';
    return `state     ${held}; ${waiters} waiting${delay}  [index ${d.index}]`;
  }
  const parts = [ev.type.padEnd(9)];
  if (d.fencingToken !== undefined) parts.push(`token ${d.fencingToken}`);
  if (d.sessionId !== undefined) parts.push(`session ${d.sessionId}`);
  parts.push(` [index ${d.index}]`);
  return parts.join(' ');
}

/**
 * The `error` event that ends a stream (a revoked token, `internal`) carries the usual error body:
 * as the SDK's error, so that it is said as every other command says it (what to do next).
 */
function streamError(name: string, data: LockWatchEvent['data']): Error {
  const body = (data as { error?: { code?: unknown; message?: unknown } }).error;
  if (typeof body?.code !== 'string') return new UserError(`the stream of '${name}' ended with an error: ${JSON.stringify(data)}`);
  return new LockstepError(body.code, typeof body.message === 'string' ? body.message : body.code, 0);
}

export const watchCommand: CliCommand = {
  name: 'watch',
  summary: "print a lock's events as they happen (Ctrl-C stops)",
  usage: [
    'usage: lockstep watch NAME [flags]',
    '',
    'Print the lock NAME as it is now (a `state` line: holders, waiters), then one line per',
    'change: acquired, released, expired, queued, dequeued, each with the fencing token or',
    'session it concerns and the Raft index it was applied at. If the node serving the',
    'stream goes away, the next endpoint is tried and a fresh `state` line follows.',
    'Ctrl-C stops (exit 0).',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const { values, word: name } = parseFlagsAndOneWord(argv, flags, 'watch', 'NAME', 'lock');
    const client = makeClient(values.endpoints, values.token, values);
    await followUntilInterrupted(client, (signal) => client.watchLock(name, { signal }), (ev) => {
      if (ev.type === 'error') throw streamError(name, ev.data);
      console.log(values.json ? JSON.stringify({ event: ev.type, data: ev.data }) : watchLine(ev));
    });
    return 0;
  },
};
