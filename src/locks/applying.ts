// One command being applied: the state it changes, the Raft index it is
// applied at, and the events it yields, in order. Every command handler
// (sessions.ts, locks.ts, elections.ts, expiry.ts) takes one of these; the
// machine returns its events with the result (return, don't
// broadcast).
import type { ApplyResult, LockCommand, LockEvent, Outcome } from './commands.js';
import type { Principal } from './permissions.js';
import type { MachineState, WaitRef } from './state.js';

export type CommandOf<T extends LockCommand['type']> = Extract<LockCommand, { type: T }>;

/** The handlers of one concept's commands, by command type; machine.ts joins them into one table. */
export type CommandHandlers<T extends LockCommand['type']> = {
  [K in T]: (cx: Applying, command: CommandOf<K>) => ApplyResult;
};

/** An invariant of the replicated state: a violation is a bug that must stop the replica, never be answered. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`LockMachine invariant violated: ${message}`);
}

export function done(outcome: Outcome): ApplyResult {
  return { kind: 'done', outcome };
}

export class Applying {
  readonly events: LockEvent[] = [];

  constructor(
    readonly state: MachineState,
    /** The Raft index of the command: every event carries it, and fencing tokens are at least it. */
    readonly index: number,
    /** The Idempotency-Key of the command: a wait it queues fills the key's record when it resolves. */
    readonly idempotencyKey: string | null,
    /** Whom the command acts for, as of this index (null: auth off, or the leader's own command). */
    readonly principal: Principal | null = null,
  ) {}

  /** The token id recorded with what this command creates (a session, a wait). */
  get tokenId(): string | null {
    return this.principal?.id ?? null;
  }

  emit(event: LockEvent): void {
    this.events.push(event);
  }

  /** Fencing tokens and election terms share one counter: strictly increasing across all names (docs/safety.md #11). */
  nextToken(): number {
    const token = Math.max(this.index, this.state.lastToken + 1);
    assert(token > this.state.lastToken, 'fencing token must increase');
    this.state.lastToken = token;
    return token;
  }

  /** A queued wait (lock waiter or candidate) is over: its request answers `outcome`, and so does a repeat of its key. */
  resolveWait(waitId: string, ref: WaitRef, outcome: Outcome): void {
    this.emit({ type: 'wait.resolved', index: this.index, waitId, outcome });
    if (ref.idempotencyKey !== null) this.state.idempotency.fill(ref.idempotencyKey, waitId, outcome);
  }
}
