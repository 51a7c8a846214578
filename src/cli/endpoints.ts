// What every client command shares: the --endpoints flag (env
// LOCKSTEP_ENDPOINTS), building a Client, and turning SDK errors into
// messages that say what to do next.

import { PEM_PIPE_BYTES_MAX, readInputFile } from '../read-input.js';
import { Client, isSendableToken, LockstepError, type ServerErrorCode, type TlsOptions } from 'lockstep-client';
import { FlagValueError, UserError } from './command.js';
import type { FlagSpecs } from './flags.js';

/**
 * The local cluster of `lockstep cluster up` (base port 7000, three nodes), without a scheme: like
 * any bare host:port in --endpoints, http://, or https:// when --ca (or --cert) is given, as for
 * the nodes of `cluster up --tls`, which serve HTTPS only.
 */
export const DEFAULT_ENDPOINTS = '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

/** CLI calls should fail fast enough for a human: a few seconds per call, not the SDK's 30. */
export const CLI_TOTAL_TIMEOUT_MS = 10_000;
export const CLI_REQUEST_TIMEOUT_MS = 3_000;

export const endpointFlags = {
  endpoints: { type: 'string', description: `API URLs of the nodes, comma-separated; tried in turn (default the local cluster up: ${DEFAULT_ENDPOINTS}; a bare host:port is http://, or https:// with --ca)` },
  token: { type: 'string', description: "bearer token, when the nodes run with serve's --auth-token" },
  ca: { type: 'string', description: 'the cluster CA (PEM) to verify https:// nodes with (serve --tls-ca; cluster up --tls prints it)' },
  cert: { type: 'string', description: 'a client certificate (PEM, `lockstep certs client`), for nodes started with --tls-client-ca' },
  key: { type: 'string', description: 'the key of --cert (PEM)' },
} as const satisfies FlagSpecs;

export interface TlsFlags {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The SDK's tls option from --ca/--cert/--key (files read now), or undefined when none is given. */
export function clientTls(flags: TlsFlags): TlsOptions | undefined {
  if (!flags.ca && !flags.cert && !flags.key) return undefined;
  if (!flags.cert !== !flags.key) throw new FlagValueError('--cert and --key go together');
  const read = (flag: string, file: string): Buffer => {
    try {
      return readInputFile(file, PEM_PIPE_BYTES_MAX);
    } catch (err) {
      throw new FlagValueError(`--${flag} ${file} cannot be read: ${(err as Error).message}`);
    }
  };
  const ca = flags.ca ? read('ca', flags.ca) : undefined;
  // Else TLS trusts nothing from it, and the nodes' certificates read as 'not signed by a CA this
  // command trusts: pass --ca', which the user just did (ca.key given for ca.crt, say).
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FlagValueError(`--ca ${flags.ca} holds no PEM certificate: give the cluster CA's certificate (ca.crt, the file serve --tls-ca names), not its key`);
  }
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(flags.cert && flags.key ? { cert: read('cert', flags.cert), key: read('key', flags.key) } : {}),
  };
}

/** The endpoints as URLs; `tls` (--ca, --cert given): a bare host:port, and the default, are https://. */
export function parseEndpoints(text: string | undefined, tls = false): string[] {
  // Unset, or an empty LOCKSTEP_ENDPOINTS (a compose file's `LOCKSTEP_ENDPOINTS=`): the default.
  if (text === undefined || text.trim() === '') text = DEFAULT_ENDPOINTS;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
      if (scheme && !/^https?$/i.test(scheme[1])) throw new FlagValueError(`--endpoints: '${s}' is not an http:// or https:// URL`);
      return (scheme ? s : `${tls ? 'https' : 'http'}://${s}`).replace(/\/+$/, '');
    });
  if (list.length === 0) throw new FlagValueError('--endpoints is empty; give e.g. http://127.0.0.1:7001,http://127.0.0.1:7002');
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new FlagValueError(`--endpoints: '${e}' is not a URL (expected http://host:port)`);
    }
    if (url.pathname !== '/' || url.search !== '') throw new FlagValueError(`--endpoints: '${e}' must be http://host:port without a path`);
  }
  return list;
}

/** Rounds over all endpoints before a CLI call gives up (a refused connection on every node is a clear answer). */
export const CLI_ATTEMPT_ROUNDS = 3;

/**
 * Membership and leadership changes: the leader may take its whole propose timeout (5 s: a new
 * member's catch-up, a transfer) and a forwarding follower its slack on top (5 s) before it
 * answers; the CLI's 3 s per request cut that answer off and blamed the cluster.
 */
export const CLUSTER_CHANGE_TIMEOUTS = { requestTimeoutMs: 15_000, totalTimeoutMs: 30_000 } as const;

export function makeClient(endpointsText: string | undefined, token?: string, tlsFlags: TlsFlags = {}, timeouts: { requestTimeoutMs: number; totalTimeoutMs: number } = { requestTimeoutMs: CLI_REQUEST_TIMEOUT_MS, totalTimeoutMs: CLI_TOTAL_TIMEOUT_MS }): Client {
  const tls = clientTls(tlsFlags);
  const endpoints = parseEndpoints(endpointsText, tls !== undefined);
  // Else the HTTP client refuses the header and every node looks down ('no node answered').
  if (token && !isSendableToken(token)) throw new FlagValueError('--token (LOCKSTEP_TOKEN) must be visible ASCII without spaces or newlines, as every token is: check that it was copied whole');
  return new Client({
    endpoints,
    maxAttempts: CLI_ATTEMPT_ROUNDS * endpoints.length,
    totalTimeoutMs: timeouts.totalTimeoutMs,
    requestTimeoutMs: timeouts.requestTimeoutMs,
    token: token || undefined,
    ...(tls ? { tls } : {}),
  });
}

/** What to say after an error code: the next step to take. */
export type ErrorHints = Partial<Record<ServerErrorCode, string>>;

/** What to do next after the other error codes of the HTTP contract's table (cli.md: messages say what to do next). */
const NEXT_STEP: ErrorHints = {
  not_found: 'check the name or id',
  // Not `lockstep token list`: that is for admins, and a refused token is seldom one.
  forbidden: 'ask an admin for a token that may (GET /v1/auth/whoami says what this one may do)',
  session_not_found: 'the session expired or was deleted; run the command again',
  not_holder: 'the hold was already lost or released; run the command again to take it anew',
  deadlock: 'this wait would close a cycle; release one of the locks named above first',
  limit_mismatch: 'pass the --limit the other holders use (see `lockstep locks`)',
  payload_too_large: 'shorten the value (requests are limited to 64 KiB)',
  internal: 'a bug in lockstep: see the node logs and report it',
};

/** What a command that names members or tokens by id says after `not_found`, in place of NEXT_STEP's. */
export const MEMBER_HINTS: ErrorHints = { not_found: 'see `lockstep status` for the member ids' };
export const TOKEN_HINTS: ErrorHints = { not_found: 'see `lockstep token list` for the token ids' };

/**
 * An SDK error as a UserError (exit 1) whose message says what to do next:
 * the command's own `hints` for a code, else NEXT_STEP's.
 */
export function explain(err: unknown, endpoints: string[], hints: ErrorHints = {}): unknown {
  if (!(err instanceof LockstepError)) return err;
  const list = endpoints.join(',');
  switch (err.code) {
    case 'unreachable': {
      const tls = tlsAdvice(String(err.details.cause ?? ''), endpoints);
      if (tls !== null) return new UserError(`no node of ${list} answered (${String(err.details.cause)}): ${tls}`);
      return new UserError(`no node of ${list} answered; is the cluster up? try \`lockstep cluster up\` (or set --endpoints / LOCKSTEP_ENDPOINTS)`);
    }
    case 'timeout':
      return new UserError(`no node of ${list} answered in time; the cluster may be overloaded or partitioned — check \`lockstep status\``);
    case 'no_leader':
      return new UserError(`the cluster has no leader: ${answeredOf(err, endpoints)} nodes answered; a majority must be up (check \`lockstep status\`)`);
    case 'unavailable':
      return new UserError(`the cluster did not confirm the change in time; it may or may not have applied (${err.message}); check \`lockstep status\``);
    case 'unauthorized':
      return new UserError('the cluster wants a token (or a different one, or yours was revoked): pass --token or set LOCKSTEP_TOKEN (the root token is the nodes\' --auth-token-file, <data>/auth-token under `cluster up`; others come from `lockstep token create`)');
    case 'invalid_argument':
      return new UserError(invalidArgument(err));
    default: {
      const hint = hints[err.code as ServerErrorCode] ?? NEXT_STEP[err.code as ServerErrorCode];
      return new UserError(`${err.code}: ${err.message}${hint ? `; ${hint}` : ''}`);
    }
  }
}

/**
 * What to do about a connection that failed in the TLS handshake (Node's and
 * OpenSSL's error codes), or null when the failure was not about TLS. "Is the
 * cluster up?" would send the user looking in the wrong place.
 */
export function tlsAdvice(cause: string, endpoints: readonly string[]): string | null {
  if (/ALTNAME|HOSTNAME/.test(cause)) return 'the node\'s certificate does not name the address in --endpoints; use a name or IP its certificate was made for (`lockstep certs node ID --hosts ...`)';
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE/.test(cause)) return 'the node\'s certificate is not signed by a CA this command trusts; pass the cluster CA with --ca FILE (e.g. <data>/certs/ca.crt)';
  if (/EXPIRED|NOT_YET_VALID/.test(cause)) return 'a certificate is outside its validity period; make new ones with `lockstep certs` and send the nodes SIGHUP';
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(cause)) return 'the node refused this command\'s client certificate (or wants one); pass --cert FILE --key FILE made by `lockstep certs client` from the cluster CA';
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/.test(cause)) return 'the node speaks plain HTTP; use http:// endpoints';
  if (/^ERR_SSL|^ERR_TLS|^EPROTO$/.test(cause)) return 'the TLS handshake failed; check --ca, --cert and --key against the cluster\'s certificates';
  // A plain-HTTP request to an HTTPS node is cut off without an answer: say so when every endpoint is http://.
  if (/UND_ERR_SOCKET|ECONNRESET/.test(cause) && endpoints.length > 0 && endpoints.every((e) => e.startsWith('http://'))) {
    return 'the connection was cut before any answer: is the cluster up? if it runs TLS, use https:// endpoints and pass --ca FILE';
  }
  return null;
}

/** The API's body fields as the CLI's flags, so that an error names what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  ttlMs: '--ttl-ms',
  waitMs: '--wait-ms',
  mode: '--mode',
  limit: '--limit',
  owner: '--owner',
  value: '--value',
  // members add, token create
  apiUrl: '--api',
  peerUrl: '--peer',
  role: '--role',
  prefixes: '--prefix',
  // the NAME of lock, elect, watch, observe and token create (in the path, a lock set's body, a token's body)
  name: 'NAME',
  // members add/remove ID, leader transfer --to
  id: 'ID',
  to: '--to',
};

const NAME_RULE = 'names are 1-256 of [A-Za-z0-9._:-], starting with a letter or digit';

/**
 * A 400 in the CLI's words: `body.limit` becomes `--limit`, and only the hint
 * that applies (the name rule only when a name was refused).
 */
function invalidArgument(err: LockstepError): string {
  const field = typeof err.details.field === 'string' ? err.details.field : '';
  // `prefixes.0` is the first --prefix: the field, not its index.
  const last = field.split('.').filter((part) => !/^\d+$/.test(part)).at(-1) ?? '';
  const flag = FLAG_OF_FIELD[last];
  let message = err.message;
  // The first mention only: the message starts with the field, and later the word may be prose ("takes no prefixes").
  if (flag !== undefined) message = message.replace(new RegExp(`\\b(body\\.|params\\.)?(locks\\.\\d+\\.)?${last}(\\.\\d+)?\\b`), flag);
  // A token's NAME (`body.name`: 1-128 characters of any kind) is not a lock's; a --prefix is the start of one.
  const tokenName = /^body\.name\b/.test(err.message);
  const isName = (!tokenName && (last === 'name' || field === 'params' || /\bname\b/.test(err.message))) || (last === 'prefixes' && /\bpattern\b/.test(err.message));
  // A positional (ID) has no --help line of its own.
  const hint = isName ? NAME_RULE : flag?.startsWith('--') ? `see \`--help\` for ${flag}` : 'see --help';
  return `invalid_argument: ${message}; ${hint}`;
}

/** "k of n" from the SDK's count of endpoints that answered during the call (at least the one whose answer this is). */
function answeredOf(err: LockstepError, endpoints: string[]): string {
  const k = typeof err.details.answeredCount === 'number' ? Math.max(1, err.details.answeredCount) : 1;
  const n = typeof err.details.endpointCount === 'number' ? err.details.endpointCount : endpoints.length;
  return `${k} of ${n}`;
}

/** Run fn, translating SDK errors (with the command's own `hints`, see explain). */
export async function withClientErrors<T>(client: Client, fn: () => Promise<T>, hints: ErrorHints = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explain(err, client.endpoints, hints);
  }
}
