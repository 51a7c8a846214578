// The leader's lease clock: feeds applied events into the LeaseTable (judged
// on the leader's MONOTONIC clock), answers keepalives without a log write,
// and proposes `expire` / `wait.cancel` for what is due.
//
// - Only a leader confirmed by a quorum recently expires anything
//   (docs/safety.md #13, etcd #15247): a paused, deposed leader that
//   wakes up must not expire everyone.
// - A new leader first applies everything committed (ReadIndex barrier), then
//   restarts every deadline in full plus an election timeout of grace
//   (item 14): a lease may outlive its TTL, never end before it.

import type { LockEvent, LockProposal } from '../locks/commands.js';
import type { LeaseTable } from '../locks/leases.js';
import { FULL_TTL, type Deadlines } from '../locks/views.js';
import type { TimerHandle } from '../node/clock.js';
import type { ServerContext } from './context.js';
import { INDEX_HEADER } from './answer.js';
import { ApiError } from './errors.js';
import { noLeaderError } from './forward.js';

export type Proposer = (proposal: LockProposal) => Promise<unknown>;

export class LeaseDriver {
  /** True once this node, as leader of `readyTerm`, has reset every deadline. */
  private readyTerm: number | null = null;
  private expiring = false;
  private timer: TimerHandle | null = null;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly readyWaiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly ctx: ServerContext,
    readonly table: LeaseTable,
    private readonly propose: Proposer,
  ) {}

  /** An applied event (from the dispatcher): starts or stops a deadline, judged on the monotonic clock. */
  consume(event: LockEvent): void {
    this.table.onEvent(event, this.ctx.clock.monotonicMs());
  }

  start(options: { timer: boolean }): void {
    this.unsubscribers.push(
      this.ctx.node.onRoleChange((role) => {
        if (role === 'leader') void this.becomeLeader();
        else {
          // A follower ends nothing; a later leadership restarts everything (item 14).
          this.readyTerm = null;
          this.table.clear();
        }
      }),
    );
    if (this.ctx.node.leadership().role === 'leader') void this.becomeLeader();
    if (options.timer) {
      this.timer = this.ctx.clock.setRepeating(() => void this.tick(), this.ctx.limits.leaseTickMs);
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const wake of this.readyWaiters) wake();
    this.readyWaiters.clear();
  }

  /** Leader of this term with every deadline restarted. */
  isReady(): boolean {
    const leadership = this.ctx.node.leadership();
    return leadership.role === 'leader' && this.readyTerm === leadership.term;
  }

  private async becomeLeader(): Promise<void> {
    const term = this.ctx.node.leadership().term as number;
    try {
      // Apply everything committed before restarting deadlines: a session created
      // by the old leader must be in the table when its deadline restarts.
      await this.ctx.node.readBarrier(this.ctx.limits.proposeTimeoutMs);
    } catch (error) {
      this.ctx.logger.warn({ err: error, term }, 'lease reset: read barrier failed');
      // Retry while we still lead this term.
      const leadership = this.ctx.node.leadership();
      if (!this.closed && leadership.role === 'leader' && leadership.term === term) {
        this.ctx.clock.setTimer(() => void this.becomeLeader(), this.ctx.limits.leaseTickMs);
      }
      return;
    }
    const leadership = this.ctx.node.leadership();
    if (this.closed || leadership.role !== 'leader' || leadership.term !== term) return;
    this.table.resetAll(this.ctx.machine, this.ctx.clock.monotonicMs(), this.ctx.limits.failoverGraceMs);
    this.readyTerm = term;
    this.ctx.logger.info({ term }, 'lease table reset for new leadership');
    for (const wake of this.readyWaiters) wake();
    this.readyWaiters.clear();
  }

  /**
   * Waits (bounded by leaderWaitMs) for this leader's table to be reset, and so
   * for everything committed before its term to be applied; 503 no_leader if it
   * is not by then.
   */
  async whenReady(): Promise<void> {
    if (this.isReady()) return;
    await new Promise<void>((resolve) => {
      const timer = this.ctx.clock.setTimer(done, this.ctx.limits.leaderWaitMs);
      const ready = this.readyWaiters;
      function done() {
        timer.cancel();
        ready.delete(done);
        resolve();
      }
      this.readyWaiters.add(done);
    });
    if (!this.isReady()) throw noLeaderError(this.ctx, 'this leader has not finished taking over leases yet');
  }

  /**
   * POST /v1/sessions/{id}/keepalive on the leader: no log write. The session
   * must exist in the applied state; its deadline restarts at a full TTL.
   */
  async keepalive(sessionId: string): Promise<{ sessionId: string; ttlMs: number }> {
    await this.whenReady();
    const ttlMs = this.ctx.machine.sessionTtlMs(sessionId);
    if (ttlMs === null) throw this.sessionNotFound(sessionId);
    const refreshed = this.table.keepalive(sessionId, this.ctx.clock.monotonicMs());
    if (!refreshed) throw this.sessionNotFound(sessionId);
    return { sessionId, ttlMs };
  }

  /** http-api.md: a response that reflects replicated state carries x-lockstep-index, a 404 too. */
  private sessionNotFound(sessionId: string): ApiError {
    return new ApiError('session_not_found', `session ${sessionId} is unknown or has expired`, {}, { [INDEX_HEADER]: String(this.ctx.machine.appliedIndex()) });
  }

  /** Time-dependent view fields from this leader's table; full TTLs elsewhere (views.ts). */
  deadlines(): Deadlines {
    return this.isReady() ? this.table.deadlines(this.ctx.clock.monotonicMs()) : FULL_TTL;
  }

  /** One round: propose what is due. Public so that tests step it with a manual clock. */
  async tick(): Promise<void> {
    if (this.closed || this.expiring || !this.isReady()) return;
    // Correctness #13: never expire on an unconfirmed (possibly deposed) leadership.
    if (!this.ctx.node.leadershipConfirmedRecently()) return;
    const due = this.table.due(this.ctx.clock.monotonicMs());
    const batchMax = this.ctx.limits.expireBatchMax;
    const nowMs = this.ctx.clock.wallMs();
    const proposals: LockProposal[] = [];
    const { sessionIds, holds, lockDelays } = due.expire;
    if (sessionIds.length > 0 || holds.length > 0 || lockDelays.length > 0) {
      proposals.push({
        command: { type: 'expire', sessionIds: sessionIds.slice(0, batchMax), holds: holds.slice(0, batchMax), lockDelays: lockDelays.slice(0, batchMax) },
        nowMs,
        idempotency: null,
      });
    }
    if (due.cancelWaits.length > 0) {
      proposals.push({ command: { type: 'wait.cancel', waitIds: due.cancelWaits.slice(0, batchMax), reason: 'timeout' }, nowMs, idempotency: null });
    }
    if (proposals.length === 0) return;
    this.expiring = true;
    try {
      for (const proposal of proposals) await this.propose(proposal);
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'expiry proposal failed; will retry');
    } finally {
      this.expiring = false;
    }
  }
}
