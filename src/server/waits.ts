// Requests waiting for a queued command's outcome (a `wait.resolved` event).
// A waitId is registered BEFORE its command is proposed: the grant can be
// applied in the same batch as the queueing, before the proposer's promise
// continues, and must not be a lost wakeup (docs/safety.md #17).

import type { LockEvent, Outcome } from '../locks/commands.js';
import { TokenShare } from './token-share.js';

export interface Resolution {
  outcome: Outcome;
  index: number;
}

interface Entry {
  promise: Promise<Resolution>;
  resolve: (resolution: Resolution) => void;
  /** Requests waiting on this waitId (a repeat with the same Idempotency-Key joins the first). */
  waiters: number;
  /** The counted token of the request that opened it (null: not counted), see waitsPerTokenMax. */
  tokenId: string | null;
}

export class WaitRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly share: TokenShare;

  constructor(
    private readonly waitsMax: number,
    waitsPerTokenMax: number,
  ) {
    this.share = new TokenShare(waitsPerTokenMax);
  }

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
    this.drop(waitId, entry);
    entry.resolve(resolution);
  }

  /** Every wait leaves through here: its token's count goes with it. */
  private drop(waitId: string, entry: Entry): void {
    this.entries.delete(waitId);
    this.share.give(entry.tokenId);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Why a new wait under `tokenId` (null: not counted) would be one too many, or null if there is room. */
  full(tokenId: string | null): 'node' | 'token' | null {
    if (this.entries.size >= this.waitsMax) return 'node';
    return this.share.hasRoom(tokenId) ? null : 'token';
  }

  /** Open waits of one counted token. */
  openBy(tokenId: string): number {
    return this.share.count(tokenId);
  }

  /** Starts (or joins) waiting for waitId's outcome; `tokenId` is counted if this opens it. Every call must be paired with leave(). */
  join(waitId: string, tokenId: string | null = null): Promise<Resolution> {
    let entry = this.entries.get(waitId);
    if (entry === undefined) {
      let resolve!: (resolution: Resolution) => void;
      const promise = new Promise<Resolution>((r) => {
        resolve = r;
      });
      entry = { promise, resolve, waiters: 0, tokenId };
      this.entries.set(waitId, entry);
      this.share.take(tokenId);
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
    this.drop(waitId, entry);
    return 0;
  }

  close(): void {
    this.entries.clear();
    this.share.clear();
  }
}
