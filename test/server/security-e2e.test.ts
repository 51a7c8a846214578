// Issue 11, "Done when": the contract's Security section end to end on a real
// 3-node cluster of `lockstep serve` processes (root token from a 0600 file),
// through the leader and through both followers: 401 without a token, tokens
// made through one follower working at once through the other, roles and
// prefixes, lists filtered, the CLI's token commands, and a revocation that
// ends a long-poll and a watch on other nodes and takes effect everywhere.
// All of it twice: with TLS off, and on (HTTPS API, mutual TLS peers,
// forwarding over HTTPS; the CLI given the CA).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliTestTimeout, runCli } from '../cli/run-cli.js';
import { SseReader, until } from './net.js';
import type { LocalCluster, LocalNode } from '../../src/harness/local-cluster.js';
import { api, CLUSTER_START_MS, PORT_BLOCK, startCluster } from './real-cluster.js';

// 18800-18979: apart from the other real-cluster files' blocks.
const BASE_PORT = 18800 + (process.pid % 9) * PORT_BLOCK;
const ROOT = 'e2e-root-token-0123456789abcdef';
const root = { authorization: `Bearer ${ROOT}` };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe.each([{ tls: false }, { tls: true }])('TLS $tls', ({ tls }) => {
  let cluster: LocalCluster;
  let leader: LocalNode;
  let followers: LocalNode[];
  /** A request through the cluster's own fetch (HTTPS trusting its CA with TLS on). */
  const call = (node: Pick<LocalNode, 'url'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => api(node, method, path, body, headers, undefined, cluster.fetch);
  /** The CLI, given the cluster CA with TLS on. */
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...(cluster.certs ? { LOCKSTEP_CA: cluster.certs.ca } : {}), ...env });
  beforeAll(async () => {
    // The two clusters of this file run one after the other, on the same ports.
    cluster = await startCluster(BASE_PORT, 3, { authToken: ROOT, tls });
    leader = await cluster.leader();
    followers = cluster.nodes.filter((n) => n !== leader);
  }, CLUSTER_START_MS);
  afterAll(async () => {
    await cluster?.destroy();
  });

  describe('the Security section on a real 3-node cluster', () => {
    it('every node answers 401 without a valid token, naming neither itself nor the leader; the probes stay open', async () => {
      for (const node of cluster.nodes) {
        // The TLS run really speaks HTTPS (the nodes' URLs come from the harness).
        expect(new URL(node.url).protocol).toBe(tls ? 'https:' : 'http:');
        for (const headers of [{}, bearer('lst_not-a-token')]) {
          const res = await call(node, 'POST', '/v1/locks/x/acquire', { ttlMs: 5_000 }, headers);
          expect(res.status).toBe(401);
          expect(res.body.error.code).toBe('unauthorized');
          expect(res.headers.get('x-lockstep-node')).toBeNull();
          expect(res.headers.get('x-lockstep-leader')).toBeNull();
        }
        expect((await call(node, 'GET', '/healthz')).status).toBe(200);
        expect((await call(node, 'GET', '/readyz')).status).toBe(200);
        expect((await call(node, 'GET', '/v1/cluster', undefined, root)).status).toBe(200);
      }
    });

    it('a token made through one follower works at once through the other and the leader, within its role and prefixes', async () => {
      const [a, b] = followers;
      const writer = await call(a, 'POST', '/v1/auth/tokens', { name: 'team-a', role: 'writer', prefixes: ['team-a:'] }, root);
      expect(writer.status).toBe(201);
      const reader = await call(b, 'POST', '/v1/auth/tokens', { name: 'watcher', role: 'reader', prefixes: ['team-a:'] }, root);
      expect(reader.status).toBe(201);
      // At once, on the node that did not forward the create (it may not have applied it yet: it asks the leader).
      const held = await call(b, 'POST', '/v1/locks/team-a:job/acquire', { ttlMs: 30_000 }, bearer(writer.body.secret));
      expect(held.status).toBe(200);
      expect(held.body.acquired).toBe(true);
      for (const node of cluster.nodes) {
        const who = await call(node, 'GET', '/v1/auth/whoami', undefined, bearer(writer.body.secret));
        expect(who.body).toEqual({ id: writer.body.id, name: 'team-a', role: 'writer', prefixes: ['team-a:'] });
        const other = await call(node, 'POST', '/v1/locks/team-b:job/acquire', { ttlMs: 5_000 }, bearer(writer.body.secret));
        expect(other.status).toBe(403);
        expect(other.body.error.names).toEqual(['team-b:job']);
        expect((await call(node, 'POST', '/v1/cluster/leadership', {}, bearer(writer.body.secret))).status).toBe(403);
        expect((await call(node, 'GET', '/v1/locks/team-a:job', undefined, bearer(reader.body.secret))).body.holders).toHaveLength(1);
        expect((await call(node, 'POST', '/v1/locks/team-a:job/release', { fencingToken: held.body.fencingToken }, bearer(reader.body.secret))).status).toBe(403);
        expect((await call(node, 'GET', '/v1/auth/tokens', undefined, bearer(reader.body.secret))).status).toBe(403);
      }
      // Lists show only what the token may see.
      await call(leader, 'POST', '/v1/locks/team-b:other/acquire', { ttlMs: 30_000 }, root);
      for (const node of cluster.nodes) {
        const listed = await call(node, 'GET', '/v1/locks', undefined, bearer(reader.body.secret));
        expect(listed.body.locks.map((l: { name: string }) => l.name)).toEqual(['team-a:job']);
      }
      const all = await call(a, 'GET', '/v1/locks', undefined, root);
      expect(all.body.locks.map((l: { name: string }) => l.name)).toEqual(['team-a:job', 'team-b:other']);
    });

    it('the CLI makes, lists and revokes tokens with --token, and a revoked token fails the CLI with exit 1', async () => {
      const endpoints = followers.map((n) => n.url).join(',');
      const created = await cli(['token', 'create', 'ci', '--role', 'writer', '--prefix', 'ci:', '--prefix', 'build:', '--endpoints', endpoints, '--token', ROOT]);
      expect(created.stderr).toBe('');
      expect(created.status).toBe(0);
      const id = /created token ([0-9a-f]{16})/.exec(created.stdout)![1];
      expect(created.stdout).toContain('(ci, writer, names ci:* build:*)');
      const secret = /secret: (lst_\S+)/.exec(created.stdout)![1];
      const listed = await cli(['token', 'list', '--endpoints', endpoints], { LOCKSTEP_TOKEN: ROOT });
      expect(listed.status).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`${id}\\s+ci\\s+writer\\s+ci: build:`));
      expect(listed.stdout).not.toContain(secret);
      expect((await cli(['token', 'list', '--endpoints', endpoints, '--token', secret])).status).toBe(1);
      const locked = await cli(['lock', 'build:1', '--endpoints', endpoints, '--token', secret, '--', 'sh', '-c', 'echo ok']);
      expect(locked.status).toBe(0);
      const refused = await cli(['lock', 'deploy:1', '--endpoints', endpoints, '--token', secret, '--', 'true']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/forbidden/);
      expect((await cli(['token', 'revoke', id, '--endpoints', endpoints, '--token', ROOT])).status).toBe(0);
      const after = await cli(['lock', 'build:1', '--endpoints', endpoints, '--token', secret, '--', 'true']);
      expect(after.status).toBe(1);
      expect(after.stderr).toMatch(/revoked|token/);
    }, cliTestTimeout(8));

    it('revocation ends a long-poll on one follower and a watch on the other with 401, then the token fails on every node', async () => {
      const [a, b] = followers;
      const writer = (await call(leader, 'POST', '/v1/auth/tokens', { name: 'doomed', role: 'writer' }, root)).body;
      await call(leader, 'POST', '/v1/locks/busy/acquire', { ttlMs: 60_000 }, root);
      const waiting = call(a, 'POST', '/v1/locks/busy/acquire', { ttlMs: 30_000, waitMs: 60_000 }, bearer(writer.secret));
      const watch = await cluster.fetch(`${b.url}/v1/locks/busy/watch`, { headers: bearer(writer.secret) });
      expect(watch.status).toBe(200);
      const sse = new SseReader(watch.body!.getReader());
      expect((await sse.next()).event).toBe('state');
      // The long-poll is queued on the leader before the revocation.
      await until(async () => (await call(leader, 'GET', '/v1/locks/busy', undefined, root)).body.waiters.length === 1, 10_000, 'the waiter in line');

      expect((await call(b, 'DELETE', `/v1/auth/tokens/${writer.id}`, undefined, root)).body).toEqual({ revoked: true });
      const answered = await waiting;
      expect(answered.status).toBe(401);
      expect(answered.body.error.code).toBe('unauthorized');
      let event = await sse.next();
      while (event.event !== 'error') event = await sse.next();
      expect(event.data.error.code).toBe('unauthorized');
      expect((await call(leader, 'GET', '/v1/locks/busy', undefined, root)).body.waiters).toEqual([]);

      for (const node of cluster.nodes) {
        // Writes and linearizable reads are judged at or after the revocation's index: refused at once.
        expect((await call(node, 'POST', '/v1/locks/any/acquire', { ttlMs: 5_000 }, bearer(writer.secret))).status).toBe(401);
        expect((await call(node, 'GET', '/v1/locks/any', undefined, bearer(writer.secret))).status).toBe(401);
        // A stale read follows the node's own applied state: refused once it has applied the revocation.
        await until(async () => (await call(node, 'GET', '/v1/locks/any?consistency=stale', undefined, bearer(writer.secret))).status === 401, 10_000, 'a stale read refused');
      }
    });
  });
});
