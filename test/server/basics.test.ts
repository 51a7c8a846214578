import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

describe('health, cluster, metrics, docs', () => {
  it('healthz and readyz answer 200 on a leader that applied everything', async () => {
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.leader).toBe('n1');
  });

  it('readyz is 503 no_leader with Retry-After when no leader is known', async () => {
    h.node.setRole('follower', null);
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('no_leader');
    expect(ready.headers['retry-after']).toBeDefined();
  });

  it('readyz is 503 on a follower that has not heard from its leader within an election timeout, and on a leader without a quorum', async () => {
    h.node.setRole('follower', 'n2' as never);
    expect((await h.call('GET', '/readyz')).status).toBe(200);
    h.node.leaderHeard = false;
    const cutOff = await h.call('GET', '/readyz');
    expect(cutOff.status).toBe(503);
    expect(cutOff.body.error).toMatchObject({ code: 'no_leader', message: expect.stringMatching(/not heard from its leader n2/) });
    h.node.setRole('leader', 'n1' as never);
    h.node.confirmed = false;
    expect((await h.call('GET', '/readyz')).body.error.message).toMatch(/not heard from a quorum/);
  });

  it('a node removed from the cluster says so at once: readyz, and requests that need a leader (503 no_leader, not after the leader wait)', async () => {
    h.node.setRole('follower', null);
    h.node.removed = true;
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ code: 'no_leader', message: expect.stringMatching(/removed from the cluster/) });
    // This message comes only from the immediate answer: after the leader wait it is 'no leader could be reached in time'.
    const acquire = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 10_000, owner: 'w' });
    expect(acquire.status).toBe(503);
    expect(acquire.body.error).toMatchObject({ code: 'no_leader', message: 'this node was removed from the cluster: send requests to another member' });
    expect(acquire.headers['retry-after']).toBeDefined();
  });

  it('GET /v1/cluster describes members and roles', async () => {
    const res = await h.call('GET', '/v1/cluster');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ clusterId: 'memory', self: 'n1', leader: 'n1', term: 1 });
    expect(res.body.members[0]).toMatchObject({ id: 'n1', role: 'leader', voter: true, reachable: true });
    expect(res.headers['x-lockstep-node']).toBe('n1');
    expect(res.headers['x-lockstep-leader']).toBe('n1');
    expect(res.headers['x-lockstep-index']).toBe('0');
  });

  it('membership changes: add, remove, 404 for an unknown member, 400 for a duplicate', async () => {
    const add = await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: 'http://127.0.0.1:7102' });
    expect(add.status).toBe(200);
    expect(add.body.members.map((m: { id: string }) => m.id)).toEqual(['n1', 'n2']);
    expect((await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://x:1', peerUrl: 'http://x:2' })).body.error.code).toBe('invalid_argument');
    expect((await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: 'http://127.0.0.1:7102', voter: false })).body.error.code).toBe('invalid_argument');
    const missing = await h.call('DELETE', '/v1/cluster/members/n9');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect((await h.call('DELETE', '/v1/cluster/members/n2')).status).toBe(200);
    expect(h.node.members.map((m) => m.id)).toEqual(['n1']);
  });

  it('a plain-HTTP cluster refuses a member whose API URL is https:// (400 naming apiUrl), as a TLS one refuses http://', async () => {
    const refused = await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'https://127.0.0.1:7002', peerUrl: '127.0.0.1:7102' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_argument', field: 'apiUrl' });
    expect(refused.body.error.message).toBe('body.apiUrl https://127.0.0.1:7002 is not an http:// URL: this cluster serves its API over plain HTTP (no TLS), so the member\'s is too');
    expect(h.node.members.map((m) => m.id)).toEqual(['n1']);
  });

  it('secure by default: a plain node not --insecure adds members at loopback addresses only (400 naming the field); TLS or --insecure lifts it', async () => {
    const plain = await makeHarness({ loopbackOnly: true });
    try {
      for (const [body, field] of [
        [{ id: 'n2', apiUrl: 'http://10.0.0.9:7002', peerUrl: '127.0.0.1:7102' }, 'apiUrl'],
        [{ id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: 'n2.internal:7102' }, 'peerUrl'],
      ] as const) {
        const refused = await plain.call('POST', '/v1/cluster/members', body);
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'invalid_argument', field });
        expect(refused.body.error.message).toMatch(/is not a loopback address.*without TLS/);
      }
      expect(plain.node.members.map((m) => m.id)).toEqual(['n1']);
      expect((await plain.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://[::1]:7002', peerUrl: 'localhost:7102' })).status).toBe(200);
    } finally {
      await plain.close();
    }
    // The default harness is TLS-or-insecure alike: members may be anywhere.
    expect((await h.call('POST', '/v1/cluster/members', { id: 'n3', apiUrl: 'http://10.0.0.9:7003', peerUrl: '10.0.0.9:7103' })).status).toBe(200);
  });

  it('the same add again (its answer lost) answers as the first, and finishes it: a learner asked again to vote is promoted', async () => {
    const member = { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: '127.0.0.1:7102' };
    expect((await h.call('POST', '/v1/cluster/members', { ...member, voter: false })).status).toBe(200);
    expect(h.node.members.find((m) => m.id === 'n2')?.voter).toBe(false);
    // The retry, with the peer address written another way (as serve --peer takes it, or with a scheme).
    const again = await h.call('POST', '/v1/cluster/members', { ...member, peerUrl: 'tcp://127.0.0.1:7102' });
    expect(again.status).toBe(200);
    expect(again.body.members.filter((m: { id: string }) => m.id === 'n2')).toEqual([expect.objectContaining({ id: 'n2', voter: true })]);
    const third = await h.call('POST', '/v1/cluster/members', member);
    expect(third.status).toBe(200);
    expect(third.body).toEqual(again.body);
    expect(h.node.members.map((m) => m.id)).toEqual(['n1', 'n2']);
  });

  it('a member\'s peer address is host:port as `serve --peer` takes it; garbage is 400 and adds nothing', async () => {
    const add = await h.call('POST', '/v1/cluster/members', { id: 'n3', apiUrl: 'http://127.0.0.1:7003', peerUrl: '127.0.0.1:7103' });
    expect(add.status).toBe(200);
    expect(add.body.members.map((m: { id: string }) => m.id)).toEqual(['n1', 'n3']);
    const bad = await h.call('POST', '/v1/cluster/members', { id: 'n4', apiUrl: 'http://127.0.0.1:7004', peerUrl: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_argument');
    expect(h.node.members.map((m) => m.id)).toEqual(['n1', 'n3']);
  });

  it('leadership transfer to an unknown member is 404; to a member answers the new leader', async () => {
    expect((await h.call('POST', '/v1/cluster/leadership', { to: 'nope' })).status).toBe(404);
    await h.call('POST', '/v1/cluster/members', { id: 'n2', apiUrl: 'http://127.0.0.1:7002', peerUrl: 'http://127.0.0.1:7102' });
    const res = await h.call('POST', '/v1/cluster/leadership', { to: 'n2' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ leader: 'n2', previous: 'n1' });
  });

  it('metrics expose HTTP latency by route and status, and the state gauges', async () => {
    await h.call('POST', '/v1/sessions', {});
    await h.call('GET', '/healthz');
    const res = await h.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/lockstep_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} 1/);
    expect(res.body).toMatch(/lockstep_sessions 1/);
  });

  it('serves an OpenAPI document that documents the limits', async () => {
    const res = await h.call('GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/locks/{name}/acquire', '/v1/sessions', '/v1/elections/{name}/observe', '/v1/cluster']));
    expect(JSON.stringify(res.body)).toContain('65536 bytes');
  });
});

describe('errors from the one table', () => {
  it('unknown routes are 404 not_found', async () => {
    const res = await h.call('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect(res.headers['x-lockstep-node']).toBe('n1');
  });

  it('a body over 64 KiB is 413 payload_too_large even when its fields are also bad', async () => {
    const big = JSON.stringify({ ttlMs: 'bad', name: 'x'.repeat(65 * 1024) });
    const res = await h.call('POST', '/v1/sessions', big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(h.node.proposals).toHaveLength(0);
  });

  it('bad JSON is 400 invalid_argument', async () => {
    const res = await h.call('POST', '/v1/sessions', '{"ttlMs": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
    expect(h.node.proposals).toHaveLength(0);
  });

  it('a validation error names the field and changes nothing', async () => {
    for (const [body, field] of [
      [{ ttlMs: 999 }, 'ttlMs'],
      [{ ttlMs: 300_001 }, 'ttlMs'],
      [{ ttlMs: '5000' }, 'ttlMs'],
      [{ name: 'x'.repeat(129) }, 'name'],
      [{ lockDelayMs: 60_001 }, 'lockDelayMs'],
      [{ lockDelayMs: -1 }, 'lockDelayMs'],
    ] as const) {
      const res = await h.call('POST', '/v1/sessions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_argument');
      expect(res.body.error.message).toContain(field);
      expect(res.body.error.field).toBe(field);
    }
    expect(h.node.proposals).toHaveLength(0);
  });

  it('a bad Idempotency-Key is 400 naming the header', async () => {
    const res = await h.call('POST', '/v1/sessions', {}, { 'idempotency-key': 'x'.repeat(129) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('Idempotency-Key');
    expect(h.node.proposals).toHaveLength(0);
  });

  it('an Idempotency-Key sent twice is 400, not the two joined into a third key', async () => {
    // Over a real socket: light-my-request folds a repeated header into one line, Node's parser does not.
    await h.server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.server.app.server.address() as AddressInfo;
    const post = (key: string | string[]) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/sessions', headers: { 'content-type': 'application/json', 'idempotency-key': key } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end('{}');
      });
    const twice = await post(['first', 'second']);
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({ code: 'invalid_argument', field: 'Idempotency-Key', message: expect.stringContaining('once') });
    expect(h.node.proposals).toHaveLength(0);
    // One key with a comma in it is still a key.
    expect((await post('first, second')).status).toBe(201);
  });

  it('a bad lock name in the path is 400', async () => {
    for (const name of ['-starts-with-dash', 'a'.repeat(257), 'has%20space', 'sl%2Fash']) {
      const res = await h.call('POST', `/v1/locks/${name}/acquire`, { ttlMs: 5000 });
      expect(res.status, name).toBe(400);
      expect(res.body.error.code).toBe('invalid_argument');
    }
    expect((await h.call('POST', `/v1/locks/${'a'.repeat(256)}/acquire`, { ttlMs: 5000 })).status).toBe(200);
  });
});

describe('router limits', () => {
  it('a path parameter over the router limit is still an error from the table', async () => {
    const res = await h.call('GET', `/v1/locks/${'a'.repeat(2000)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
  });
});
