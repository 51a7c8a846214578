// A tiny in-process lock server speaking the few routes the lock workload
// uses, with switchable bugs, so that tests can show the whole pipeline
// (workload → history → checker) finds the bugs a real server might have.
import http from 'node:http';

export type Bug = 'none' | 'double-grant' | 'lost-release' | 'early-expiry';

export async function startFakeLockServer(port: number, bug: Bug): Promise<() => Promise<void>> {
  let index = 0;
  /** Acquires that found the lock held. */
  let acquires = 0;
  const holds = new Map<string, { token: number; expiresAtMs: number }>();
  /**
   * First answers by Idempotency-Key, replayed to a retry (http-api.md
   * "Conventions"). Without them a client's retry after a lost answer is
   * executed again, and the correct server looks wrong: the retry finds the
   * lock held by the grant whose answer was lost (seen under load).
   */
  const answered = new Map<string, { status: number; payload: unknown }>();
  const current = (name: string) => {
    const h = holds.get(name);
    if (h && h.expiresAtMs <= performance.now()) holds.delete(name);
    return holds.get(name) ?? null;
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const m = /^\/v1\/locks\/([^/]+)(?:\/(acquire|release))?$/.exec(req.url ?? '');
      const key = req.headers['idempotency-key'];
      const send = (status: number, payload: unknown) => {
        if (typeof key === 'string') answered.set(key, { status, payload });
        res.writeHead(status, { 'content-type': 'application/json', 'x-lockstep-node': 'fake', 'x-lockstep-index': String(index) });
        res.end(JSON.stringify(payload));
      };
      const first = typeof key === 'string' ? answered.get(key) : undefined;
      if (first) return send(first.status, first.payload);
      if (!m) return send(404, { error: { code: 'not_found' } });
      const name = decodeURIComponent(m[1]);
      const input = body ? (JSON.parse(body) as { ttlMs?: number; fencingToken?: number }) : {};
      const h = current(name);
      if (m[2] === 'acquire') {
        if (h) acquires += 1;
        if (h && !(bug === 'double-grant' && acquires % 3 === 0)) return send(200, { acquired: false, name, holders: [{ fencingToken: h.token }], queueLength: 0 });
        const ttlMs = input.ttlMs ?? 10_000;
        const token = ++index;
        holds.set(name, { token, expiresAtMs: performance.now() + (bug === 'early-expiry' ? ttlMs / 200 : ttlMs) });
        return send(200, { acquired: true, name, fencingToken: token, mode: 'exclusive', expiresInMs: ttlMs });
      }
      if (m[2] === 'release') {
        if (!h || h.token !== input.fencingToken) return send(409, { error: { code: 'not_holder', message: 'no' } });
        index += 1;
        if (!(bug === 'lost-release' && index % 5 === 0)) holds.delete(name);
        return send(200, { released: true });
      }
      return send(200, { name, mode: h ? 'exclusive' : null, limit: 1, holders: h ? [{ fencingToken: h.token, mode: 'exclusive' }] : [], waiters: [] });
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
}
