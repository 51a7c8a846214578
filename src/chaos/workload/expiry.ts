// Workload 3: holds left to expire. A TTL hold is taken and never released;
// a session hold's session is kept alive a little, then abandoned. A
// watcher keeps trying the same locks (waitMs 0), which shows when each
// hold ended: the early-expiry check compares that with the TTL.
import type { ChaosClient } from './client.js';
import { acquireSpec, releaseSpec } from './locks.js';
import { keepaliveSpec, openSession, type OpTiming } from './sessions.js';

export interface ExpiryWorkloadOptions extends OpTiming {
  locks: string[];
  ttlMs: number;
  sessionTtlMs: number;
  keepalives: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function abandonerLoop(client: ChaosClient, o: ExpiryWorkloadOptions, running: () => boolean, rand: () => number): Promise<void> {
  while (running()) {
    const lock = o.locks[Math.floor(rand() * o.locks.length)];
    if (rand() < 0.5) {
      await client.run(acquireSpec(lock, { ttlMs: o.ttlMs, waitMs: 0, owner: client.name }, o, { ttlMs: o.ttlMs }));
    } else {
      const sessionId = await openSession(client, o.sessionTtlMs, o);
      if (sessionId) {
        await client.run(acquireSpec(lock, { sessionId, waitMs: 0, owner: client.name }, o, { sessionId }));
        for (let i = 0; i < o.keepalives && running(); i++) {
          await sleep(o.sessionTtlMs / 3);
          await client.run(keepaliveSpec(sessionId, o));
        }
      }
    }
    await sleep(200 + rand() * 500);
  }
}

export async function prober(client: ChaosClient, o: ExpiryWorkloadOptions, running: () => boolean, rand: () => number): Promise<void> {
  while (running()) {
    // A probe that is granted takes a short TTL hold and releases it at once.
    const lock = o.locks[Math.floor(rand() * o.locks.length)];
    const { record } = await client.run(acquireSpec(lock, { ttlMs: 1000, waitMs: 0, owner: client.name }, o, { ttlMs: 1000 }));
    if (record.result === 'ok' && record.acquired && record.fencingToken !== undefined) {
      await client.run(releaseSpec(lock, record.fencingToken, o));
    }
    await sleep(100 + rand() * 200);
  }
}
