// Builds a lock server over a MemoryNode with a manual clock, for app.inject() tests.

import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/node/clock.js';
import { createLockServer, type LockServer, type ServerLimits } from '../../src/server/index.js';
import { MemoryNode } from './memory-node.js';
import type { PeerForwarding } from '../../src/transport/api.js';

export interface Harness {
  server: LockServer;
  node: MemoryNode;
  clock: ManualClock;
  registry: Registry;
  /** POST/GET/... JSON through app.inject(). */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, string | string[] | number | undefined> }>;
  /**
   * call(), moving the manual clock `stepMs` per turn of the event loop until it is answered: for
   * requests that wait on the server's timers (leader discovery, a forward's bound). No lease round runs.
   */
  callAdvancing(method: string, url: string, body?: unknown, headers?: Record<string, string>, stepMs?: number): ReturnType<Harness['call']>;
  /** Advance the manual clock, then run one lease round (what the timer would do). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function makeHarness(
  options: { node?: MemoryNode; limits?: Partial<ServerLimits>; authToken?: string; logger?: FastifyBaseLogger; peers?: PeerForwarding; loopbackOnly?: boolean } = {},
): Promise<Harness> {
  const node = options.node ?? new MemoryNode();
  const clock = new ManualClock(1_000);
  const registry = new Registry();
  const server = await createLockServer({
    node,
    dispatcher: node.dispatcher,
    registry,
    logger: options.logger ?? pino({ level: 'silent' }),
    clock,
    limits: options.limits,
    leaseTimer: false,
    authToken: options.authToken ?? null,
    peers: options.peers ?? null,
    loopbackOnly: options.loopbackOnly,
  });
  await server.app.ready();
  // Let the initial lease reset (after a read barrier) run.
  await flush();
  const harness: Harness = {
    server,
    node,
    clock,
    registry,
    async callAdvancing(method, url, body, headers, stepMs = 25) {
      let done = false;
      const answered = harness.call(method, url, body, headers).finally(() => (done = true));
      while (!done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!done) clock.advance(stepMs);
      }
      return answered;
    },
    async call(method, url, body, headers = {}) {
      const response = await server.app.inject({
        method: method as 'GET',
        url,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      let parsed: unknown = response.body;
      try {
        parsed = JSON.parse(response.body);
      } catch {
        // not JSON (metrics, SSE)
      }
      return { status: response.statusCode, body: parsed, headers: response.headers };
    },
    async advance(ms) {
      clock.advance(ms);
      await server.services.leases.tick();
      await flush();
    },
    async close() {
      await server.close();
    },
  };
  return harness;
}

/** Lets pending promise continuations run (no timers involved). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
