// `lockstep members add` of a node that is not running yet (or is slow to
// catch up): the leader adds it as a learner and waits up to its propose
// timeout (5 s) for it to catch up before making it a voter, then answers
// 503 unavailable. The CLI gave up after its own 3 s per request and said
// "no node answered in time; the cluster may be overloaded or partitioned",
// which sends an operator looking at a healthy cluster. It must wait for the
// node's answer and say what to do: start the new node, run the same command
// again. A scripted node (node:http) stands in for the leader.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** The leader's own wait for the learner to catch up (limits.proposeTimeoutMs). */
const SERVER_WAIT_MS = 5_000;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function slowLeader(): Promise<{ url: string; adds: number[] }> {
  const adds: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/cluster/members') {
        adds.push(Date.now());
        setTimeout(() => {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', 'x-lockstep-node': 'n1', 'x-lockstep-leader': 'n1' });
          res.end(JSON.stringify({ error: { code: 'unavailable', message: `the cluster change did not complete: catch-up of n6 did not happen within ${SERVER_WAIT_MS} ms` } }));
        }, SERVER_WAIT_MS);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, adds };
}

describe('lockstep members add: a new node that has not caught up', () => {
  it("waits for the leader's answer and says to start the node and run the command again", { timeout: 60_000 }, async () => {
    const leader = await slowLeader();
    const r = await runCli(['members', 'add', 'n6', '--api', '127.0.0.1:7006', '--peer', '127.0.0.1:7106', '--endpoints', leader.url]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/answered in time/);
    expect(r.stderr).toMatch(/n6 .*learner.*not caught up/);
    expect(r.stderr).toMatch(/lockstep serve --id n6/);
    expect(r.stderr).toMatch(/run this command again/);
    expect(r.stderr).toMatch(/lockstep members remove n6/);
    expect(leader.adds).toHaveLength(1);
  });
});
