// What every client command shares: the --endpoints flag (env
// LOCKSTEP_ENDPOINTS), building a Client, and turning SDK errors into
// messages that say what to do next.

import { Client } from '../client/client.js';
import { LockstepError } from '../client/errors.js';
import { UsageError, UserError } from './command.js';
import type { FlagSpecs } from './flags.js';

/** The local cluster of `lockstep cluster up` (base port 7000, three nodes). */
export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003';

/** CLI calls should fail fast enough for a human: a few seconds per call, not the SDK's 30. */
export const CLI_TOTAL_TIMEOUT_MS = 10_000;
export const CLI_REQUEST_TIMEOUT_MS = 3_000;

export const endpointFlags = {
  endpoints: { type: 'string', default: DEFAULT_ENDPOINTS, description: 'API URLs of the nodes, comma-separated; tried in turn' },
} as const satisfies FlagSpecs;

export function parseEndpoints(text: string): string[] {
  // An empty LOCKSTEP_ENDPOINTS (a compose file's `LOCKSTEP_ENDPOINTS=`) means the default, as if unset.
  if (text.trim() === '') text = DEFAULT_ENDPOINTS;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^https?:\/\//.test(s) ? s : `http://${s}`).replace(/\/+$/, ''));
  if (list.length === 0) throw new UsageError('--endpoints is empty; give e.g. http://127.0.0.1:7001,http://127.0.0.1:7002');
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new UsageError(`--endpoints: '${e}' is not a URL (expected http://host:port)`);
    }
    if (url.pathname !== '/' || url.search !== '') throw new UsageError(`--endpoints: '${e}' must be http://host:port without a path`);
  }
  return list;
}

/** Rounds over all endpoints before a CLI call gives up (a refused connection on every node is a clear answer). */
export const CLI_ATTEMPT_ROUNDS = 3;

export function makeClient(endpointsText: string): Client {
  const endpoints = parseEndpoints(endpointsText);
  return new Client({
    endpoints,
    maxAttempts: CLI_ATTEMPT_ROUNDS * endpoints.length,
    totalTimeoutMs: CLI_TOTAL_TIMEOUT_MS,
    requestTimeoutMs: CLI_REQUEST_TIMEOUT_MS,
    token: process.env.LOCKSTEP_TOKEN,
  });
}

/** An SDK error as a UserError (exit 1) whose message says what to do next. */
export function explain(err: unknown, endpoints: string[]): unknown {
  if (!(err instanceof LockstepError)) return err;
  const list = endpoints.join(',');
  switch (err.code) {
    case 'unreachable':
      return new UserError(`no node of ${list} answered; is the cluster up? try \`lockstep cluster up\` (or set --endpoints / LOCKSTEP_ENDPOINTS)`);
    case 'timeout':
      return new UserError(`no node of ${list} answered in time; the cluster may be overloaded or partitioned — check \`lockstep status\``);
    case 'no_leader':
      return new UserError(`the cluster has no leader right now (${err.message}); check \`lockstep status\` — a majority of nodes must be up`);
    case 'unavailable':
      return new UserError(`the cluster did not confirm the change in time; it may or may not have applied (${err.message}); check \`lockstep status\``);
    case 'unauthorized':
      return new UserError('the cluster wants a token: set LOCKSTEP_TOKEN');
    default:
      return new UserError(`${err.code}: ${err.message}`);
  }
}

/** Run fn, translating SDK errors. */
export async function withClientErrors<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explain(err, client.endpoints);
  }
}
