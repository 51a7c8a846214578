// What operators count about the lock service (issue 15 item 10), from what
// each applied entry yields ({result, events}, src/locks/machine.ts) as the
// dispatcher hands it on — never inside the pure lock machine. Every node
// applies every command, so these counters agree across nodes (from the
// moment each process connected its server): graph one node, or `max` over
// them, not the sum. Registered once per registry (tests build several
// servers on one).

import { Counter, Histogram, type Registry } from 'prom-client';
import type { ApplyOutput } from '../locks/machine.js';

/** Where an Idempotency-Key repeat was answered: from the applied record or joined to its first request on the leader, or as an entry of the log. */
export type ReplayPath = 'record' | 'in_flight' | 'log';

export const APPLY_METRICS = {
  grants: 'lockstep_lock_grants_total',
  releases: 'lockstep_lock_releases_total',
  holdExpiries: 'lockstep_lock_expiries_total',
  sessionEnds: 'lockstep_sessions_ended_total',
  lockDelays: 'lockstep_lock_delays_total',
  deadlocks: 'lockstep_deadlocks_refused_total',
  waitsTimedOut: 'lockstep_waits_timed_out_total',
  replays: 'lockstep_idempotent_replays_total',
  applySeconds: 'lockstep_apply_duration_seconds',
} as const;

export interface ApplyMetrics {
  /** Counts what one applied entry did; `seconds`: how long the machine took to apply it. */
  count(output: ApplyOutput, seconds: number): void;
  /** An Idempotency-Key repeat answered without a new log entry (lock-service.ts). */
  replays: Counter<'path'>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function counter<L extends string = never>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}

export function createApplyMetrics(registry: Registry): ApplyMetrics {
  const grants = counter(registry, APPLY_METRICS.grants, 'Holds granted (one per lock: a lock set of three counts three), at once or to a waiter.');
  const releases = counter(registry, APPLY_METRICS.releases, 'Holds released by their holder (release, lock-set release, session delete).');
  const holdExpiries = counter(registry, APPLY_METRICS.holdExpiries, 'Holds that ended because their TTL or their session\'s lease ran out.');
  const sessionEnds = counter(registry, APPLY_METRICS.sessionEnds, 'Sessions ended, by reason: expired (lease ran out) or deleted.', ['reason'] as const);
  const lockDelays = counter(registry, APPLY_METRICS.lockDelays, 'Lock-delays started: a lock that refuses new holders for a while after its session expired.');
  const deadlocks = counter(registry, APPLY_METRICS.deadlocks, 'Waits refused with 409 deadlock (they would have closed a cycle in the wait-for graph).');
  const waitsTimedOut = counter(registry, APPLY_METRICS.waitsTimedOut, 'Waiting acquires, lock sets and campaigns whose waitMs ran out before they were granted.');
  const replays = counter(registry, APPLY_METRICS.replays, 'Idempotency-Key repeats answered with the first outcome, by path: record (applied record, leader, no log entry), in_flight (joined the first request, leader), log (a repeat that reached the log; every node counts it).', ['path'] as const);
  const applySeconds = reuse(registry, APPLY_METRICS.applySeconds, () =>
    new Histogram({
      name: APPLY_METRICS.applySeconds,
      help: 'Time the lock state machine took to apply one committed entry on this node.',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
  );
  // Every labelled series exists from the start (at 0), so a dashboard's rate() has something to show.
  for (const reason of ['expired', 'deleted']) sessionEnds.inc({ reason }, 0);
  for (const path of ['record', 'in_flight', 'log'] satisfies ReplayPath[]) replays.inc({ path }, 0);

  return {
    replays,
    count(output, seconds) {
      applySeconds.observe(seconds);
      if (output.replayed) replays.inc({ path: 'log' });
      const outcome = output.result.kind === 'done' ? output.result.outcome : null;
      if (!output.replayed && outcome?.status === 409 && (outcome.body as { error?: { code?: string } }).error?.code === 'deadlock') deadlocks.inc();
      // The waits a timeout cancel names; the waiters behind them that it lets in are grants, not timeouts.
      const timedOut = output.command?.type === 'wait.cancel' && output.command.reason === 'timeout' ? new Set(output.command.waitIds) : null;
      for (const event of output.events) {
        switch (event.type) {
          case 'acquired':
            grants.inc();
            break;
          case 'released':
            releases.inc();
            break;
          case 'expired':
            holdExpiries.inc();
            break;
          case 'session.ended':
            sessionEnds.inc({ reason: event.reason });
            break;
          case 'lockDelay.started':
            lockDelays.inc();
            break;
          case 'wait.resolved':
            // A wait already granted is left alone by the cancel and resolves nothing here.
            if (timedOut?.has(event.waitId)) waitsTimedOut.inc();
            break;
          default:
            break;
        }
      }
    },
  };
}
