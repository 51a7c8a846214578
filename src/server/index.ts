// createLockServer(): the HTTP API of one node, wired to its Raft node and
// lock machine. `lockstep serve` calls this, then listen().

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReplicatedNode } from '../node/api.js';
import { buildApp } from './app.js';
import type { ServerClock, ServerContext } from './context.js';
import { createHttpMetrics } from './http-metrics.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import type { LockMachineView } from './machine-view.js';

export type { ServerClock } from './context.js';
export type { ServerLimits } from './limits.js';
export { defaultServerLimits } from './limits.js';

export interface LockServerOptions {
  node: ReplicatedNode;
  machine: LockMachineView;
  registry: Registry;
  logger: FastifyBaseLogger;
  clock?: ServerClock;
  limits?: Partial<ServerLimits>;
}

export interface LockServer {
  app: FastifyInstance;
  listen(host: string, port: number): Promise<void>;
  close(): Promise<void>;
}

export const systemClock: ServerClock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};

export async function createLockServer(options: LockServerOptions): Promise<LockServer> {
  const limits = resolveLimits(options.limits);
  const ctx: ServerContext = {
    node: options.node,
    machine: options.machine,
    registry: options.registry,
    logger: options.logger,
    clock: options.clock ?? systemClock,
    limits,
    metrics: createHttpMetrics(options.registry, options.machine),
  };
  const app = await buildApp(ctx);
  return {
    app,
    async listen(host, port) {
      await app.listen({ host, port });
    },
    async close() {
      await app.close();
    },
  };
}
