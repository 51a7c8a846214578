// A 3-node cluster of real `lockstep serve` processes with --tls-*: the API
// answers over HTTPS only, a follower forwards to the leader over the
// mutually authenticated peer channel (over HTTPS verified against the cluster
// CA when that is not up), and the peer port talks to no one without
// a member's certificate. Ports 19401-19403 (API) and 19451-19453 (peer).
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { sourceCluster } from '../node/support/proc-cluster.js';
import { api } from './real-cluster.js';

const BASE_PORT = 19_400;
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await sourceCluster(3, BASE_PORT, { peerPortOffset: 50, tls: true });
}, 120_000);
afterAll(async () => cluster?.destroy());

describe('serve --tls-cert --tls-key --tls-ca', () => {
  it('serves the API over HTTPS; a follower forwards writes to the leader over the verified peer channel', async () => {
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n.id !== leader.id)!;
    expect(follower.url).toMatch(/^https:/);
    const created = await api(follower, 'POST', '/v1/sessions', { ttlMs: 30_000 }, {}, undefined, cluster.fetch);
    expect(created.status).toBe(201);
    const acquired = await api(follower, 'POST', '/v1/locks/tls-job/acquire', { sessionId: created.body.sessionId }, {}, undefined, cluster.fetch);
    expect(acquired.status).toBe(200);
    const view = await api(follower, 'GET', '/v1/cluster', undefined, {}, undefined, cluster.fetch);
    expect(view.body.members.map((m: { apiUrl: string }) => m.apiUrl).sort()).toEqual(cluster.endpoints.sort());
    // Handed to the leader as calls over the mutually authenticated peer connection, not as second HTTPS requests (issue 12).
    const metrics = await api(follower, 'GET', '/metrics', undefined, {}, undefined, cluster.fetch);
    expect(metrics.body).toMatch(/lockstep_http_forwarded_requests_total\{outcome="ok",channel="call"\} [1-9]/);
  });

  it('refuses a member whose API URL is plain http:// (400 naming apiUrl): it could never be forwarded to', async () => {
    const leader = await cluster.leader();
    const refused = await api(leader, 'POST', '/v1/cluster/members', { id: 'n9', apiUrl: 'http://127.0.0.1:19409', peerUrl: '127.0.0.1:19459' }, {}, undefined, cluster.fetch);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_argument', field: 'apiUrl' });
    expect(refused.body.error.message).toMatch(/not an https:\/\/ URL.*HTTPS only/);
    const view = await api(leader, 'GET', '/v1/cluster', undefined, {}, undefined, cluster.fetch);
    expect(view.body.members.map((m: { id: string }) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('answers nothing over plain HTTP, and a client that does not trust the CA refuses the node', async () => {
    const node = cluster.nodes[0];
    await expect(fetch(`http://127.0.0.1:${node.apiPort}/healthz`)).rejects.toThrow();
    // Node's fetch trusts only the system CAs: the cluster's own CA is not among them.
    await expect(fetch(`${node.url}/healthz`)).rejects.toThrow();
  });

  it('the peer port: a plaintext dialer and a TLS dialer without a certificate get no byte of Raft, nor the cluster id', async () => {
    const node = cluster.nodes[0];
    const plain = netConnect({ host: '127.0.0.1', port: node.peerPort });
    const received: Buffer[] = [];
    plain.on('data', (c: Buffer) => received.push(c));
    plain.on('error', () => {});
    plain.write('GET / HTTP/1.0\r\n\r\n');
    await new Promise((resolve) => plain.once('close', resolve));
    expect(Buffer.concat(received).includes('lockstep')).toBe(false);

    const bare = tlsConnect({ host: '127.0.0.1', port: node.peerPort, ca: readFileSync(cluster.certs!.ca), checkServerIdentity: () => undefined });
    const bareReceived: Buffer[] = [];
    bare.on('data', (c: Buffer) => bareReceived.push(c));
    bare.on('error', () => {});
    await new Promise((resolve) => bare.once('close', resolve));
    expect(bareReceived).toEqual([]);
  });
});
