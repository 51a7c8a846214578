// What every route plugin gets: the node, the lock machine, the services
// built on them, the limits and the clock. One object, built once in app.ts.

import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReplicatedNode } from '../node/api.js';
import type { Clock } from '../node/clock.js';
import type { ServerLimits } from './limits.js';
import type { LockMachineView } from './machine-view.js';
import type { HttpMetrics } from './http-metrics.js';
import type { Authenticator } from './auth.js';
import type { Upstream } from './upstream.js';
import type { PeerForwarding } from '../transport/api.js';


export interface ServerContext {
  node: ReplicatedNode;
  machine: LockMachineView;
  registry: Registry;
  logger: FastifyBaseLogger;
  /** The node's clock: monotonic time judges leases (http-api.md "Time"), wall time only `nowMs` and display; every timer. */
  clock: Clock;
  limits: ServerLimits;
  metrics: HttpMetrics;
  /** Who a request is (the root token or a token of the replicated state); auth is off without a root token. */
  auth: Authenticator;
  /** How this node calls the leader's API (fetch, or node:https with the cluster CA under TLS). */
  upstream: Upstream;
  /** The peer channel, when forwarding to the leader may use it instead of HTTP (forward.ts); null in tests without one. */
  peers: PeerForwarding | null;
  /** Plain and not --insecure: a member may only be added at loopback addresses (it would be reached in the clear). */
  loopbackOnly: boolean;
  /** The API is HTTPS only (serve --tls-*): so is every member's, and a member's API URL says https://. */
  apiTls: boolean;
}
