// Requests waiting on the Raft log: proposals waiting to be applied, and
// ReadIndex reads waiting for their read point to be applied.
import type { LogIndex, Term } from '../raft/types.js';
import { NotLeaderError, OutcomeUnknownError } from './api.js';
import type { Clock, TimerHandle } from './clock.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: TimerHandle | null;
}

export interface ProposalResult {
  index: LogIndex;
  result: unknown;
}

interface PendingProposal extends Waiter<ProposalResult> {
  term: Term;
}

/**
 * Proposals by log index. An applied entry resolves the proposal at its index
 * only if the terms match too: a different term at that index means our entry
 * was overwritten by another leader's and surely did not apply (Raft §5.3).
 */
export class PendingProposals {
  private readonly byIndex = new Map<number, PendingProposal>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byIndex.size;
  }

  add(index: LogIndex, term: Term, timeoutMs: number): Promise<ProposalResult> {
    const stale = this.byIndex.get(index);
    if (stale) {
      // A leader never hands out one index twice in a term; an older entry at
      // this index was overwritten by ours, so it did not apply.
      this.settle(index, stale);
      stale.reject(new NotLeaderError(null));
    }
    return new Promise<ProposalResult>((resolve, reject) => {
      const waiter: PendingProposal = { term, resolve, reject, timer: null };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = this.clock.setTimer(() => {
          if (this.byIndex.get(index) !== waiter) return;
          this.settle(index, waiter);
          reject(new OutcomeUnknownError(`the command at index ${index} was not known to commit within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.byIndex.set(index, waiter);
    });
  }

  /** The entry (index, term) was applied with `result`. */
  applied(index: LogIndex, term: Term, result: unknown): void {
    const waiter = this.byIndex.get(index);
    if (!waiter) return;
    this.settle(index, waiter);
    if (waiter.term === term) waiter.resolve({ index, result });
    else waiter.reject(new NotLeaderError(null));
  }

  /** Everything up to `index` is covered by a snapshot we did not produce: what we proposed there may or may not be in it. */
  coveredBySnapshot(index: LogIndex): void {
    for (const [i, waiter] of [...this.byIndex]) {
      if (i > index) continue;
      this.settle(i as LogIndex, waiter);
      waiter.reject(new OutcomeUnknownError(`the command at index ${i} was replaced by a snapshot; its outcome is unknown`));
    }
  }

  /** Reject every proposal not of `currentTerm`: leadership was lost, they may still commit under the next leader (docs/safety.md #15). */
  rejectOtherTerms(currentTerm: Term | null, reason: string): void {
    for (const [i, waiter] of [...this.byIndex]) {
      if (currentTerm !== null && waiter.term === currentTerm) continue;
      this.settle(i as LogIndex, waiter);
      waiter.reject(new OutcomeUnknownError(reason));
    }
  }

  rejectAll(err: () => Error): void {
    for (const [i, waiter] of [...this.byIndex]) {
      this.settle(i as LogIndex, waiter);
      waiter.reject(err());
    }
  }

  private settle(index: LogIndex, waiter: PendingProposal): void {
    waiter.timer?.cancel();
    this.byIndex.delete(index);
  }
}

interface PendingRead extends Waiter<LogIndex> {
  /** Set once Raft confirmed the read point. */
  index: LogIndex | null;
}

/** ReadIndex reads (Raft §6.4; docs/safety.md #3): confirmed by Raft, then served once applied >= index. */
export class PendingReads {
  private readonly byId = new Map<string, PendingRead>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byId.size;
  }

  add(requestId: string, timeoutMs: number): Promise<LogIndex> {
    if (this.byId.has(requestId)) throw new Error(`read request id ${requestId} reused`);
    return new Promise<LogIndex>((resolve, reject) => {
      const waiter: PendingRead = { index: null, resolve, reject, timer: null };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = this.clock.setTimer(() => {
          if (this.byId.get(requestId) !== waiter) return;
          this.settle(requestId, waiter);
          reject(new OutcomeUnknownError(`leadership was not confirmed within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.byId.set(requestId, waiter);
    });
  }

  /** Raft confirmed the read point of `requestId`. */
  confirmed(requestId: string, index: LogIndex, applied: LogIndex): void {
    const waiter = this.byId.get(requestId);
    if (!waiter) return;
    waiter.index = index;
    if (applied >= index) {
      this.settle(requestId, waiter);
      waiter.resolve(index);
    }
  }

  /** The state machine reached `applied`: serve every confirmed read at or below it. */
  appliedUpTo(applied: LogIndex): void {
    for (const [id, waiter] of [...this.byId]) {
      if (waiter.index !== null && waiter.index <= applied) {
        this.settle(id, waiter);
        waiter.resolve(waiter.index);
      }
    }
  }

  /** Raft can no longer serve this read here. A read changes nothing, so it is safe to retry: NotLeaderError. */
  dropped(requestId: string, leader: NotLeaderError['leader']): void {
    const waiter = this.byId.get(requestId);
    if (!waiter) return;
    this.settle(requestId, waiter);
    waiter.reject(new NotLeaderError(leader));
  }

  /** Reject reads not yet confirmed (lost leadership); confirmed ones stay valid and are served when applied. */
  rejectUnconfirmed(err: () => Error): void {
    for (const [id, waiter] of [...this.byId]) {
      if (waiter.index !== null) continue;
      this.settle(id, waiter);
      waiter.reject(err());
    }
  }

  rejectAll(err: () => Error): void {
    for (const [id, waiter] of [...this.byId]) {
      this.settle(id, waiter);
      waiter.reject(err());
    }
  }

  private settle(id: string, waiter: PendingRead): void {
    waiter.timer?.cancel();
    this.byId.delete(id);
  }
}
