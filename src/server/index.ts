// createLockServer(): the HTTP API of one node, wired to its Raft node and
// lock machine (through the dispatcher the node applies entries with).
// `lockstep serve` calls this, then listen().

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReplicatedNode } from '../node/api.js';
import { encodeProposal } from '../locks/codec.js';
import { LeaseTable } from '../locks/leases.js';
import { buildApp } from './app.js';
import { LeaseDriver } from './lease-driver.js';
import { LockService } from './lock-service.js';
import { electionRoutes } from './routes/elections.js';
import { fencingRoutes } from './routes/fencing.js';
import { lockSetRoutes } from './routes/lock-sets.js';
import { lockRoutes } from './routes/locks.js';
import { sessionRoutes } from './routes/sessions.js';
import { authRoutes } from './routes/auth.js';
import type { Services } from './services.js';
import { WatchHub } from './sse.js';
import type { ServerContext } from './context.js';
import { systemClock, type Clock } from '../node/clock.js';
import { createHttpMetrics } from './http-metrics.js';
import { Authenticator } from './auth.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import type { EventDispatcher } from './dispatcher.js';
import type { NodeTls } from '../tls/node-tls.js';
import { httpUpstream, httpsUpstream } from './upstream.js';
import type { PeerForwarding } from '../transport/api.js';
import { unavailableError } from './forward.js';
import { answerForwards } from './peer-answers.js';

export type { ServerLimits } from './limits.js';
export { defaultServerLimits } from './limits.js';

export interface LockServerOptions {
  node: ReplicatedNode;
  /** The node's state machine: the server reads its LockMachine and takes its applied events. */
  dispatcher: EventDispatcher;
  registry: Registry;
  logger: FastifyBaseLogger;
  /** The node's clock (default: the system clock); its timers drive leases, SSE heartbeats and the console. */
  clock?: Clock;
  limits?: Partial<ServerLimits>;
  /** Run the lease timer (default true). Tests turn it off and step `services.leases.tick()` with a manual clock. */
  leaseTimer?: boolean;
  /**
   * The root token (role admin, http-api.md "Tokens and roles"). When set,
   * auth is on: every request but the health probes must carry a token.
   */
  authToken?: string | null;
  /** TLS on: the API is HTTPS only, and forwarding to the leader verifies it against the cluster CA. */
  tls?: NodeTls | null;
  /**
   * Plain, and not `--insecure` (secure by default): members are on loopback
   * addresses only, so an add of a member elsewhere is refused (default false).
   */
  loopbackOnly?: boolean;
  /**
   * The peer channel (the node's TcpTransport): forwards to the leader go over
   * it, and this server answers those that members relay to it. Without it
   * forwarding is HTTP only.
   */
  peers?: PeerForwarding | null;
}

export interface LockServer {
  app: FastifyInstance;
  services: Services;
  listen(host: string, port: number): Promise<void>;
  /**
   * Stop accepting and finish the requests in flight; long polls and streams answer or end now.
   * Connections past `drainMs` are cut (default: none are, close waits for every request).
   */
  close(drainMs?: number): Promise<void>;
}


export async function createLockServer(options: LockServerOptions): Promise<LockServer> {
  const limits = resolveLimits(options.limits);
  const ctx: ServerContext = {
    node: options.node,
    machine: options.dispatcher.machine,
    registry: options.registry,
    logger: options.logger,
    clock: options.clock ?? systemClock,
    limits,
    metrics: createHttpMetrics(options.registry, options.dispatcher.machine),
    auth: new Authenticator(options.authToken ?? null, options.dispatcher.machine),
    upstream: options.tls ? httpsUpstream(options.tls) : httpUpstream(),
    peers: options.peers ?? null,
    loopbackOnly: options.loopbackOnly ?? false,
    apiTls: Boolean(options.tls),
  };
  const locks = new LockService(ctx, encodeProposal);
  const leases = new LeaseDriver(ctx, new LeaseTable(), (proposal) => locks.propose(proposal));
  const watches = new WatchHub(ctx);
  const services: Services = { locks, leases, watches };
  const disconnect = options.dispatcher.connect({ leases, waits: locks.waits, watches }, ctx.logger, ctx.registry);
  leases.start({ timer: options.leaseTimer ?? true });
  const tls = options.tls ?? null;
  const app = await buildApp(ctx, {
    async register(instance) {
      await instance.register(sessionRoutes, { ctx, services });
      await instance.register(lockRoutes, { ctx, services });
      await instance.register(lockSetRoutes, { ctx, services });
      await instance.register(electionRoutes, { ctx, services });
      await instance.register(fencingRoutes, { ctx });
      await instance.register(authRoutes, { ctx, services });
    },
  }, tls ? { https: tls.apiServerOptions() } : {});
  if (ctx.peers) answerForwards(app, ctx, services, ctx.peers);
  // Closing: a request that reaches this node on a kept-alive connection is refused (not executed),
  // 503 in the contract's envelope with Retry-After, and its connection closed: clients go elsewhere.
  let closing = false;
  // A callback hook, not an async one: it runs on every request, and a promise each is not free.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(unavailableError(ctx, 'this node is shutting down; the request was not executed: send it to another node'));
  });
  // Certificate rotation: new connections get the re-read certificate.
  tls?.onReload(() => (app.server as import('node:https').Server).setSecureContext(tls.apiServerOptions()));
  // Open streams would keep close() waiting forever.
  app.addHook('onClose', async () => {
    disconnect();
    watches.closeAll();
    leases.close();
    locks.close();
  });
  return {
    app,
    services,
    async listen(host, port) {
      await app.listen({ host, port });
    },
    async close(drainMs?: number) {
      // Long polls and streams answer/end now, so that close() waits only for short requests.
      watches.closeAll();
      locks.close();
      // Stop accepting (a request on a kept-alive connection is answered 503 with Connection: close),
      // let the requests in flight be answered, then close every connection left: kept-alive ones
      // would hold the process up for their keep-alive timeout.
      closing = true;
      const closed = app.close();
      await closeWhenIdle(app.server, drainMs);
      await closed;
    },
  };
}

/** How often a closing server looks for connections whose requests are done. */
const DRAIN_POLL_MS = 25;

/**
 * Closing: close each connection as soon as no request is in flight on it
 * (Node's closeIdleConnections, polled, so that no request pays for the
 * bookkeeping), and every connection left after `boundMs` (no bound when
 * undefined). Kept-alive connections would otherwise hold the process up for
 * their keep-alive timeout.
 */
async function closeWhenIdle(server: import('node:http').Server, boundMs?: number): Promise<void> {
  const connections = (): Promise<number> => new Promise((resolve) => server.getConnections((err, count) => resolve(err ? 0 : count)));
  const deadlineMs = boundMs === undefined ? Infinity : performance.now() + boundMs;
  while (performance.now() < deadlineMs && (await connections()) > 0) {
    server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
  server.closeAllConnections();
}
