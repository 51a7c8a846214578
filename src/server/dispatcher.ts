// The one place the lock machine's applied events go (return, don't broadcast).
// The node applies entries through this
// dispatcher (it is the node's StateMachine); LockMachine.apply returns
// {result, events} and calls nobody; the dispatcher hands each event, in
// order, to the three consumers of this node: the leader's lease table, the
// requests waiting for a queued command, and the watch/observe streams.
//
// It also counts, for operators, what each entry did (apply-metrics.ts).
//
// A consumer that throws is a bug. It must neither stop this entry's other
// consumers nor later entries (the node keeps applying: the replicated state
// is fine, only this node's bookkeeping is not), nor go unnoticed: it is
// logged at error with the entry index, counted in
// lockstep_apply_consumer_errors_total{consumer}, and the request it
// concerns answers 500 internal:
// - leases: the request that proposed the entry (its deadlines on this
//   leader are not right);
// - waits: the requests waiting for that wait (they would never be woken);
// - watches: that one stream, which ends with an `error` event.

import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { ApplyResult, LockEvent, Outcome } from '../locks/commands.js';
import type { ApplyOutput, LockMachine } from '../locks/machine.js';
import type { AppliedCommand, StateMachine } from '../node/state-machine.js';
import type { LogIndex } from '../raft/types.js';
import { apiErrorBody } from './errors.js';
import { createApplyMetrics, type ApplyMetrics } from './apply-metrics.js';

export type ConsumerName = 'leases' | 'waits' | 'watches';

export interface EventConsumers {
  /** The leader's deadlines (LeaseDriver). */
  leases: { consume(event: LockEvent): void };
  /** Requests waiting for a queued command's outcome (WaitRegistry). */
  waits: {
    consume(event: LockEvent): void;
    /** Answers everyone waiting for `waitId` with `outcome` (a no-op if nobody waits). */
    fail(waitId: string, outcome: Outcome, index: number): void;
  };
  /** Watch and observe streams (WatchHub): one stream's failure ends that stream only and is reported through `fault`. */
  watches: { publish(event: LockEvent, fault: (error: unknown) => void): void };
}

export const CONSUMER_ERRORS_METRIC = 'lockstep_apply_consumer_errors_total';

/** The 500 a request gets when a consumer failed on the entry that concerns it. */
export function internalOutcome(consumer: ConsumerName, index: number): Outcome {
  return {
    status: 500,
    body: apiErrorBody('internal', `a bug in this node's ${consumer} bookkeeping while applying entry ${index}; the command itself was applied (see the node log)`),
  };
}

interface Connection {
  consumers: EventConsumers;
  logger: FastifyBaseLogger;
  errors: Counter<'consumer'>;
  /** Grants, releases, expiries, timeouts, replays and apply time, counted from each entry's output. */
  metrics: ApplyMetrics;
}

export class EventDispatcher implements StateMachine<ApplyResult, LockEvent> {
  private connection: Connection | null = null;

  constructor(readonly machine: LockMachine) {}

  /**
   * The server's consumers start receiving events (one server per node).
   * Entries applied before (the node replaying its log at start) reach
   * nobody: no request waits yet, and a leader restarts its lease table
   * from the applied state (docs/safety.md #14).
   */
  connect(consumers: EventConsumers, logger: FastifyBaseLogger, registry: Registry): () => void {
    if (this.connection !== null) throw new Error('EventDispatcher: a server is already connected');
    const existing = registry.getSingleMetric(CONSUMER_ERRORS_METRIC) as Counter<'consumer'> | undefined;
    const errors =
      existing ??
      new Counter({
        name: CONSUMER_ERRORS_METRIC,
        help: 'Exceptions thrown by a consumer of applied lock events (a bug): logged at error with the entry index.',
        labelNames: ['consumer'] as const,
        registers: [registry],
      });
    const connection: Connection = { consumers, logger, errors, metrics: createApplyMetrics(registry) };
    this.connection = connection;
    return () => {
      if (this.connection === connection) this.connection = null;
    };
  }

  apply(command: AppliedCommand): ApplyOutput {
    const connection = this.connection;
    if (connection === null) return this.machine.apply(command);
    const startedMs = performance.now();
    const output = this.machine.apply(command);
    connection.metrics.count(output, (performance.now() - startedMs) / 1000);
    const { consumers } = connection;
    const index = command.index as number;
    let proposerFault: ConsumerName | null = null;
    for (const event of output.events) {
      if (!this.guard(connection, 'leases', index, event, () => consumers.leases.consume(event))) proposerFault ??= 'leases';
      if (!this.guard(connection, 'waits', index, event, () => consumers.waits.consume(event))) {
        if (event.type === 'wait.resolved') {
          this.guard(connection, 'waits', index, event, () => consumers.waits.fail(event.waitId, internalOutcome('waits', index), index));
        } else {
          proposerFault ??= 'waits';
        }
      }
      this.guard(connection, 'watches', index, event, () =>
        consumers.watches.publish(event, (error) => this.fault(connection, 'watches', index, event, error)),
      );
    }
    if (proposerFault === null) return output;
    return { result: { kind: 'done', outcome: internalOutcome(proposerFault, index) }, events: output.events };
  }

  /** Runs one consumer on one event; false if it threw (already logged and counted). */
  private guard(connection: Connection, consumer: ConsumerName, index: number, event: LockEvent, run: () => void): boolean {
    try {
      run();
      return true;
    } catch (error) {
      this.fault(connection, consumer, index, event, error);
      return false;
    }
  }

  private fault(connection: Connection, consumer: ConsumerName, index: number, event: LockEvent, error: unknown): void {
    connection.errors.inc({ consumer });
    connection.logger.error({ err: error, index, consumer, event: event.type }, 'a consumer of applied lock events failed (a bug)');
  }

  snapshot(): Uint8Array {
    return this.machine.snapshot();
  }

  restore(data: Uint8Array, index: LogIndex): void {
    this.machine.restore(data, index);
  }

  appliedIndex(): LogIndex {
    return this.machine.appliedIndex();
  }
}
