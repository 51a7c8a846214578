// Correctness.md item 18, end to end: when heartbeats stop getting through,
// the SDK's signal fires BEFORE the real server expires the session. One
// manual clock drives both the client (lease guard, heartbeat timers) and the
// server (lease deadlines, stepped with services.leases.tick(); its timers); requests go
// over real HTTP on 127.0.0.1.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import type { Clock as NodeClock, TimerHandle } from '../../src/node/clock.js';
import { createLockServer, type LockServer } from '../../src/server/index.js';
import { MemoryNode } from '../server/memory-node.js';
import { connectionError, ManualClock } from './fakes.js';

const PORT_FIRST = 19_200;
const PORTS = 100;
const TTL_MS = 2000;
const STEP_MS = 25;

let server: LockServer;
let url: string;
const clock = new ManualClock();
/** The server's view of the same manual clock: time and every timer. */
const serverClock: NodeClock = {
  monotonicMs: () => clock.nowMs(),
  wallMs: () => 1_700_000_000_000 + clock.nowMs(),
  setTimer: (fn, ms) => clock.setTimer(fn, ms),
  setRepeating: (fn, ms) => {
    let next: TimerHandle;
    const arm = (): void => {
      next = clock.setTimer(() => {
        arm();
        fn();
      }, ms);
    };
    arm();
    return { cancel: () => next.cancel() };
  },
};

beforeAll(async () => {
  const node = new MemoryNode();
  server = await createLockServer({
    node,
    dispatcher: node.dispatcher,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    clock: serverClock,
    leaseTimer: false,
  });
  for (let i = 0; ; i++) {
    const port = PORT_FIRST + ((Math.floor(Math.random() * PORTS) + i) % PORTS);
    try {
      await server.listen('127.0.0.1', port);
      url = `http://127.0.0.1:${port}`;
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i >= PORTS) throw err;
    }
  }
});
afterAll(async () => {
  await server.close();
});

/** Advance the shared clock one step, let real I/O finish, run the server's lease round. */
async function step(): Promise<void> {
  await clock.advance(STEP_MS);
  await new Promise((r) => setTimeout(r, 5));
  await server.services.leases.tick();
  await new Promise((r) => setTimeout(r, 5));
}

describe('lease signal vs the real server', () => {
  it('fires before the server expires the session once heartbeats stop getting through', async () => {
    // Partition the client away (every request of it fails) while the observer still sees the server.
    // (Only keepalives would not do: the SDK deletes a session whose lease may have lapsed.)
    let partitioned = false;
    const fetchThrough: typeof fetch = async (input, init) => {
      if (partitioned) throw connectionError('ECONNREFUSED');
      return fetch(input, init);
    };
    const client = new Client({ endpoints: [url], fetch: fetchThrough, clock });
    const observer = new Client({ endpoints: [url] });
    const session = await client.session({ ttlMs: TTL_MS });
    const held = await client.acquire('e2e:lock', { sessionId: session.id });
    expect(held.acquired).toBe(true);

    // A while with working heartbeats: nothing ends.
    for (let t = 0; t < 3 * TTL_MS; t += STEP_MS) await step();
    expect(session.signal.aborted).toBe(false);
    expect((await observer.getSession(session.id)).sessionId).toBe(session.id);

    // Heartbeats stop getting through.
    partitioned = true;
    let signalAtMs: number | null = null;
    let serverExpiredAtMs: number | null = null;
    session.signal.addEventListener('abort', () => (signalAtMs = clock.nowMs()));
    for (let t = 0; t < 4 * TTL_MS && serverExpiredAtMs === null; t += STEP_MS) {
      await step();
      const gone = await observer.getSession(session.id).then(
        () => false,
        (e: { code?: string }) => e.code === 'session_not_found',
      );
      if (gone) serverExpiredAtMs = clock.nowMs();
    }
    expect(signalAtMs).not.toBeNull();
    expect(serverExpiredAtMs).not.toBeNull();
    expect(signalAtMs!).toBeLessThan(serverExpiredAtMs!);
    // The server ended it no earlier than a full TTL after the last heartbeat it acknowledged (the client's lease start).
    expect(serverExpiredAtMs! - (signalAtMs! + session.safetyMarginMs - TTL_MS)).toBeGreaterThanOrEqual(TTL_MS);
    expect((await observer.getLock('e2e:lock')).holders).toHaveLength(0);
  });
});
