// Chaos finding F3 end to end, with real processes (the event loop is the point):
// a leader asked to hand leadership to a follower that cannot take it keeps the
// transfer pending for an election timeout and drops proposals meanwhile. Requests
// arriving then used to spin leaderOnly on microtasks forever: the process went
// silent (no ticks, no HTTP answers). It must keep answering.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/harness/local-cluster.js';
import { api, CLUSTER_START_MS, PORT_BLOCK, startCluster } from './real-cluster.js';
import { until } from './net.js';

// Each file its own half of 18000-18799, so the two never share a port.
const BASE_PORT = 18000 + (20 + (process.pid % 20)) * PORT_BLOCK;
/** Requests sent to the leader while the transfer is pending, one every REQUEST_GAP_MS. */
const REQUESTS = 15;
const REQUEST_GAP_MS = 20;
/** Far longer than any answer of a live leader; far shorter than "never". */
const ANSWER_BOUND_MS = 15_000;

let cluster: LocalCluster;
beforeAll(async () => {
  cluster = await startCluster(BASE_PORT);
}, CLUSTER_START_MS);
afterAll(async () => {
  await cluster?.destroy();
});

async function status(url: string, method: string, path: string, body?: unknown): Promise<number | 'timeout'> {
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    await res.text();
    return res.status;
  } catch {
    return 'timeout';
  }
}

describe('a leader with a leadership transfer pending (F3)', () => {
  it('answers requests that arrive during the transfer, and stays responsive', async () => {
    const leader = await cluster.leader();
    const target = cluster.nodes.find((n) => n !== leader)!;
    // A transferee that is down: the transfer stays pending until it is aborted.
    await cluster.kill(target.id);
    const transfer = status(leader.url, 'POST', '/v1/cluster/leadership', { to: target.id });
    const requests: Promise<number | 'timeout'>[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      requests.push(status(leader.url, 'POST', '/v1/sessions', {}));
      await new Promise((resolve) => setTimeout(resolve, REQUEST_GAP_MS));
    }
    const answers = await Promise.all(requests);
    expect(answers.filter((a) => a === 'timeout')).toEqual([]);
    expect(await transfer).not.toBe('timeout');
    expect(await status(leader.url, 'GET', '/v1/cluster')).toBe(200);
  }, 60_000);

  it('refuses at once, 400 naming to, a hand-over to a member it has not heard from within an election timeout', async () => {
    const leader = await cluster.leader();
    const down = cluster.nodes.find((n) => n !== leader && !n.process.running)!;
    // Once the leader's view says so (an election timeout after the kill above).
    await until(async () => {
      const view = await api(leader, 'GET', '/v1/cluster');
      return view.body.members.find((m: { id: string }) => m.id === down.id)?.reachable === false;
    }, 15_000, `${down.id} unreachable in the leader's view`);
    const startedMs = performance.now();
    const refused = await api(leader, 'POST', '/v1/cluster/leadership', { to: down.id });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_argument', field: 'to' });
    // Not after the transfer's bound (5 s), during which the leader would hold back every write.
    expect(performance.now() - startedMs).toBeLessThan(2_000);
    expect((await api(leader, 'POST', '/v1/sessions', {})).status).toBe(201);
  }, 30_000);
});
