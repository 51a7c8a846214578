// The request engine: endpoint failover, bounded retries, idempotency keys,
// Retry-After. Every typed method of the Client goes through `request`.
//
// What is retried (docs/safety.md #15: an error must say whether the
// command surely did not apply, or might have):
// - 'idempotent' requests (reads, keepalive) are retried on any connection
//   error, attempt timeout or 503.
// - 'keyed' requests change replicated state and carry an Idempotency-Key
//   that is generated once per call and REUSED on every retry of that call,
//   so a retry after `503 unavailable`, a timeout or a dropped connection
//   returns the first outcome instead of applying twice.
// - 'unsafe' requests (membership, leadership transfer: the contract gives
//   them no idempotency) are retried only when they surely did not reach a
//   server (connection refused, unknown host) or the server said `no_leader`.
// - `429 too_many_requests` (a per-node cap, refused before anything applied)
//   is retried for every class, after its Retry-After; `429 limit_exceeded` is not.

import { randomUUID } from 'node:crypto';
import { sleep, type Clock } from './clock.js';
import { abortedError, LockstepError } from './errors.js';
import { HangProbe } from './hang-probe.js';
import { parseRetryAfterMs } from './retry-after.js';

export type RetryClass = 'idempotent' | 'keyed' | 'unsafe';

export interface HttpConfig {
  endpoints: string[];
  /** Per attempt, to the response headers (plus waitMs for a waiting request). */
  requestTimeoutMs: number;
  /** Per call, across all attempts and back-offs (plus waitMs for a waiting request). */
  totalTimeoutMs: number;
  /** Per call. */
  maxAttempts: number;
  /** First back-off after every endpoint failed once; doubles per round up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  fetch: typeof fetch;
  clock: Clock;
  /** Bearer token, when the cluster has auth on. */
  token: string | null;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, e.g. `/v1/locks/a/acquire`. */
  path: string;
  body?: unknown;
  retry: RetryClass;
  /** The server may hold the request this long (a waiting acquire or campaign): added to both timeouts. */
  waitMs?: number;
  signal?: AbortSignal;
  /** Reuse a key across calls (rarely wanted); by default each call gets a fresh one. */
  idempotencyKey?: string;
  /** Override the per-attempt timeout (e.g. a keepalive that must answer before a lease deadline). */
  requestTimeoutMs?: number;
  /** Override the per-call budget. */
  totalTimeoutMs?: number;
}

export interface OpenStream {
  response: Response;
  endpoint: string;
  /** Unwires the caller's signal from this response (each reconnect of a stream opens a new one). */
  done(): void;
}

export interface HttpResult<T> {
  status: number;
  body: T;
  headers: Headers;
  endpoint: string;
}

/**
 * Connection errors after which the request surely never reached a server: no connection, or a
 * TLS handshake that failed on our side on the server's certificate (no request byte is sent
 * before the handshake completes).
 */
const NOT_DELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_INVALID_URL',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface AttemptFailure {
  error: LockstepError;
  /** May the same call be tried again (elsewhere)? */
  retryable: boolean;
  retryAfterMs: number | null;
}

export class HttpEngine {
  /** Index of the endpoint that answered last: calls start there (sticky, like etcd's balancer pinning). */
  private preferred = 0;
  /** Watches the nodes that hold waiting requests; one probe every requestTimeoutMs, which must answer within requestTimeoutMs. */
  private readonly hangProbe: HangProbe;

  constructor(readonly config: HttpConfig) {
    if (config.endpoints.length === 0) throw new Error('lockstep client: at least one endpoint is required');
    if (!Number.isInteger(config.maxAttempts) || config.maxAttempts < 1) throw new Error('lockstep client: maxAttempts must be an integer >= 1');
    for (const k of ['requestTimeoutMs', 'totalTimeoutMs', 'backoffBaseMs', 'backoffMaxMs'] as const) {
      if (!(config[k] > 0)) throw new Error(`lockstep client: ${k} must be > 0, got ${config[k]}`);
    }
    for (const e of config.endpoints) {
      if (!/^https?:\/\/[^/]+$/.test(e)) throw new Error(`lockstep client: endpoint '${e}' must look like http://host:port (no path)`);
    }
    this.hangProbe = new HangProbe(config.fetch, config.clock, config.requestTimeoutMs, config.requestTimeoutMs);
  }

  get endpoints(): string[] {
    return this.config.endpoints;
  }

  async request<T>(spec: RequestSpec): Promise<HttpResult<T>> {
    const res = await this.run(spec, false);
    return res as HttpResult<T>;
  }

  /**
   * Like request, but returns the open response whose body is still to be read
   * (SSE). Call `done()` once the body is read or abandoned: until then the
   * caller's signal stays wired to the response (aborting it ends the body).
   */
  async openStream(spec: RequestSpec): Promise<OpenStream> {
    const res = (await this.run(spec, true)) as OpenStream;
    return res;
  }

  private async run(spec: RequestSpec, stream: boolean): Promise<HttpResult<unknown> | OpenStream> {
    const { clock } = this.config;
    const n = this.config.endpoints.length;
    const waitMs = spec.waitMs ?? 0;
    const key = spec.retry === 'keyed' ? (spec.idempotencyKey ?? randomUUID()) : null;
    const deadlineMs = clock.nowMs() + (spec.totalTimeoutMs ?? this.config.totalTimeoutMs) + waitMs;
    let index = this.preferred;
    let last: AttemptFailure | null = null;
    // The failure the caller is told about: the most telling one, not the last (issue 15:
    // a surviving node's 503 no_leader must not be hidden by a refused connection elsewhere).
    let telling: AttemptFailure | null = null;
    const failures: string[] = [];
    /** Endpoints that gave an HTTP answer during this call (whatever its status). */
    const answered = new Set<string>();
    /** Did an earlier attempt perhaps apply (a timeout, a delivered request's dropped connection, 503 unavailable)? */
    let mayHaveApplied = false;
    for (let attempt = 0; attempt < this.config.maxAttempts; attempt++) {
      if (spec.signal?.aborted) throw abortedCall(spec.signal, mayHaveApplied, key);
      const remainingMs = deadlineMs - clock.nowMs();
      if (remainingMs <= 0) break;
      const endpoint = this.config.endpoints[index % n];
      const attemptTimeoutMs = Math.min((spec.requestTimeoutMs ?? this.config.requestTimeoutMs) + waitMs, remainingMs);
      const outcome = await this.attempt(endpoint, spec, key, attemptTimeoutMs, stream);
      if (outcome.kind === 'ok') {
        this.preferred = index % n;
        return outcome.value;
      }
      last = outcome.failure;
      if (last.error.status > 0) answered.add(endpoint);
      if (last.error.details.outcomeUnknown === true || last.error.code === 'unavailable') mayHaveApplied = true;
      if (telling === null || tellingRank(last) >= tellingRank(telling)) telling = last;
      failures.push(`${endpoint}: ${last.error.message}`);
      if (!last.retryable) throw last.error;
      index++;
      // Back off after a full round of endpoints failed, or as the server asked.
      let delayMs = 0;
      if (last.retryAfterMs !== null) delayMs = last.retryAfterMs;
      else if ((attempt + 1) % n === 0) {
        const round = Math.floor((attempt + 1) / n) - 1;
        const capMs = Math.min(this.config.backoffMaxMs, this.config.backoffBaseMs * 2 ** round);
        delayMs = capMs / 2 + Math.random() * (capMs / 2);
      }
      if (attempt + 1 >= this.config.maxAttempts) break;
      if (clock.nowMs() + delayMs >= deadlineMs) break;
      if (delayMs > 0) {
        try {
          await sleep(clock, delayMs, spec.signal);
        } catch {
          throw abortedCall(spec.signal, mayHaveApplied, key);
        }
      }
    }
    throw finalError(telling, failures, this.config.endpoints, key, answered.size);
  }

  private async attempt(
    endpoint: string,
    spec: RequestSpec,
    key: string | null,
    timeoutMs: number,
    stream: boolean,
  ): Promise<{ kind: 'ok'; value: HttpResult<unknown> | OpenStream } | { kind: 'fail'; failure: AttemptFailure }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.config.clock.setTimer(() => {
      timedOut = true;
      controller.abort(new Error('attempt timed out'));
    }, timeoutMs);
    const onUserAbort = (): void => controller.abort(spec.signal?.reason);
    spec.signal?.addEventListener('abort', onUserAbort, { once: true });
    // A waiting request hears nothing until its wait ends: only a probe beside it can tell a node that hangs.
    let hung = false;
    const unwatch = (spec.waitMs ?? 0) > 0 && !stream
      ? this.hangProbe.watch(endpoint, () => {
          hung = true;
          controller.abort(new Error('the node stopped answering'));
        })
      : null;
    const headers: Record<string, string> = { accept: stream ? 'text/event-stream' : 'application/json' };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (key !== null) headers['idempotency-key'] = key;
    if (this.config.token !== null) headers.authorization = `Bearer ${this.config.token}`;
    try {
      const response = await this.config.fetch(endpoint + spec.path, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: controller.signal,
      });
      // Answered: the node runs, whatever a late probe says.
      unwatch?.();
      if (stream && response.ok) {
        // Headers arrived: the stream may now stay open as long as it likes.
        timer.cancel();
        spec.signal?.removeEventListener('abort', onUserAbort);
        // Keep forwarding the caller's abort to the open stream, until the caller is done with it.
        const forward = (): void => controller.abort(spec.signal?.reason);
        spec.signal?.addEventListener('abort', forward, { once: true });
        const done = (): void => spec.signal?.removeEventListener('abort', forward);
        return { kind: 'ok', value: { response, endpoint, done } };
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (response.ok) {
        if (body === undefined) {
          return { kind: 'fail', failure: { error: new LockstepError('protocol', `${endpoint} answered ${response.status} with a body that is not JSON`, response.status), retryable: false, retryAfterMs: null } };
        }
        return { kind: 'ok', value: { status: response.status, body, headers: response.headers, endpoint } };
      }
      const error = errorFromResponse(endpoint, response.status, body, response.headers);
      return { kind: 'fail', failure: { error, retryable: isRetryableStatus(error, spec.retry), retryAfterMs: error.retryAfterMs } };
    } catch (err) {
      // Ended mid-request: it may have reached a server and applied, as after a timeout.
      if (spec.signal?.aborted) throw abortedCall(spec.signal, spec.method !== 'GET', key);
      if (hung) {
        // As a timeout: the wait may be queued (or granted) on the leader; a retry with the key finds it.
        const error = new LockstepError('timeout', `${endpoint} stopped answering during the wait (GET /healthz unanswered within ${this.config.requestTimeoutMs} ms)`, 0, { endpoint, outcomeUnknown: true });
        return { kind: 'fail', failure: { error, retryable: spec.retry !== 'unsafe', retryAfterMs: null } };
      }
      if (timedOut) {
        // The request may have reached the server and applied: outcome unknown.
        const error = new LockstepError('timeout', `no answer within ${Math.round(timeoutMs)} ms`, 0, { endpoint, outcomeUnknown: spec.method !== 'GET' });
        return { kind: 'fail', failure: { error, retryable: spec.retry !== 'unsafe', retryAfterMs: null } };
      }
      const code = connectionErrorCode(err);
      const delivered = !NOT_DELIVERED_CODES.has(code);
      const error = new LockstepError('unreachable', `${code === 'unknown' ? String((err as Error)?.message ?? err) : code}`, 0, { endpoint, cause: code, outcomeUnknown: delivered && spec.method !== 'GET' });
      return { kind: 'fail', failure: { error, retryable: spec.retry !== 'unsafe' || !delivered, retryAfterMs: null } };
    } finally {
      timer.cancel();
      unwatch?.();
      if (!stream) spec.signal?.removeEventListener('abort', onUserAbort);
    }
  }
}

function isRetryableStatus(error: LockstepError, retry: RetryClass): boolean {
  // A per-node cap (open waits, streams): refused before anything was proposed, so safe to retry
  // for every class, after its Retry-After and on the next endpoint (whose cap may have room).
  // Not 429 limit_exceeded: a cap of the replicated state is full on every node alike and stays
  // full until holders, sessions or waiters go, which the caller must see rather than the SDK wait out.
  if (error.status === 429) return error.code === 'too_many_requests';
  if (error.status !== 503) return false;
  // no_leader: the command surely did not apply. unavailable: it may have; only a keyed retry is safe.
  if (error.code === 'no_leader') return true;
  return retry !== 'unsafe';
}

export function errorFromResponse(endpoint: string, status: number, body: unknown, headers: Headers): LockstepError {
  const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'));
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err.code === 'string') {
    const { code, message, ...details } = err as Record<string, unknown>;
    return new LockstepError(code as string, typeof message === 'string' ? message : code as string, status, { ...details, endpoint }, retryAfterMs);
  }
  // Not the contract's error shape (a proxy, a crash page): keep the status.
  const code = status === 503 ? 'unavailable' : status >= 500 ? 'internal' : 'protocol';
  return new LockstepError(code, `${endpoint} answered HTTP ${status} without an error body`, status, { endpoint }, retryAfterMs);
}

function connectionErrorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'unknown';
}

/**
 * The caller's abort. `outcomeUnknown`: a request of this call may have applied on the server
 * (with `idempotencyKey`, a repeat with that key returns its outcome): the client's
 * waiting calls give back a grant that came as the caller gave up (client.ts giveBackLate).
 */
function abortedCall(signal: AbortSignal | undefined, outcomeUnknown: boolean, key: string | null): LockstepError {
  return abortedError(signal, { outcomeUnknown, idempotencyKey: key });
}

/**
 * How much a failure tells the caller: a server's answer (no_leader says the
 * cluster is up but has lost its majority; unavailable says the outcome is
 * unknown) beats a timeout, which beats a connection that never opened.
 */
function tellingRank(f: AttemptFailure): number {
  if (f.error.status > 0) return 2;
  return f.error.code === 'timeout' ? 1 : 0;
}

function finalError(telling: AttemptFailure | null, failures: string[], endpoints: string[], key: string | null, answeredCount: number): LockstepError {
  if (telling === null) return new LockstepError('timeout', 'the call ran out of time before any attempt', 0);
  const e = telling.error;
  const tried = failures.slice(-endpoints.length).join('; ');
  if (e.code === 'unreachable') {
    return new LockstepError('unreachable', `no node of ${endpoints.join(',')} answered (${tried})`, 0, { ...e.details, attempts: failures.length, idempotencyKey: key });
  }
  if (e.code === 'timeout') {
    return new LockstepError('timeout', `no node of ${endpoints.join(',')} answered in time (${tried})`, 0, { ...e.details, attempts: failures.length, idempotencyKey: key });
  }
  // answeredCount of endpointCount endpoints gave an HTTP answer during the call (the CLI's "k of n nodes answered").
  return new LockstepError(e.code, e.message, e.status, { ...e.details, attempts: failures.length, answeredCount, endpointCount: endpoints.length, idempotencyKey: key }, e.retryAfterMs);
}
