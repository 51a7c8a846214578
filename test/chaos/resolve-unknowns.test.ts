// Unknown outcomes are asked again with the same Idempotency-Key only while
// the server must still remember the key (http-api.md: at least 10 minutes);
// later a re-ask may run the command anew, so the op must stay unknown.
// (A 30-minute run, seed 20261122, recorded a fresh grant as the answer to a
// 25-minute-old acquire whose first attempt had applied.)
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpRecord } from '../../src/chaos/history.js';
import { Prng } from '../../src/chaos/prng.js';
import { ChaosClient, IDEMPOTENCY_REPLAY_WINDOW_MS } from '../../src/chaos/workload/client.js';

// Port 21820 is this file's.
const PORT = 21820;
let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function setup(): Promise<{ client: ChaosClient; history: OpRecord[]; asked: () => number; setNow: (ms: number) => void }> {
  let asked = 0;
  let answering = false;
  server = createServer((req, res) => {
    asked += 1;
    // Attempts during the op die without an answer (outcome unknown); once the
    // run is over (setNow) requests answer a grant. Not "the first request
    // fails": on a loaded machine the op's one 100 ms attempt may time out
    // before it is even written, and the re-ask would then be the first
    // request this server sees.
    if (!answering) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-lockstep-node': 'fake', 'x-lockstep-index': '99' });
    res.end(JSON.stringify({ acquired: true, name: 'a', fencingToken: 99, mode: 'exclusive', expiresInMs: 3000 }));
  });
  await new Promise<void>((r) => server!.listen(PORT, '127.0.0.1', () => r()));
  let now = 0;
  const history: OpRecord[] = [];
  const env = { apiUrls: () => [{ node: 'fake', url: `http://127.0.0.1:${PORT}` }], nowMs: () => now, record: (o: OpRecord) => history.push(o), running: () => true };
  const client = new ChaosClient('c', 't', env, new Prng(1));
  await client.run({
    op: 'acquire',
    lock: 'a',
    method: 'POST',
    path: '/v1/locks/a/acquire',
    body: { ttlMs: 3000 },
    deadlineMs: 0, // one attempt only
    attemptTimeoutMs: 500,
    interpret: (b) => ({ acquired: b.acquired, fencingToken: b.fencingToken }),
  });
  return {
    client,
    history,
    asked: () => asked,
    setNow: (ms) => {
      now = ms;
      answering = true;
    },
  };
}

describe('resolving unknown outcomes after the run', () => {
  it('asks again with the same key inside the idempotency window', async () => {
    const t = await setup();
    expect(t.history[0].result).toBe('unknown');
    t.setNow(60_000);
    expect(await t.client.resolveUnknowns(Number.MAX_SAFE_INTEGER)).toBe(1);
    expect(t.history[0]).toMatchObject({ result: 'ok', fencingToken: 99, resolvedLate: true });
  });

  it('leaves an op older than the window unknown, without asking', async () => {
    const t = await setup();
    const askedBefore = t.asked();
    t.setNow(IDEMPOTENCY_REPLAY_WINDOW_MS + 1);
    expect(await t.client.resolveUnknowns(Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(t.asked()).toBe(askedBefore);
    expect(t.history[0].result).toBe('unknown');
  });
});
