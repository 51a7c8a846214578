// cli.md, `serve`: "SIGTERM/SIGINT: stop accepting, finish in-flight
// requests, hand leadership over if leader, flush, exit 0." A request the
// node has begun to read when SIGTERM arrives is answered, not cut off (the
// HTTP server used to destroy every connection at close), and the kept-alive
// connection it came on does not keep the node from exiting. Real processes:
// the signal and the sockets are the point.
import { request as httpRequest, Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { procCluster, CLUSTER_START_MS } from '../node/support/proc-cluster.js';

const clusters: LocalCluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.destroy()));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('serve: SIGTERM finishes in-flight requests', () => {
  it('answers a request whose body was still arriving when SIGTERM came, then exits 0', { timeout: CLUSTER_START_MS + 60_000 }, async () => {
    const cluster = procCluster(1, 19460, { logLevel: 'warn' });
    clusters.push(cluster);
    cluster.startAll();
    const leader = await cluster.leader();
    const { port } = new URL(leader.url);

    // A kept-alive connection that has served one request already.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body: string, hold?: Promise<void>): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          res.on('error', reject);
        });
        req.on('error', reject);
        if (hold === undefined) {
          req.end(body);
          return;
        }
        // Headers and half the body now: the request is in flight. The rest once `hold` resolves.
        req.write(body.slice(0, 5));
        void hold.then(() => req.end(body.slice(5)));
      });

    const first = await send('/v1/locks/warm/acquire', JSON.stringify({ ttlMs: 60_000 }));
    expect(first.status).toBe(200);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inFlight = send('/v1/locks/in-flight/acquire', JSON.stringify({ ttlMs: 60_000 }), held);
    await sleep(300); // the node has the request's headers
    const exited = cluster.kill(leader.id, 'SIGTERM');
    await sleep(300); // the node is shutting down
    release();
    const answer = await inFlight;
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ acquired: true, name: 'in-flight' });

    const exit = await exited;
    expect(exit.code, cluster.tail()).toBe(0);
    agent.destroy();
  });
});
