// The leader-side glue between HTTP and the replicated lock machine: turns a
// request into a LockProposal, proposes it, and answers the ApplyResult —
// at once ('done') or when the queued wait resolves ('queued').
//
// Idempotency (http-api.md "Conventions"; Raft dissertation §6.3): the
// machine records the first outcome of every Idempotency-Key and replays it
// on apply; this service also answers a repeat from the applied record
// without proposing, and joins a repeat to the first request while the first
// is still in flight or waiting.

import type { Counter } from 'prom-client';
import type { Cancel } from '../cancel.js';
import { createApplyMetrics } from './apply-metrics.js';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { ApplyResult, LockCommand, LockProposal, Outcome } from '../locks/commands.js';
import { IDEMPOTENCY_FULL_MESSAGE } from '../locks/idempotency.js';
import { NotLeaderError, OutcomeUnknownError } from '../node/api.js';
import { type Answer, INDEX_HEADER } from './answer.js';
import type { ServerContext } from './context.js';
import { ApiError, apiErrorBody } from './errors.js';
import { unavailableError } from './forward.js';
import { WaitRegistry } from './waits.js';
import { countedToken } from './token-share.js';

export interface IdempotencyInfo {
  key: string;
  method: string;
  path: string;
}

export interface ExecuteOptions {
  idempotency: IdempotencyInfo | null;
  /** The id of the token the request acts as (null: auth off): carried in the proposal, re-checked when applied. */
  tokenId: string | null;
  /** Fires when the client went away: a queued wait is cancelled ('abandoned'). */
  cancel: Cancel;
}

export type ProposalEncoder = (proposal: LockProposal) => Uint8Array;

/** Makes a waitId for commands that may queue. */
export function newWaitId(): string {
  return randomUUID();
}

/** Carries x-lockstep-index: the conflict is judged against the replicated key record (http-api.md "Conventions"). */
function conflict(record: { method: string; path: string }, index: number): ApiError {
  return new ApiError('idempotency_conflict', `the Idempotency-Key was first used for ${record.method} ${record.path}`, {
    method: record.method,
    path: record.path,
  }, { [INDEX_HEADER]: String(index) });
}

function isApplyResult(value: unknown): value is ApplyResult {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'done' || kind === 'queued';
}

function outcomeAnswer(outcome: Outcome, index: number): Answer {
  return { status: outcome.status, body: outcome.body, index };
}

export class LockService {
  readonly waits: WaitRegistry;
  /** Requests proposed but not yet answered, by Idempotency-Key: a repeat joins the first. */
  private readonly inFlight = new Map<string, { method: string; path: string; answer: Promise<Answer> }>();

  /** Idempotency-Key repeats answered here without a log entry (apply-metrics.ts). */
  private readonly replays: Counter<'path'>;

  constructor(
    private readonly ctx: ServerContext,
    private readonly encode: ProposalEncoder,
  ) {
    this.waits = new WaitRegistry(ctx.limits.waitsMax, ctx.limits.waitsPerTokenMax);
    this.replays = createApplyMetrics(ctx.registry).replays;
  }

  /** Fires on close(): waiting requests answer 503 unavailable (their waits stay queued; a retry with the key finds them). */
  private readonly closing = closingController();

  close(): void {
    this.closing.abort();
    this.waits.close();
  }

  /**
   * Leader only. Throws NotLeaderError when the command surely did not apply
   * (the caller forwards), ApiError('unavailable') when it may have.
   */
  async execute(command: LockCommand, options: ExecuteOptions): Promise<Answer> {
    const idem = options.idempotency;
    if (idem !== null) {
      const joined = this.inFlight.get(idem.key);
      if (joined !== undefined) {
        if (joined.method !== idem.method || joined.path !== idem.path) throw conflict(joined, this.ctx.machine.appliedIndex());
        this.replays.inc({ path: 'in_flight' });
        return joined.answer;
      }
      const replay = this.replayFromRecord(idem, options);
      if (replay !== null) {
        this.replays.inc({ path: 'record' });
        return replay;
      }
      if (this.ctx.machine.idempotencyFullAt?.(this.ctx.clock.wallMs())) {
        // The machine would refuse this new key (limits.ts IDEMPOTENCY_RECORDS_MAX): say so without a log entry.
        throw new ApiError('limit_exceeded', IDEMPOTENCY_FULL_MESSAGE, {}, { [INDEX_HEADER]: String(this.ctx.machine.appliedIndex()) });
      }
    }
    const doomed = await this.answerDoomed(command);
    if (doomed !== null) return doomed;
    const waitId = 'waitId' in command ? command.waitId : null;
    const counted = countedToken(options.tokenId, options.tokenId === null ? null : this.ctx.machine.tokenRole(options.tokenId));
    const full = waitId === null ? null : this.waits.full(counted);
    if (full !== null) {
      const message = full === 'node' ? `this node already has ${this.ctx.limits.waitsMax} waits open` : `this token already has ${this.ctx.limits.waitsPerTokenMax} of this node's waits open`;
      throw new ApiError('too_many_requests', message, {}, { 'retry-after': String(this.ctx.limits.retryAfterSeconds) });
    }
    const answer = this.proposeAndAwait(command, waitId, options, counted);
    if (idem !== null) {
      const entry = { method: idem.method, path: idem.path, answer };
      this.inFlight.set(idem.key, entry);
      const forget = () => {
        if (this.inFlight.get(idem.key) === entry) this.inFlight.delete(idem.key);
      };
      answer.then(forget, forget);
    }
    return answer;
  }

  /**
   * A command that will surely fail (src/locks/doomed.ts) is answered without
   * a log entry. The applied state may be behind (this leader may have been
   * deposed, or not yet applied what it knows committed), so the prediction is
   * confirmed after a ReadIndex barrier: every command committed before this
   * request arrived is applied by then, and the failures predicted are ones no
   * later command can undo (a session unknown at that point cannot become
   * known under the same id, because ids are random and never reused; a
   * fencing token that does not hold then never will). So the answer is
   * linearizable at the read point, and a retry with the same key would get
   * it again: nothing needs recording. Costs one heartbeat round, no disk
   * write, and only on the failure path.
   */
  private async answerDoomed(command: LockCommand): Promise<Answer | null> {
    const machine = this.ctx.machine;
    if (machine.surelyFails?.(command) == null) return null;
    try {
      await this.ctx.node.readBarrier(this.ctx.limits.proposeTimeoutMs);
    } catch (error) {
      if (error instanceof NotLeaderError || error instanceof ApiError) throw error;
      throw unavailableError(this.ctx, 'could not confirm leadership in time; retry');
    }
    const outcome = machine.surelyFails(command);
    return outcome === null ? null : outcomeAnswer(outcome, machine.appliedIndex());
  }

  /** A key already in the applied state: replay its outcome, or wait for it if the first request still waits. */
  private replayFromRecord(idem: IdempotencyInfo, options: ExecuteOptions): Promise<Answer> | null {
    const machine = this.ctx.machine;
    if (machine.lookupIdempotency === undefined) return null;
    const found = machine.lookupIdempotency(idem.key, idem.method, idem.path);
    switch (found.kind) {
      case 'miss':
        return null;
      case 'conflict':
        throw conflict(found.record, machine.appliedIndex());
      case 'done':
        return Promise.resolve(outcomeAnswer(found.outcome, this.ctx.machine.appliedIndex()));
      case 'pending':
        return this.awaitWait(found.waitId, options.cancel);
    }
  }

  private async proposeAndAwait(command: LockCommand, waitId: string | null, options: ExecuteOptions, counted: string | null): Promise<Answer> {
    // Registered before the propose: the wait may resolve in the same applied batch.
    const early = waitId !== null ? this.waits.join(waitId, counted) : null;
    let applied: { index: number; result: unknown };
    try {
      const auth = options.tokenId !== null ? { tokenId: options.tokenId } : null;
      applied = await this.propose({ command, nowMs: this.ctx.clock.wallMs(), idempotency: options.idempotency, auth });
    } catch (error) {
      if (waitId !== null) this.waits.leave(waitId);
      throw error;
    }
    const result = applied.result;
    if (!isApplyResult(result)) throw new Error(`lock machine returned ${JSON.stringify(result)} for ${command.type}`);
    if (result.kind === 'done') {
      if (waitId !== null) this.waits.leave(waitId);
      return outcomeAnswer(result.outcome, applied.index);
    }
    if (result.waitId === waitId && early !== null) return this.awaitJoined(result.waitId, early, options.cancel);
    // The machine answered with another waitId: a replay of a first request (same key) still waiting.
    if (waitId !== null) this.waits.leave(waitId);
    const idem = options.idempotency;
    const found = idem ? this.ctx.machine.lookupIdempotency?.(idem.key, idem.method, idem.path) : undefined;
    if (found?.kind === 'done') return outcomeAnswer(found.outcome, this.ctx.machine.appliedIndex());
    return this.awaitWait(result.waitId, options.cancel);
  }

  private awaitWait(waitId: string, cancel: Cancel): Promise<Answer> {
    return this.awaitJoined(waitId, this.waits.join(waitId), cancel);
  }

  /** Waits for a joined waitId; if the client goes away first and nobody else waits, cancels it. */
  private awaitJoined(waitId: string, resolution: Promise<{ outcome: Outcome; index: number }>, cancel: Cancel): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      // Set once the listener is added: a client gone before the wait settles before that.
      let removeOnAbort = (): void => {};
      // Every way out removes both listeners: the closing signal is shared by
      // every waiting request, so a listener left behind would stay until shutdown.
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        removeOnAbort();
        this.closing.signal.removeEventListener('abort', onClosing);
        return true;
      };
      const onAbort = () => {
        if (!settle()) return;
        const left = this.waits.leave(waitId);
        if (left === 0) this.cancelAbandoned(waitId);
        reject(new ApiError('unavailable', 'the client went away'));
      };
      const onClosing = () => {
        if (!settle()) return;
        this.waits.leave(waitId);
        reject(unavailableError(this.ctx, 'this node is shutting down; retry with the same Idempotency-Key'));
      };
      if (cancel.aborted) {
        onAbort();
        return;
      }
      removeOnAbort = cancel.onAbort(onAbort);
      this.closing.signal.addEventListener('abort', onClosing, { once: true });
      resolution.then(
        ({ outcome, index }) => {
          if (!settle()) return;
          this.waits.leave(waitId);
          resolve(outcomeAnswer(outcome, index));
        },
        (error: unknown) => {
          if (!settle()) return;
          this.waits.leave(waitId);
          reject(error);
        },
      );
    });
  }

  private cancelAbandoned(waitId: string): void {
    const proposal: LockProposal = { command: { type: 'wait.cancel', waitIds: [waitId], reason: 'abandoned' }, nowMs: this.ctx.clock.wallMs(), idempotency: null };
    this.propose(proposal).catch((error: unknown) => {
      // Not fatal: the leader's deadline for this wait (waitMs) still ends it.
      this.ctx.logger.warn({ err: error, waitId }, 'could not cancel an abandoned wait');
    });
  }

  /** Proposes on this node; NotLeaderError passes through, an unknown outcome becomes 503 unavailable. */
  async propose(proposal: LockProposal): Promise<{ index: number; result: unknown }> {
    try {
      const applied = await this.ctx.node.propose(this.encode(proposal), this.ctx.limits.proposeTimeoutMs);
      return { index: applied.index as number, result: applied.result };
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      if (error instanceof OutcomeUnknownError) throw unavailableError(this.ctx);
      throw error;
    }
  }
}

/** The body of an error outcome, as the machine would write it. */
export function errorOutcome(error: ApiError): Outcome {
  return { status: error.status, body: apiErrorBody(error.code, error.message, error.details) };
}

/**
 * The shutdown signal every waiting request listens to: one listener per wait,
 * so as many as limits.waitsMax at once. Node warns of a leak past 10 listeners
 * on a signal; here many are the design, and each is removed when its wait ends.
 */
function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
