// A scripted stand-in for a lockstep node's HTTP API (node:http on 127.0.0.1),
// enough for CLI process tests until they run against a real cluster. Only
// the routes the CLI calls; each test steers it through `state`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeBackup } from '../../src/node/backup.js';

export interface FakeApiState {
  /** Answer keepalives with 404 session_not_found (the session "expired" on the server). */
  expireSessions: boolean;
  /** Lock name → held? */
  held: Set<string>;
  nextToken: number;
  requests: { method: string; path: string; body: unknown; idempotencyKey: string | undefined }[];
  /** How many locks and sessions GET /v1/locks and GET /v1/sessions list (made up, paged as the real server pages). */
  listed: { locks: number; sessions: number };
}

export interface FakeApi {
  url: string;
  state: FakeApiState;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-lockstep-node': 'n1', 'x-lockstep-leader': 'n1' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

export async function startFakeApi(): Promise<FakeApi> {
  const state: FakeApiState = { expireSessions: false, held: new Set(), nextToken: 100, requests: [], listed: { locks: 0, sessions: 0 } };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const [path, search] = (req.url ?? '/').split('?');
      const query = new URLSearchParams(search ?? '');
      const method = req.method ?? 'GET';
      state.requests.push({ method, path, body, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      let m: RegExpMatchArray | null;
      if (method === 'POST' && path === '/v1/sessions') {
        const b = (body ?? {}) as { ttlMs?: number; name?: string };
        return send(res, 201, { sessionId: `s${state.requests.length}`, ttlMs: b.ttlMs ?? 10000, lockDelayMs: 0, name: b.name ?? '' });
      }
      if ((m = path.match(/^\/v1\/sessions\/([^/]+)\/keepalive$/))) {
        if (state.expireSessions) return send(res, 404, { error: { code: 'session_not_found', message: 'session expired' } });
        return send(res, 200, { sessionId: m[1], ttlMs: 1000 });
      }
      if (method === 'DELETE' && (m = path.match(/^\/v1\/sessions\/([^/]+)$/))) return send(res, 200, { sessionId: m[1], released: [] });
      if ((m = path.match(/^\/v1\/locks\/([^/]+)\/acquire$/))) {
        const name = decodeURIComponent(m[1]);
        if (state.held.has(name)) return send(res, 200, { acquired: false, name, holders: [{ fencingToken: 1, mode: 'exclusive', owner: 'someone' }], queueLength: 0 });
        state.held.add(name);
        return send(res, 200, { acquired: true, name, fencingToken: state.nextToken++, mode: 'exclusive', sessionId: (body as { sessionId?: string }).sessionId });
      }
      if ((m = path.match(/^\/v1\/locks\/([^/]+)\/release$/))) {
        state.held.delete(decodeURIComponent(m[1]));
        return send(res, 200, { released: true });
      }
      if (method === 'POST' && path === '/v1/lock-sets/acquire') {
        // All or nothing, as the real server: any held name blocks the whole set.
        const b = body as { locks: Array<{ name: string; mode?: string }>; sessionId?: string };
        const blocked = b.locks.filter((l) => state.held.has(l.name));
        if (blocked.length > 0) {
          return send(res, 200, { acquired: false, blocked: blocked.map((l) => ({ name: l.name, holders: [{ fencingToken: 1, mode: 'exclusive', owner: 'someone' }], queueLength: 0 })) });
        }
        for (const l of b.locks) state.held.add(l.name);
        const holds = b.locks.map((l) => ({ name: l.name, fencingToken: state.nextToken++, mode: l.mode ?? 'exclusive' }));
        return send(res, 200, { acquired: true, holds, sessionId: b.sessionId });
      }
      if (method === 'POST' && path === '/v1/lock-sets/release') {
        const b = body as { holds: Array<{ name: string }> };
        for (const h of b.holds) state.held.delete(h.name);
        return send(res, 200, { released: b.holds.map((h) => h.name) });
      }
      if (method === 'GET' && (path === '/v1/locks' || path === '/v1/sessions')) {
        const kind = path === '/v1/locks' ? 'locks' : 'sessions';
        const page = listPage(state.listed[kind], Number(query.get('limit') ?? 100), query.get('after'));
        const items = page.ids.map((id) =>
          kind === 'locks' ? { name: id, mode: 'exclusive', holders: [{ fencingToken: 1, mode: 'exclusive' }], waiters: [] } : { sessionId: id, name: '', ttlMs: 10000, lockDelayMs: 0, remainingMs: 9000, holds: [], waits: [] },
        );
        return send(res, 200, { [kind]: items, ...(page.next === undefined ? {} : { next: page.next }) });
      }
      if ((m = path.match(/^\/v1\/locks\/([^/]+)\/watch$/))) {
        // The current state, then the event a node sends when the stream's token is revoked.
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-lockstep-node': 'n1', 'x-lockstep-leader': 'n1' });
        res.write(`event: state\ndata: ${JSON.stringify({ name: decodeURIComponent(m[1]), mode: null, limit: 1, holders: [], waiters: [], index: 57 })}\n\n`);
        return res.end(`event: error\ndata: ${JSON.stringify({ error: { code: 'unauthorized', message: 'the bearer token was revoked' } })}\n\n`);
      }
      if (path === '/v1/cluster/snapshot') {
        const bytes = encodeBackup({ clusterId: 'c-test', takenBy: 'n1', takenAtMs: Date.now(), index: 57, term: 4 }, new Uint8Array([1, 2, 3]));
        res.writeHead(200, { 'content-type': 'application/vnd.lockstep.snapshot', 'x-lockstep-node': 'n1', 'x-lockstep-leader': 'n1' });
        return res.end(bytes);
      }
      if (path === '/v1/cluster') {
        const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        return send(res, 200, {
          clusterId: 'c-test',
          self: 'n1',
          leader: 'n1',
          term: 4,
          commitIndex: 57,
          appliedIndex: 57,
          members: [
            { id: 'n1', apiUrl: self, peerUrl: '127.0.0.1:7101', role: 'leader', voter: true, matchIndex: 57, reachable: true },
            { id: 'n2', apiUrl: null, peerUrl: '127.0.0.1:7102', role: 'follower', voter: true, matchIndex: 50, reachable: false },
          ],
        });
      }
      return send(res, 404, { error: { code: 'not_found', message: `no route ${method} ${path}` } });
    })().catch((err: unknown) => send(res, 500, { error: { code: 'internal', message: String(err) } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** One page of `count` made-up ids (`fake:000001`, ...) after `after`, at most 1000, as the server pages. */
function listPage(count: number, limit: number, after: string | null): { ids: string[]; next?: string } {
  const id = (i: number): string => `fake:${String(i).padStart(6, '0')}`;
  const first = after === null ? 1 : Number(after.slice('fake:'.length)) + 1;
  const last = Math.min(count, first + Math.min(limit, 1000) - 1);
  const ids = Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => id(first + k));
  return last < count ? { ids, next: id(last) } : { ids };
}

/** A loopback port with nothing listening. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
