// The lockstep SDK: typed methods for every endpoint of the HTTP API v1,
// sessions that keep themselves alive, withLock, elect and observe.
//
//   const client = new Client({ endpoints: ['http://127.0.0.1:7001', 'http://127.0.0.1:7002'] });
//   await client.withLock('ticket:abc', { ttlMs: 600_000 }, async (hold) => {
//     await store.write(order, { fencingToken: hold.fencingToken, signal: hold.signal });
//   });

import { httpsAgent, httpsFetch, type TlsOptions } from './https-fetch.js';
import { systemClock, type Clock } from './clock.js';
import { isLockstepError, LockstepError } from './errors.js';
import { checkSafetyMargin } from './lease.js';
import { Election, type ElectOptions } from './election.js';
import { withLock, type LockHold, type WithLockOptions } from './hold.js';
import { releaseAll, withLocks, type LockSetHold, type WithLocksOptions } from './hold-set.js';
import { HttpEngine, type HttpResult, type RequestSpec } from './http.js';
import { Session, type SessionOptions } from './session.js';
import { eventStream, parseEventData, type StreamOptions } from './stream.js';
import { isSendableToken } from './token.js';
import type {
  AcquireOptions,
  AcquireResult,
  AcquireSetOptions,
  AcquireSetResult,
  CallOptions,
  CampaignResult,
  ClusterInfo,
  SetLock,
  ElectionInfo,
  ElectionLeader,
  LockInfo,
  LockList,
  LockWatchEvent,
  ReadOptions,
  SessionCreated,
  SessionCreateOptions,
  SessionInfo,
  SessionList,
  TokenCreated,
  TokenInfo,
  TokenRole,
} from './types.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_BACKOFF_BASE_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 2_000;
/** The contract's default session TTL (POST /v1/sessions without ttlMs). */
export const SESSION_TTL_MS_SERVER_DEFAULT = 10_000;

export interface ClientOptions {
  /** API URLs of the nodes, e.g. http://127.0.0.1:7001. Tried in turn; any node serves the whole API. */
  endpoints: string[];
  /** Per attempt (a waiting acquire or campaign adds its waitMs). Default 5000. */
  requestTimeoutMs?: number;
  /** Per call across retries. Default 30000. */
  totalTimeoutMs?: number;
  /** Per call. Default 10. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Bearer token, when the cluster has auth on. */
  token?: string;
  fetch?: typeof fetch;
  /**
   * HTTPS with the cluster's CA (`ca`) and, for nodes that require one, a
   * client certificate (`cert`, `key`); PEM. Requests then go through
   * node:https (fetch cannot take a CA without undici). Not with `fetch`.
   */
  tls?: TlsOptions;
  /** Monotonic clock and timers; tests inject a manual one. */
  clock?: Clock;
}

const seg = (name: string): string => encodeURIComponent(name);

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function readQuery(opts: ReadOptions | undefined, extra: Record<string, string | number | undefined> = {}): string {
  return query({ ...extra, consistency: opts?.consistency === 'stale' ? 'stale' : undefined });
}

function fetchFor(options: ClientOptions): typeof fetch {
  if (options.tls === undefined) return options.fetch ?? globalThis.fetch;
  if (options.fetch !== undefined) throw new Error('lockstep client: give tls or fetch, not both');
  return httpsFetch(httpsAgent(options.tls));
}

export class Client {
  readonly clock: Clock;
  private readonly http: HttpEngine;

  constructor(options: ClientOptions) {
    // Else every request fails inside fetch (an invalid header value) and the cluster looks down.
    if (options.token !== undefined && !isSendableToken(options.token)) {
      throw new TypeError('lockstep client: token must be visible ASCII without spaces or newlines, as every lockstep token is: was it copied whole?');
    }
    this.clock = options.clock ?? systemClock;
    this.http = new HttpEngine({
      endpoints: options.endpoints.map((e) => e.replace(/\/+$/, '')),
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      totalTimeoutMs: options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      fetch: fetchFor(options),
      clock: this.clock,
      token: options.token ?? null,
    });
  }

  get endpoints(): string[] {
    return this.http.endpoints;
  }

  /** The raw request, for endpoints this SDK does not wrap. */
  async request<T>(spec: RequestSpec): Promise<HttpResult<T>> {
    return this.http.request<T>(spec);
  }

  private async body<T>(spec: RequestSpec): Promise<T> {
    return (await this.http.request<T>(spec)).body;
  }

  /**
   * A call that may grant something (acquire, lock set, campaign), made so that an abort cannot
   * leak the grant. The caller may give up just as the server grants (the answer in flight, or the
   * wait resolved before the server saw the connection close): the grant then stands until its TTL
   * or its session ends, and nobody knows its token. So after an abort that may have reached a
   * server, ask again with the same Idempotency-Key, which answers with the first request's
   * outcome, and give back what it granted. waitMs 0: if the first request never reached the
   * leader, this one only tries once rather than queueing itself; and should it join the first's
   * wait (the server has not yet seen that the first went away), each attempt still ends after
   * requestTimeoutMs, and abandoning it cancels that wait. Best effort, in the background: an
   * error ends it, and the grant then ends with its TTL or session.
   */
  private async giveBackLate<T>(spec: RequestSpec, giveBack: (late: T) => Promise<unknown> | null): Promise<T> {
    try {
      return await this.body<T>(spec);
    } catch (err) {
      const key = isLockstepError(err, 'aborted') && err.details.outcomeUnknown === true ? err.details.idempotencyKey : undefined;
      if (typeof key === 'string') {
        const again: RequestSpec = { ...spec, body: { ...(spec.body as object), waitMs: 0 }, waitMs: 0, signal: undefined, idempotencyKey: key };
        void this.body<T>(again).then(giveBack).catch(() => undefined);
      }
      throw err;
    }
  }

  // ---- sessions ----

  createSession(opts: SessionCreateOptions = {}, call: CallOptions = {}): Promise<SessionCreated> {
    return this.body({ method: 'POST', path: '/v1/sessions', body: opts, retry: 'keyed', signal: call.signal });
  }

  keepaliveSession(sessionId: string, opts: { requestTimeoutMs?: number; totalTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ sessionId: string; ttlMs: number }> {
    // Keepalives are idempotent by nature (the contract): no key needed.
    return this.body({ method: 'POST', path: `/v1/sessions/${seg(sessionId)}/keepalive`, retry: 'idempotent', ...opts });
  }

  getSession(sessionId: string, opts?: ReadOptions): Promise<SessionInfo> {
    return this.body({ method: 'GET', path: `/v1/sessions/${seg(sessionId)}${readQuery(opts)}`, retry: 'idempotent', signal: opts?.signal });
  }

  deleteSession(sessionId: string, call: CallOptions = {}): Promise<{ sessionId: string; released: { name: string; fencingToken: number }[] }> {
    return this.body({ method: 'DELETE', path: `/v1/sessions/${seg(sessionId)}`, retry: 'keyed', signal: call.signal });
  }

  listSessions(opts: { limit?: number; after?: string } & ReadOptions = {}): Promise<SessionList> {
    return this.body({ method: 'GET', path: `/v1/sessions${readQuery(opts, { limit: opts.limit, after: opts.after })}`, retry: 'idempotent', signal: opts.signal });
  }

  /** Every session, following `next` page by page. */
  async *allSessions(opts: { pageSize?: number } & ReadOptions = {}): AsyncGenerator<SessionInfo> {
    let after: string | undefined;
    do {
      const page = await this.listSessions({ ...opts, limit: opts.pageSize, after });
      yield* page.sessions;
      after = page.next;
    } while (after !== undefined && after !== null);
  }

  /** Open a session that keeps itself alive; see Session.signal and Session.lost. */
  async session(opts: SessionOptions = {}, call: CallOptions = {}): Promise<Session> {
    const { safetyMarginMs, ...create } = opts;
    checkSafetyMargin(safetyMarginMs, create.ttlMs ?? SESSION_TTL_MS_SERVER_DEFAULT, 'client.session');
    const sentAtMs = this.clock.nowMs();
    const created = await this.createSession(create, call);
    try {
      return new Session(this, this.clock, created, sentAtMs, safetyMarginMs);
    } catch (err) {
      // A TTL the server chose that the margin does not fit: nobody will keep this session alive, so end it now.
      await this.deleteSession(created.sessionId).catch(() => undefined);
      throw err;
    }
  }

  // ---- locks ----

  /**
   * Aborted (call.signal) while the server may have granted it: the SDK releases that grant in
   * the background (giveBackLate), so no hold the caller never saw is left until its TTL or session ends.
   */
  acquire(name: string, opts: AcquireOptions, call: CallOptions = {}): Promise<AcquireResult> {
    const spec: RequestSpec = { method: 'POST', path: `/v1/locks/${seg(name)}/acquire`, body: opts, retry: 'keyed', waitMs: opts.waitMs ?? 0, signal: call.signal };
    return this.giveBackLate<AcquireResult>(spec, (late) => (late.acquired ? this.release(name, late.fencingToken) : null));
  }

  release(name: string, fencingToken: number, call: CallOptions = {}): Promise<{ released: true }> {
    return this.body({ method: 'POST', path: `/v1/locks/${seg(name)}/release`, body: { fencingToken }, retry: 'keyed', signal: call.signal });
  }

  extend(name: string, fencingToken: number, ttlMs?: number, call: CallOptions = {}): Promise<{ expiresInMs: number }> {
    return this.body({ method: 'POST', path: `/v1/locks/${seg(name)}/extend`, body: { fencingToken, ttlMs }, retry: 'keyed', signal: call.signal });
  }

  getLock(name: string, opts?: ReadOptions): Promise<LockInfo> {
    return this.body({ method: 'GET', path: `/v1/locks/${seg(name)}${readQuery(opts)}`, retry: 'idempotent', signal: opts?.signal });
  }

  listLocks(opts: { prefix?: string; limit?: number; after?: string } & ReadOptions = {}): Promise<LockList> {
    const path = `/v1/locks${readQuery(opts, { prefix: opts.prefix, limit: opts.limit, after: opts.after })}`;
    return this.body({ method: 'GET', path, retry: 'idempotent', signal: opts.signal });
  }

  /** Every lock with the prefix, following `next` page by page. */
  async *allLocks(opts: { prefix?: string; pageSize?: number } & ReadOptions = {}): AsyncGenerator<LockList['locks'][number]> {
    let after: string | undefined;
    do {
      const page = await this.listLocks({ ...opts, limit: opts.pageSize, after });
      yield* page.locks;
      after = page.next;
    } while (after !== undefined && after !== null);
  }

  /** Changes to a lock, starting with a `state` event (again after a reconnect). */
  async *watchLock(name: string, opts: StreamOptions = {}): AsyncGenerator<LockWatchEvent> {
    for await (const ev of eventStream(this.http, this.clock, `/v1/locks/${seg(name)}/watch`, opts)) {
      yield { type: ev.event, data: parseEventData(ev) as LockWatchEvent['data'] };
    }
  }

  /** Chubby's sequencer check: does this token hold the lock now? */
  async checkFencing(name: string, fencingToken: number, call: CallOptions = {}): Promise<boolean> {
    // A read: safe to retry without a key.
    const res = await this.body<{ valid: boolean }>({ method: 'POST', path: '/v1/fencing/check', body: { name, fencingToken }, retry: 'idempotent', signal: call.signal });
    return res.valid;
  }

  withLock<T>(name: string, opts: WithLockOptions, fn: (hold: LockHold) => Promise<T> | T): Promise<T> {
    return withLock(this, name, opts, fn);
  }

  // ---- lock sets ----

  /**
   * Several locks at once, all or nothing; with waitMs, waiting in line on all of them (one place each).
   * Aborted while the server may have granted the set: the SDK releases it in the background, as acquire does.
   */
  acquireSet(body: AcquireSetOptions, call: CallOptions = {}): Promise<AcquireSetResult> {
    const spec: RequestSpec = { method: 'POST', path: '/v1/lock-sets/acquire', body, retry: 'keyed', waitMs: body.waitMs ?? 0, signal: call.signal };
    return this.giveBackLate<AcquireSetResult>(spec, (late) => (late.acquired ? releaseAll(this, late.holds) : null));
  }

  /** Releases every hold named, or none (409 not_holder with `names`: those that do not hold). */
  releaseSet(holds: Array<{ name: string; fencingToken: number }>, call: CallOptions = {}): Promise<{ released: string[] }> {
    return this.body({ method: 'POST', path: '/v1/lock-sets/release', body: { holds }, retry: 'keyed', signal: call.signal });
  }

  /**
   * Take the locks as one set (all or nothing, waiting in line), run `fn`
   * while they are held, release them all. `set.signal` fires before any of
   * them can have ended on the server; `set.fencingToken(name)` goes to the
   * resource each one protects.
   *
   *   await client.withLocks(['acct:1', 'acct:2'], { ttlMs: 30_000, waitMs: 10_000 }, async (set) => { ... });
   */
  withLocks<T>(locks: ReadonlyArray<string | SetLock>, opts: WithLocksOptions, fn: (set: LockSetHold) => Promise<T> | T): Promise<T> {
    return withLocks(this, locks, opts, fn);
  }

  // ---- elections ----

  /** Aborted while the server may have elected the candidate: the SDK resigns that term in the background, as acquire releases. */
  campaign(name: string, body: { sessionId: string; value: string; waitMs?: number }, call: CallOptions = {}): Promise<CampaignResult> {
    const spec: RequestSpec = { method: 'POST', path: `/v1/elections/${seg(name)}/campaign`, body, retry: 'keyed', waitMs: body.waitMs ?? 0, signal: call.signal };
    return this.giveBackLate<CampaignResult>(spec, (late) => (late.elected ? this.resign(name, late.term) : null));
  }

  proclaim(name: string, term: number, value: string, call: CallOptions = {}): Promise<{ name: string; term: number; value: string }> {
    return this.body({ method: 'POST', path: `/v1/elections/${seg(name)}/proclaim`, body: { term, value }, retry: 'keyed', signal: call.signal });
  }

  resign(name: string, term: number, call: CallOptions = {}): Promise<{ resigned: true }> {
    return this.body({ method: 'POST', path: `/v1/elections/${seg(name)}/resign`, body: { term }, retry: 'keyed', signal: call.signal });
  }

  getElection(name: string, opts?: ReadOptions): Promise<ElectionInfo> {
    return this.body({ method: 'GET', path: `/v1/elections/${seg(name)}${readQuery(opts)}`, retry: 'idempotent', signal: opts?.signal });
  }

  /** Campaign in the background; see ElectOptions. Close the returned Election to resign and stop. */
  elect(name: string, value: string, opts: ElectOptions): Election {
    return new Election(this, name, value, opts);
  }

  /** The election's leader now, then at every change (null: vacant). Repeats are dropped across reconnects. */
  async *observe(name: string, opts: StreamOptions = {}): AsyncGenerator<ElectionLeader | null> {
    let last: string | undefined;
    for await (const ev of eventStream(this.http, this.clock, `/v1/elections/${seg(name)}/observe`, opts)) {
      if (ev.event !== 'leader') continue;
      const data = parseEventData(ev);
      if (!('leader' in data)) throw new LockstepError('protocol', "observe: a 'leader' event without 'leader'", 0);
      const leader = data.leader as ElectionLeader | null;
      const keyText = JSON.stringify(leader);
      if (keyText === last) continue;
      last = keyText;
      yield leader;
    }
  }

  // ---- cluster ----

  cluster(opts?: ReadOptions): Promise<ClusterInfo> {
    return this.body({ method: 'GET', path: `/v1/cluster${readQuery(opts)}`, retry: 'idempotent', signal: opts?.signal });
  }

  addMember(member: { id: string; apiUrl: string; peerUrl: string; voter?: boolean }, call: CallOptions = {}): Promise<unknown> {
    return this.body({ method: 'POST', path: '/v1/cluster/members', body: member, retry: 'unsafe', signal: call.signal });
  }

  removeMember(id: string, call: CallOptions = {}): Promise<unknown> {
    return this.body({ method: 'DELETE', path: `/v1/cluster/members/${seg(id)}`, retry: 'unsafe', signal: call.signal });
  }

  /** Hand leadership to `to` (or to the most up-to-date follower). */
  transferLeadership(to?: string, call: CallOptions = {}): Promise<{ leader?: string; [k: string]: unknown }> {
    return this.body({ method: 'POST', path: '/v1/cluster/leadership', body: to === undefined ? {} : { to }, retry: 'unsafe', signal: call.signal });
  }

  /**
   * A consistent backup of the replicated state (admin): the bytes of GET
   * /v1/cluster/snapshot, to write to a file as they are (`lockstep snapshot
   * save FILE`; `lockstep serve --restore-from FILE` starts a new cluster
   * from it). Taken by the leader at a linearizable point.
   */
  async snapshot(call: CallOptions = {}): Promise<Uint8Array> {
    const { response, endpoint, done } = await this.http.openStream({ method: 'GET', path: '/v1/cluster/snapshot', retry: 'idempotent', signal: call.signal });
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      if (call.signal?.aborted) throw new LockstepError('aborted', 'aborted while reading the snapshot', 0);
      throw new LockstepError('unreachable', `${endpoint} dropped the connection while sending the snapshot: ${(err as Error).message}`, 0, { endpoint });
    } finally {
      done();
    }
  }

  // ---- tokens (admin), whoami (any token) ----

  /**
   * A new token; keep `secret`, it is never shown again. Not retried once it
   * may have reached a node (a retry could make two): on a timeout, list the
   * tokens and revoke a stray one.
   */
  createToken(token: { name: string; role: TokenRole; prefixes?: string[] }, call: CallOptions = {}): Promise<TokenCreated> {
    return this.body({ method: 'POST', path: '/v1/auth/tokens', body: token, retry: 'unsafe', signal: call.signal });
  }

  listTokens(opts?: ReadOptions): Promise<{ tokens: TokenInfo[] }> {
    return this.body({ method: 'GET', path: `/v1/auth/tokens${readQuery(opts)}`, retry: 'idempotent', signal: opts?.signal });
  }

  /** Once committed the token can no longer act on any node; its long-polls and streams end with 401. */
  revokeToken(id: string, call: CallOptions = {}): Promise<{ revoked: true }> {
    return this.body({ method: 'DELETE', path: `/v1/auth/tokens/${seg(id)}`, retry: 'unsafe', signal: call.signal });
  }

  /** What this client's token may do. */
  whoami(call: CallOptions = {}): Promise<TokenInfo> {
    return this.body({ method: 'GET', path: '/v1/auth/whoami', retry: 'idempotent', signal: call.signal });
  }
}
