// The HTTP layer's Prometheus metrics (prefix lockstep_). Registered once per
// registry: a second server on the same registry (tests) reuses them.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LockMachineView } from './machine-view.js';

const LIST_PAGE_MAX = 1_000;

export interface HttpMetrics {
  requestSeconds: Histogram<'route' | 'method' | 'status'>;
  forwardedTotal: Counter<'outcome' | 'channel'>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return (existing as T | undefined) ?? make();
}

/** Holds counts lock holders (election leaders are not listed by the machine). Paged to stay bounded per call. */
function countState(machine: LockMachineView): { sessions: number; holds: number; waiters: number } {
  let holds = 0;
  let after: string | undefined;
  for (;;) {
    const page = machine.listLocks('', LIST_PAGE_MAX, after);
    for (const lock of page.locks) holds += lock.holders.length;
    if (page.next === undefined) break;
    after = page.next;
  }
  return { sessions: machine.allSessions().length, holds, waiters: machine.allWaits().length };
}

export function createHttpMetrics(registry: Registry, machine: LockMachineView): HttpMetrics {
  const requestSeconds = reuse(registry, 'lockstep_http_request_duration_seconds', () =>
    new Histogram({
      name: 'lockstep_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status (long-poll waits included).',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  );
  const forwardedTotal = reuse(registry, 'lockstep_http_forwarded_requests_total', () =>
    new Counter({
      name: 'lockstep_http_forwarded_requests_total',
      help: 'Requests this follower forwarded to the leader, by outcome (ok, unavailable, no_leader) and, for answered ones, how: call (the leader\'s part of a write, over the peer channel), peer (the request relayed over the peer channel), http.',
      labelNames: ['outcome', 'channel'] as const,
      registers: [registry],
    }),
  );
  // Gauges read the applied state at scrape time; a server replaced on the
  // same registry must not leave a collect() pointing at its dead machine.
  for (const name of ['lockstep_sessions', 'lockstep_holds', 'lockstep_waiters']) registry.removeSingleMetric(name);
  const gauge = (name: string, help: string, pick: (s: { sessions: number; holds: number; waiters: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(countState(machine)));
      },
    });
  gauge('lockstep_sessions', 'Live sessions in this node\'s applied state.', (s) => s.sessions);
  gauge('lockstep_holds', 'Lock and election holds in this node\'s applied state.', (s) => s.holds);
  gauge('lockstep_waiters', 'Queued waiters (locks and elections) in this node\'s applied state.', (s) => s.waiters);
  return { requestSeconds, forwardedTotal };
}
