// The operator console's server side (http-api.md "Operator console"): GET /ui/
// serves the page and every file it loads from the node itself, without a
// token; GET /ui/events is its live feed: a token is needed, the first event
// is this node's cluster view with the members' own views and the leaders
// seen, and a revoked token ends the feed with 401.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from './harness.js';
import { SseReader } from './net.js';
import { CONSOLE_TICK_MS } from '../../src/server/console-stream.js';

const ROOT = 'root-secret-for-console';
const rootAuth = { authorization: `Bearer ${ROOT}` };
let h: Harness;
let url: string;
beforeEach(async () => {
  h = await makeHarness({ authToken: ROOT });
  await h.server.listen('127.0.0.1', 0);
  url = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await h.close();
});

/** Every module the page loads, followed through their imports. */
async function moduleGraph(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const res = await h.call('GET', path);
    expect(res.status, path).toBe(200);
    expect(String(res.headers['content-type']), path).toMatch(/javascript/);
    for (const [, spec] of String(res.body).matchAll(/^import .* from '([^']+)';$/gm)) queue.push(new URL(spec, `http://x${path}`).pathname);
  }
  return [...seen];
}

/**
 * Await a feed event while moving the harness's manual clock one console tick per turn of the
 * event loop: the feed ticks on the node's clock, which stands still unless the test moves it.
 */
async function ticking<T>(event: Promise<T>): Promise<T> {
  let done = false;
  const out = event.finally(() => {
    done = true;
  });
  out.catch(() => {}); // the caller gets the rejection from the return below
  while (!done) {
    await new Promise((r) => setTimeout(r, 5));
    if (!done) h.clock.advance(CONSOLE_TICK_MS);
  }
  return out;
}

describe('the operator console', () => {
  it('serves the page and every file it loads from the node, without a token and without other hosts', async () => {
    const page = await h.call('GET', '/ui/');
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toBe("default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'");
    const html = String(page.body);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect((await h.call('GET', '/ui/console.css')).status).toBe(200);
    const modules = await moduleGraph('/ui/js/app.js');
    expect(modules).toEqual(expect.arrayContaining(['/ui/js/app.js', '/ui/js/api.js', '/ui/js/views/cluster.js', '/ui/js/views/locks.js']));
    expect((await h.call('GET', '/ui')).headers.location).toBe('/ui/');
    // Nothing outside the console's folder is served, with a token or without.
    for (const path of ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) {
      for (const headers of [{}, rootAuth]) {
        const res = await h.call('GET', path, undefined, headers);
        expect([401, 404], path).toContain(res.status);
        expect(JSON.stringify(res.body), path).not.toContain('"dependencies"');
      }
    }
  });

  it('its live feed needs a token, starts with the cluster view and the leaders seen, and ends with 401 on revocation', async () => {
    expect((await fetch(`${url}/ui/events`)).status).toBe(401);
    const reader: { id: string; secret: string } = await fetch(`${url}/v1/auth/tokens`, { method: 'POST', headers: { ...rootAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'viewer', role: 'reader' }) }).then((r) => r.json() as Promise<{ id: string; secret: string }>);
    const response = await fetch(`${url}/ui/events`, { headers: { authorization: `Bearer ${reader.secret}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = new SseReader(response.body!.getReader());
    const first = await ticking(events.next());
    expect(first.event).toBe('cluster');
    expect(first.data).toEqual(expect.objectContaining({ self: 'n1', leader: 'n1', members: expect.any(Array), history: [expect.objectContaining({ leader: 'n1', term: expect.any(Number) })] }));
    expect(first.data.peers).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'n1', ok: true, role: 'leader' })]));
    // A change shows: the applied index moves with a write.
    await h.call('POST', '/v1/locks/seen/acquire', { ttlMs: 5_000 }, rootAuth);
    let next = await ticking(events.next());
    while (next.data.appliedIndex === first.data.appliedIndex) next = await ticking(events.next());
    expect(next.data.appliedIndex).toBeGreaterThan(first.data.appliedIndex);
    expect((await h.call('DELETE', `/v1/auth/tokens/${reader.id}`, undefined, rootAuth)).status).toBe(200);
    let last = await ticking(events.next());
    while (last.event === 'cluster') last = await ticking(events.next());
    expect(last).toEqual({ event: 'error', data: { error: expect.objectContaining({ code: 'unauthorized' }) } });
    await expect(ticking(events.next())).rejects.toThrow(/ended/);
  });

  // SIGTERM closes the server with a drain bound (serve.ts): an open console kept close() waiting
  // for its feed, an endless request, until the bound cut it; without a bound close() never ended.
  it('ends its live feeds when the node closes, so an open console does not hold the close up', async () => {
    const response = await fetch(`${url}/ui/events`, { headers: rootAuth });
    const events = new SseReader(response.body!.getReader());
    expect((await ticking(events.next())).event).toBe('cluster');
    await h.server.close();
    await expect(events.next()).rejects.toThrow(/ended/);
  }, 10_000);
});
