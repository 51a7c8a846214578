// Requests waiting for a queued command's outcome (a `wait.resolved` event).
// A waitId is registered BEFORE its command is proposed: the grant can be
// applied in the same batch as the queueing, before the proposer's promise
// continues, and must not be a lost wakeup (docs/safety.md #17).

import type { LockEvent, Outcome } from '../locks/commands.js';

export interface Resolution {
  outcome: Outcome;
  index: number;
}

interface Entry {
  promise: Promise<Resolution>;
  resolve: (resolution: Resolution) => void;
  /** Requests waiting on this waitId (a repeat with the same Idempotency-Key joins the first). */
  waiters: number;
}

export class WaitRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly waitsMax: number) {}

  /** An applied event (from the dispatcher): a `wait.resolved` answers everyone waiting for that wait. */
  consume(event: LockEvent): void {
    if (event.type === 'wait.resolved') this.settle(event.waitId, { outcome: event.outcome, index: event.index });
  }

  /** Answers everyone waiting for `waitId` with `outcome` instead (the dispatcher's 500 when consume failed). */
  fail(waitId: string, outcome: Outcome, index: number): void {
    this.settle(waitId, { outcome, index });
  }

  private settle(waitId: string, resolution: Resolution): void {
    const entry = this.entries.get(waitId);
    if (entry === undefined) return;
    this.entries.delete(waitId);
    entry.resolve(resolution);
  }

  get size(): number {
    return this.entries.size;
  }

  hasRoom(): boolean {
    return this.entries.size < this.waitsMax;
  }

  /** Starts (or joins) waiting for waitId's outcome. Every call must be paired with leave(). */
  join(waitId: string): Promise<Resolution> {
    let entry = this.entries.get(waitId);
    if (entry === undefined) {
      let resolve!: (resolution: Resolution) => void;
      const promise = new Promise<Resolution>((r) => {
        resolve = r;
      });
      entry = { promise, resolve, waiters: 0 };
      this.entries.set(waitId, entry);
    }
    entry.waiters += 1;
    return entry.promise;
  }

  /** One request stopped waiting; returns how many still wait (0: nobody will answer this waitId). */
  leave(waitId: string): number {
    const entry = this.entries.get(waitId);
    if (entry === undefined) return 0;
    entry.waiters -= 1;
    if (entry.waiters > 0) return entry.waiters;
    this.entries.delete(waitId);
    return 0;
  }

  close(): void {
    this.entries.clear();
  }
}
