// The API reference served at /docs/ (and /docs/json): for every route an
// operationId, a description, an example request and answer, and an example
// answer for every error code the route can give. The route schemas stay the
// one owner of shapes and validation; this file owns the prose and examples,
// and documentApi() writes them into the OpenAPI document @fastify/swagger
// generates from those schemas. test/server/api-reference.test.ts pins that
// every route has an entry and that every example fits the route's schemas.

import { STATUS_CODES } from 'node:http';
import { SERVER_ERRORS, type ServerErrorCode } from 'lockstep-client';
import { errorResponseSchema } from './errors.js';

export interface RouteReference {
  operationId: string;
  description: string;
  /** An example request: the path with its query, and the JSON body for routes that take one. */
  request: { path: string; body?: unknown };
  /** The answer to that request (a string for text answers: metrics, event streams). */
  answer: { status: number; body: unknown };
  /** Every error code the route answers with, besides `internal` (which any route may). */
  errors: ServerErrorCode[];
  /** Details for this route's error examples (e.g. `cycle` on deadlock); the rest get the table's message. */
  errorDetails?: Partial<Record<ServerErrorCode, Record<string, unknown>>>;
}

/** Refusals of a request with a token (auth on). */
const AUTH: ServerErrorCode[] = ['unauthorized', 'forbidden'];
/** A request with a body or parameters that are checked. */
const INPUT: ServerErrorCode[] = ['invalid_argument', 'payload_too_large'];
/** Anything that needs the leader: forwarded writes, linearizable reads. */
const LEADER: ServerErrorCode[] = ['no_leader', 'unavailable'];
/** A change recorded with its Idempotency-Key. */
const IDEMPOTENT: ServerErrorCode[] = ['idempotency_conflict'];

const HOLDER = { fencingToken: 1042, mode: 'exclusive', sessionId: 'sess-7f3a', owner: 'worker-3', value: 'host-a' };
const CLUSTER = {
  clusterId: 'c-5e1d',
  self: 'n1',
  leader: 'n1',
  term: 3,
  commitIndex: 1187,
  appliedIndex: 1187,
  members: [
    { id: 'n1', apiUrl: 'http://10.0.0.1:7001', peerUrl: '10.0.0.1:7101', role: 'leader', voter: true, matchIndex: 1187, reachable: true },
    { id: 'n2', apiUrl: 'http://10.0.0.2:7001', peerUrl: '10.0.0.2:7101', role: 'follower', voter: true, matchIndex: 1187, reachable: true },
    { id: 'n3', apiUrl: 'http://10.0.0.3:7001', peerUrl: '10.0.0.3:7101', role: 'follower', voter: true, matchIndex: 1180, reachable: true },
  ],
};
const SESSION = { sessionId: 'sess-7f3a', name: 'worker-3', ttlMs: 10000, lockDelayMs: 0, remainingMs: 8400, holds: [{ kind: 'lock', name: 'orders:42', fencingToken: 1042 }], waits: [] };

export const API_REFERENCE: Record<string, RouteReference> = {
  'GET /healthz': {
    operationId: 'getHealth',
    description: 'Liveness for process supervisors: 200 while the process serves, whatever the cluster does. Needs no token.',
    request: { path: '/healthz' },
    answer: { status: 200, body: { ok: true } },
    errors: [],
  },
  'GET /readyz': {
    operationId: 'getReadiness',
    description: 'Readiness for load balancers: 200 when this node knows a leader and has applied everything it knows committed; 503 otherwise (no_leader, or unavailable while it catches up). Needs no token.',
    request: { path: '/readyz' },
    answer: { status: 200, body: { ready: true, leader: 'n1', commitIndex: 1187, appliedIndex: 1187 } },
    errors: ['no_leader', 'unavailable'],
    errorDetails: { unavailable: { commitIndex: 1187, appliedIndex: 1150 } },
  },
  'GET /metrics': {
    operationId: 'getMetrics',
    description: 'Prometheus text format: Raft term, indexes and role, lock state sizes, request durations by route and status, process metrics.',
    request: { path: '/metrics' },
    answer: { status: 200, body: '# TYPE lockstep_sessions gauge\nlockstep_sessions 12\n' },
    errors: AUTH,
  },
  'GET /v1/cluster': {
    operationId: 'getCluster',
    description: 'This node\'s view of the cluster, answered locally (never forwarded): members with roles, the leader, term, commit and applied index. On the leader each member also has matchIndex (how far its log is known to match) and reachable (it answered within the last election timeout); lag is commitIndex - matchIndex.',
    request: { path: '/v1/cluster' },
    answer: { status: 200, body: CLUSTER },
    errors: AUTH,
  },
  'POST /v1/cluster/members': {
    operationId: 'addMember',
    description: 'Adds a node to the cluster (admin). A learner (voter: false) receives the log without voting; a voter is added once caught up. The same request again finishes the first, so a retry after a lost answer is safe.',
    request: { path: '/v1/cluster/members', body: { id: 'n4', apiUrl: 'http://10.0.0.4:7001', peerUrl: '10.0.0.4:7101' } },
    answer: { status: 200, body: { ...CLUSTER, members: [...CLUSTER.members, { id: 'n4', apiUrl: 'http://10.0.0.4:7001', peerUrl: '10.0.0.4:7101', role: 'follower', voter: true, matchIndex: 1187, reachable: true }] } },
    errors: [...INPUT, ...AUTH, ...LEADER],
    errorDetails: { invalid_argument: { field: 'id' } },
  },
  'DELETE /v1/cluster/members/{id}': {
    operationId: 'removeMember',
    description: 'Removes a member from the cluster (admin). Removing the leader hands leadership to another voter first.',
    request: { path: '/v1/cluster/members/n3' },
    answer: { status: 200, body: { ...CLUSTER, members: CLUSTER.members.slice(0, 2) } },
    errors: [...INPUT, ...AUTH, 'not_found', ...LEADER],
    errorDetails: { not_found: { id: 'n9' } },
  },
  'POST /v1/cluster/leadership': {
    operationId: 'transferLeadership',
    description: 'Hands leadership over (admin), to `to` or to the most caught-up voter, and answers with the new leader. Use it before taking the leader down for maintenance.',
    request: { path: '/v1/cluster/leadership', body: { to: 'n2' } },
    answer: { status: 200, body: { leader: 'n2', previous: 'n1' } },
    errors: [...INPUT, ...AUTH, 'not_found', ...LEADER],
    errorDetails: { not_found: { id: 'n9' } },
  },
  'GET /v1/cluster/snapshot': {
    operationId: 'getSnapshot',
    description: 'A consistent backup of the replicated state (admin): every session, hold, waiter, election, token and idempotency record as of one Raft index. The leader takes it after confirming its leadership (a follower forwards the request), so it holds every change acknowledged before the request. Binary (application/vnd.lockstep.snapshot): the line LOCKSTEP-SNAPSHOT, a JSON header line (version, clusterId, takenBy, takenAtMs, index, term, dataBytes, dataCrc32), then the state. `lockstep snapshot save FILE` writes it to a file; `lockstep serve --restore-from FILE` starts a new cluster from it.',
    request: { path: '/v1/cluster/snapshot' },
    answer: { status: 200, body: 'LOCKSTEP-SNAPSHOT\n{"version":1,"clusterId":"c-5e1d","takenBy":"n1","takenAtMs":1796450000000,"index":1187,"term":3,"dataBytes":48213,"dataCrc32":2914170823}\n<48213 bytes of state>' },
    errors: [...AUTH, ...LEADER],
  },
  'POST /v1/sessions': {
    operationId: 'createSession',
    description: 'Creates a session: a lease kept alive by keepalives. Holds and waits made with its sessionId end when it ends; on expiry (not on delete) each lock it held refuses new holders for lockDelayMs.',
    request: { path: '/v1/sessions', body: { ttlMs: 10000, name: 'worker-3', lockDelayMs: 0 } },
    answer: { status: 201, body: { sessionId: 'sess-7f3a', ttlMs: 10000, lockDelayMs: 0, name: 'worker-3' } },
    errors: [...INPUT, ...AUTH, ...IDEMPOTENT, 'limit_exceeded', ...LEADER],
  },
  'GET /v1/sessions': {
    operationId: 'listSessions',
    description: 'Sessions in id order, a page at a time: pass `next` as `after` for the following page. Shows only the sessions the token may see.',
    request: { path: '/v1/sessions?limit=100' },
    answer: { status: 200, body: { sessions: [SESSION] } },
    errors: [...INPUT, ...AUTH, ...LEADER],
    errorDetails: { invalid_argument: { field: 'limit' } },
  },
  'POST /v1/sessions/{id}/keepalive': {
    operationId: 'keepSessionAlive',
    description: 'Renews the session\'s lease for another ttlMs. Idempotent by nature (ignores Idempotency-Key). Send one every ttlMs/3 or so.',
    request: { path: '/v1/sessions/sess-7f3a/keepalive' },
    answer: { status: 200, body: { sessionId: 'sess-7f3a', ttlMs: 10000 } },
    errors: [...INPUT, ...AUTH, 'session_not_found', ...LEADER],
  },
  'GET /v1/sessions/{id}': {
    operationId: 'getSession',
    description: 'A session with the time left on its lease and the locks and elections it holds and the names it waits for.',
    request: { path: '/v1/sessions/sess-7f3a' },
    answer: { status: 200, body: SESSION },
    errors: [...INPUT, ...AUTH, 'session_not_found', ...LEADER],
  },
  'DELETE /v1/sessions/{id}': {
    operationId: 'deleteSession',
    description: 'Ends a session at once: its holds are released (no lock-delay, unlike expiry) and its waits removed. Answers with the holds it released.',
    request: { path: '/v1/sessions/sess-7f3a' },
    answer: { status: 200, body: { sessionId: 'sess-7f3a', released: [{ name: 'orders:42', fencingToken: 1042 }] } },
    errors: [...INPUT, ...AUTH, 'session_not_found', ...IDEMPOTENT, ...LEADER],
  },
  'POST /v1/locks/{name}/acquire': {
    operationId: 'acquireLock',
    description: 'Takes a lock for a session or with its own TTL, at once or waiting in FIFO order up to waitMs. Exclusive with limit > 1 is a semaphore; shared is a read lock. The fencingToken grows with every grant: pass it to the resource you protect.',
    request: { path: '/v1/locks/orders:42/acquire', body: { sessionId: 'sess-7f3a', waitMs: 5000, owner: 'worker-3' } },
    answer: { status: 200, body: { acquired: true, name: 'orders:42', fencingToken: 1042, mode: 'exclusive', sessionId: 'sess-7f3a' } },
    errors: [...INPUT, ...AUTH, 'session_not_found', 'deadlock', 'limit_mismatch', ...IDEMPOTENT, 'limit_exceeded', 'too_many_requests', ...LEADER],
    errorDetails: { deadlock: { cycle: ['orders:42', 'orders:43'] }, invalid_argument: { field: 'ttlMs' } },
  },
  'POST /v1/locks/{name}/release': {
    operationId: 'releaseLock',
    description: 'Releases a hold by its fencing token; the next waiter in line is granted at once.',
    request: { path: '/v1/locks/orders:42/release', body: { fencingToken: 1042 } },
    answer: { status: 200, body: { released: true } },
    errors: [...INPUT, ...AUTH, 'not_holder', ...IDEMPOTENT, ...LEADER],
  },
  'POST /v1/locks/{name}/extend': {
    operationId: 'extendLock',
    description: 'Renews a TTL hold, for ttlMs or its own TTL again. A session hold lives as long as its session: keep the session alive instead (400).',
    request: { path: '/v1/locks/orders:42/extend', body: { fencingToken: 1043, ttlMs: 30000 } },
    answer: { status: 200, body: { expiresInMs: 30000 } },
    errors: [...INPUT, ...AUTH, 'not_holder', ...IDEMPOTENT, ...LEADER],
  },
  'GET /v1/locks/{name}': {
    operationId: 'getLock',
    description: 'A lock\'s mode, holders (token, owner, time left on TTL holds) and waiters in line order, and what is left of its lock-delay. A free lock is 200 with no holders.',
    request: { path: '/v1/locks/orders:42' },
    answer: { status: 200, body: { name: 'orders:42', mode: 'exclusive', limit: 1, holders: [HOLDER], waiters: [{ sessionId: 'sess-9b21', owner: 'worker-5', mode: 'exclusive' }] } },
    errors: [...INPUT, ...AUTH, ...LEADER],
  },
  'GET /v1/locks': {
    operationId: 'listLocks',
    description: 'Locks with holders, waiters or a lock-delay, in name order, filtered by prefix, a page at a time (pass `next` as `after`). Shows only the names the token may see.',
    request: { path: '/v1/locks?prefix=orders:&limit=50' },
    answer: { status: 200, body: { locks: [{ name: 'orders:42', mode: 'exclusive', limit: 1, holders: [HOLDER], waiters: [] }], next: 'orders:42' } },
    errors: [...INPUT, ...AUTH, ...LEADER],
    errorDetails: { invalid_argument: { field: 'limit' } },
  },
  'GET /v1/locks/{name}/watch': {
    operationId: 'watchLock',
    description: 'A text/event-stream of the lock, from this node\'s applied state: first `state` with the holders and waiters, then `acquired`, `released`, `expired`, `queued` and `dequeued` as they are applied. Errors after the stream started come as an `error` event (401 when the token is revoked).',
    request: { path: '/v1/locks/orders:42/watch' },
    answer: {
      status: 200,
      body: 'event: state\ndata: {"name":"orders:42","mode":"exclusive","limit":1,"holders":[{"fencingToken":1042,"mode":"exclusive","sessionId":"sess-7f3a"}],"waiters":[],"index":1187}\n\n'
        + 'event: released\ndata: {"name":"orders:42","fencingToken":1042,"sessionId":"sess-7f3a","index":1190}\n\n',
    },
    errors: [...INPUT, ...AUTH, 'too_many_requests'],
  },
  'POST /v1/lock-sets/acquire': {
    operationId: 'acquireLockSet',
    description: 'Takes 2 to 64 locks all at once or none, each with its own fencing token. Waiting holds one place in every lock\'s line and nothing else, so clients that only take sets never deadlock.',
    request: { path: '/v1/lock-sets/acquire', body: { locks: [{ name: 'account:a' }, { name: 'account:b' }], ttlMs: 30000, waitMs: 5000 } },
    answer: { status: 200, body: { acquired: true, holds: [{ name: 'account:a', fencingToken: 1201, mode: 'exclusive' }, { name: 'account:b', fencingToken: 1202, mode: 'exclusive' }], expiresInMs: 30000 } },
    errors: [...INPUT, ...AUTH, 'session_not_found', 'deadlock', 'limit_mismatch', ...IDEMPOTENT, 'limit_exceeded', 'too_many_requests', ...LEADER],
    errorDetails: { deadlock: { cycle: ['account:a', 'account:c'] }, limit_mismatch: { name: 'account:a' } },
  },
  'POST /v1/lock-sets/release': {
    operationId: 'releaseLockSet',
    description: 'Releases several holds at once, or none when any of them does not hold (409 not_holder names them).',
    request: { path: '/v1/lock-sets/release', body: { holds: [{ name: 'account:a', fencingToken: 1201 }, { name: 'account:b', fencingToken: 1202 }] } },
    answer: { status: 200, body: { released: ['account:a', 'account:b'] } },
    errors: [...INPUT, ...AUTH, 'not_holder', ...IDEMPOTENT, ...LEADER],
    errorDetails: { not_holder: { names: ['account:b'] } },
  },
  'POST /v1/elections/{name}/campaign': {
    operationId: 'campaign',
    description: 'Runs for leader of a named election with a session and a value. The term is a fencing token of the leadership. With waitMs > 0 the candidate waits in line.',
    request: { path: '/v1/elections/report-job/campaign', body: { sessionId: 'sess-7f3a', value: 'host-a:9000', waitMs: 10000 } },
    answer: { status: 200, body: { elected: true, name: 'report-job', term: 1310, value: 'host-a:9000' } },
    errors: [...INPUT, ...AUTH, 'session_not_found', 'deadlock', ...IDEMPOTENT, 'limit_exceeded', 'too_many_requests', ...LEADER],
    errorDetails: { deadlock: { cycle: ['report-job', 'orders:42'] } },
  },
  'POST /v1/elections/{name}/proclaim': {
    operationId: 'proclaim',
    description: 'The leader publishes a new value without losing leadership.',
    request: { path: '/v1/elections/report-job/proclaim', body: { term: 1310, value: 'host-a:9001' } },
    answer: { status: 200, body: { name: 'report-job', term: 1310, value: 'host-a:9001' } },
    errors: [...INPUT, ...AUTH, 'not_holder', ...IDEMPOTENT, ...LEADER],
  },
  'POST /v1/elections/{name}/resign': {
    operationId: 'resign',
    description: 'The leader steps down; the next candidate in line is elected at once.',
    request: { path: '/v1/elections/report-job/resign', body: { term: 1310 } },
    answer: { status: 200, body: { resigned: true } },
    errors: [...INPUT, ...AUTH, 'not_holder', ...IDEMPOTENT, ...LEADER],
  },
  'GET /v1/elections/{name}': {
    operationId: 'getElection',
    description: 'The election\'s leader (session, value, term) or null, and how many candidates wait.',
    request: { path: '/v1/elections/report-job' },
    answer: { status: 200, body: { name: 'report-job', leader: { sessionId: 'sess-7f3a', value: 'host-a:9000', term: 1310 }, candidates: 2 } },
    errors: [...INPUT, ...AUTH, ...LEADER],
  },
  'GET /v1/elections/{name}/observe': {
    operationId: 'observeElection',
    description: 'A text/event-stream of `leader` events from this node\'s applied state: the current leader first, then one per change (a vacancy is leader: null).',
    request: { path: '/v1/elections/report-job/observe' },
    answer: { status: 200, body: 'event: leader\ndata: {"leader":{"sessionId":"sess-7f3a","value":"host-a:9000","term":1310}}\n\nevent: leader\ndata: {"leader":null}\n\n' },
    errors: [...INPUT, ...AUTH, 'too_many_requests'],
  },
  'POST /v1/fencing/check': {
    operationId: 'checkFencingToken',
    description: 'Whether a fencing token holds the lock now (Chubby\'s sequencer check), for resources that cannot keep the largest token they have seen.',
    request: { path: '/v1/fencing/check', body: { name: 'orders:42', fencingToken: 1042 } },
    answer: { status: 200, body: { valid: true } },
    errors: [...INPUT, ...AUTH, ...LEADER],
  },
  'POST /v1/auth/tokens': {
    operationId: 'createToken',
    description: 'Creates a token (admin) with a role and optional name prefixes. The secret is in this answer only; the cluster keeps a hash of it.',
    request: { path: '/v1/auth/tokens', body: { name: 'billing-workers', role: 'writer', prefixes: ['billing:'] } },
    answer: { status: 201, body: { id: 'tok-31c8', name: 'billing-workers', role: 'writer', prefixes: ['billing:'], secret: 'lst_4b7eQ2mX9pLc0Vd8sKfR1tYwZa3uJh6nGe5oBi7xNq-' } },
    errors: [...INPUT, ...AUTH, 'limit_exceeded', ...LEADER],
  },
  'GET /v1/auth/tokens': {
    operationId: 'listTokens',
    description: 'The tokens of the cluster (admin), without their secrets.',
    request: { path: '/v1/auth/tokens' },
    answer: { status: 200, body: { tokens: [{ id: 'tok-31c8', name: 'billing-workers', role: 'writer', prefixes: ['billing:'] }] } },
    errors: [...AUTH, ...LEADER],
  },
  'DELETE /v1/auth/tokens/{id}': {
    operationId: 'revokeToken',
    description: 'Revokes a token (admin): once committed it fails on every node, and its open watches and waits end with 401.',
    request: { path: '/v1/auth/tokens/tok-31c8' },
    answer: { status: 200, body: { revoked: true } },
    errors: [...INPUT, ...AUTH, 'not_found', ...LEADER],
    errorDetails: { not_found: { id: 'tok-0000' } },
  },
  'GET /ui/events': {
    operationId: 'consoleEvents',
    description: 'The operator console\'s live feed (the console at /ui/ reads it): a text/event-stream of `cluster` events — this node\'s view as GET /v1/cluster, `peers` (each member\'s own term, role, leader, commit and applied index as its API answers, or why it did not), `history` (the leaders and terms this node has seen) and `nowMs` (this node\'s wall clock as it sent the event: history times are on it) — sent when something besides `nowMs` changed. Any valid token may read it.',
    request: { path: '/ui/events' },
    answer: {
      status: 200,
      body: 'event: cluster\ndata: {"clusterId":"c-5e1d","self":"n2","leader":"n1","term":3,"commitIndex":1187,"appliedIndex":1187,"members":[...],'
        + '"peers":[{"id":"n1","ok":true,"role":"leader","term":3,"leader":"n1","commitIndex":1187,"appliedIndex":1187}],"history":[{"atMs":1764921600000,"term":3,"leader":"n1"}],"nowMs":1764921754012}\n\n',
    },
    errors: [...AUTH, 'too_many_requests'],
  },
  'GET /v1/auth/whoami': {
    operationId: 'whoami',
    description: 'Who the bearer token is and what it may do: its role and prefixes (the root token is id "root", role admin).',
    request: { path: '/v1/auth/whoami' },
    answer: { status: 200, body: { id: 'tok-31c8', name: 'billing-workers', role: 'writer', prefixes: ['billing:'] } },
    errors: [...AUTH, 'no_leader'],
  },
};

/** The example answer for an error code on a route. */
export function errorExample(reference: RouteReference, code: ServerErrorCode): { error: Record<string, unknown> } {
  return { error: { ...reference.errorDetails?.[code], code, message: SERVER_ERRORS[code].message } };
}

type Operation = {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  description?: string;
  requestBody?: { content?: Record<string, { example?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown; example?: unknown; examples?: Record<string, unknown> }> }>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** A route's key in API_REFERENCE as the OpenAPI document names it ("GET /v1/locks/{name}"). */
export function referenceKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

type Responses = NonNullable<Operation['responses']>;

/**
 * Every error a route gives, under its own status (400, 401, ...), with the error schema and an
 * example per code. Swagger UI's "Try it out" marks an answer "Undocumented" unless its exact status
 * (or "default") is a key of the responses: it does not read the OpenAPI ranges ("4XX") that the
 * routes' serializer schemas ('4xx', '5xx') become, so those give way to the exact statuses here.
 */
function documentErrors(responses: Responses, reference: RouteReference): void {
  delete responses['4XX'];
  delete responses['5XX'];
  const byStatus = new Map<number, ServerErrorCode[]>();
  for (const code of [...reference.errors, 'internal' as const]) {
    const status = SERVER_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of byStatus) {
    const response = (responses[String(status)] ??= {});
    response.description = `${STATUS_CODES[status]}: ${codes.map((code) => `\`${code}\``).join(', ')}.`;
    const json = ((response.content ??= {})['application/json'] ??= {});
    json.schema ??= structuredClone(errorResponseSchema);
    json.examples = Object.fromEntries(codes.map((code) => [code, { summary: `${status} ${code}`, value: errorExample(reference, code) }]));
  }
}

/**
 * Writes the reference into the generated OpenAPI document (@fastify/swagger's
 * transformObject). A route without an entry is left as generated; the
 * reference test fails for it.
 */
export function documentApi<T extends { paths?: object; components?: object }>(document: T): T {
  // "Authorize" in the reference takes a bearer token; routes that need none say so.
  const components = ((document as { components?: Record<string, unknown> }).components ??= {});
  components.securitySchemes = { bearer: { type: 'http', scheme: 'bearer', description: 'An API token: the root token or one made with POST /v1/auth/tokens (auth is on when the nodes start with a root token).' } };
  for (const [path, operations] of Object.entries((document.paths ?? {}) as Record<string, Record<string, unknown> | undefined>)) {
    for (const [method, raw] of Object.entries(operations ?? {})) {
      if (!METHODS.includes(method)) continue;
      const reference = API_REFERENCE[referenceKey(method, path)];
      if (reference === undefined) continue;
      const operation = raw as Operation;
      operation.operationId = reference.operationId;
      operation.security = reference.errors.includes('unauthorized') ? [{ bearer: [] }] : [];
      const bodyLine = reference.request.body === undefined ? '' : ` with body \`${JSON.stringify(reference.request.body)}\``;
      operation.description = `${reference.description}\n\nExample: \`${method.toUpperCase()} ${reference.request.path}\`${bodyLine}.`;
      const requestJson = operation.requestBody?.content?.['application/json'];
      if (requestJson !== undefined && reference.request.body !== undefined) requestJson.example = reference.request.body;
      const responses = (operation.responses ??= {});
      const success = (responses[String(reference.answer.status)] ??= { description: 'Success' });
      const mediaType = typeof reference.answer.body === 'string' ? (path.endsWith('/metrics') ? 'text/plain' : 'text/event-stream') : 'application/json';
      success.content ??= {};
      (success.content[mediaType] ??= {}).example = reference.answer.body;
      documentErrors(responses, reference);
    }
  }
  return document;
}
