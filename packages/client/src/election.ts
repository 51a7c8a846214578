// elect: campaign for a named election, call back when elected and when
// demoted, and campaign again (with a fresh session) after losing one,
// until closed, or until the server refuses it in a way no retry changes
// (a refused token, 401/403; a name, value or TTL it rejects, 400/413).
// Leadership is
// tied to a session: it ends when the session ends, and the leadership's
// signal fires before the session's lease can have run out (docs/safety.md
// #18). `term` is the fencing token.

import { sessionName } from './session-name.js';
import { sleep, type Clock } from './clock.js';
import { isLockstepError, isTokenRefused, LockstepError } from './errors.js';
import { LeaseEndedError } from './lease.js';
import type { Session } from './session.js';
import type { CallOptions, CampaignResult } from './types.js';

/** waitMs of one campaign request; a candidate that is not elected in it queues again. */
export const CAMPAIGN_WAIT_MS = 300_000;
/** Pause after a failed campaign request (no leader, a node down) before the next. */
export const CAMPAIGN_RETRY_DELAY_MS = 250;

export interface Leadership {
  readonly name: string;
  /** The election's term: a fencing token, larger than every earlier leader's. */
  readonly term: number;
  /** The value observers see: the campaign's, then the one last proclaimed. */
  readonly value: string;
  /** Fires when leadership ends or may have ended; stop acting as leader then. */
  readonly signal: AbortSignal;
  readonly session: Session;
  /** Change the value others observe, keeping the term. */
  proclaim(value: string, call?: CallOptions): Promise<void>;
}

export type DemotionReason = 'session_lost' | 'closed';

export interface ElectOptions {
  onElected(leadership: Leadership): void | Promise<void>;
  onDemoted?(reason: DemotionReason, leadership: Leadership): void | Promise<void>;
  /**
   * Campaign with this session; when it ends the election ends too (`done`
   * rejects if it ended because the server refused its token). Default: the
   * election opens its own and replaces it when lost.
   */
  session?: Session;
  /** TTL of the sessions the election opens itself (default the server's, 10 s). */
  sessionTtlMs?: number;
  /**
   * Called with errors the election recovered from (logging), and last with
   * the one that stopped it: a LockstepError 'unauthorized' or 'forbidden'
   * (the server refused the token), 'invalid_argument' or 'payload_too_large'
   * (it refused the name, value or session TTL); `done` rejects with it too.
   */
  onError?(err: unknown): void;
}

export interface ElectTransport {
  readonly clock: Clock;
  session(opts: { ttlMs?: number; name?: string }, call?: CallOptions): Promise<Session>;
  campaign(name: string, body: { sessionId: string; value: string; waitMs?: number }, call?: { signal?: AbortSignal }): Promise<CampaignResult>;
  proclaim(name: string, term: number, value: string, call?: CallOptions): Promise<unknown>;
  resign(name: string, term: number): Promise<unknown>;
}

export class Election {
  private readonly stop = new AbortController();
  private current: { leadership: Leadership; end(reason: DemotionReason): void } | null = null;
  private ownSession: Session | null = null;
  /**
   * Settles when the election has stopped: resolves when it was closed or its
   * given session ended; rejects with the LockstepError that stopped it (a
   * refused token, or a campaign the server refuses as invalid: see
   * onError), after demoting if it led. Awaiting it is optional: a rejection
   * nobody awaits is not an unhandled one.
   */
  readonly done: Promise<void>;

  constructor(
    private readonly t: ElectTransport,
    readonly name: string,
    private readonly value: string,
    private readonly opts: ElectOptions,
  ) {
    this.done = this.loop();
    // Most programs never await done, only close(): a refused token must not kill their process
    // as an unhandled rejection. onError has the error, and whoever awaits done still gets it.
    this.done.catch(() => undefined);
  }

  /** The leadership while this candidate leads, else null. */
  get leadership(): Leadership | null {
    return this.current?.leadership ?? null;
  }

  /**
   * Stop campaigning; resign if leading; close the session the election
   * opened. Resolves also when the election had already stopped on a refused
   * token: cleanup does not throw; `done` and onError carry that error.
   */
  async close(): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort(new Error('election closed'));
    await this.done.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const { clock } = this.t;
    /** The server's answer that no retry can change, which stops the election. */
    let refusal: LockstepError | null = null;
    while (!this.stop.signal.aborted) {
      let session: Session;
      try {
        session = await this.sessionFor();
      } catch (err) {
        if (this.stop.signal.aborted) break;
        if (isFinal(err)) {
          refusal = err;
          break;
        }
        this.report(err);
        await sleep(clock, CAMPAIGN_RETRY_DELAY_MS, this.stop.signal).catch(() => undefined);
        continue;
      }
      if (!session.alive) {
        // Ended because its keepalive was refused: a new session and a campaign would be refused too.
        refusal = tokenRefusalOf(session);
        if (refusal !== null || this.opts.session) break;
        this.ownSession = null;
        continue;
      }
      // Abandoning the request removes our place in the queue (the contract), so abort it when the session ends or we stop.
      const signal = AbortSignal.any([this.stop.signal, session.signal]);
      let result: CampaignResult;
      try {
        result = await this.t.campaign(this.name, { sessionId: session.id, value: this.value, waitMs: CAMPAIGN_WAIT_MS }, { signal });
      } catch (err) {
        if (this.stop.signal.aborted) break;
        if (isFinal(err)) {
          refusal = err;
          break;
        }
        if (!session.signal.aborted && !isLockstepError(err, 'session_not_found')) {
          this.report(err);
          await sleep(clock, CAMPAIGN_RETRY_DELAY_MS, this.stop.signal).catch(() => undefined);
        }
        continue;
      }
      if (!result.elected) continue;
      await this.lead(session, result.term, result.value);
    }
    await this.ownSession?.close().catch(() => undefined);
    if (refusal !== null) {
      this.report(refusal);
      throw refusal;
    }
  }

  /** onError is for logging: an error it throws itself must not end the election, nor reject `done` with nobody awaiting it. */
  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // The caller's logging failed; the election goes on as if it had logged.
    }
  }

  /** The session to campaign with; an own session that has ended is returned as it is, for the loop to see why. */
  private async sessionFor(): Promise<Session> {
    if (this.opts.session) return this.opts.session;
    // close() ends a session create still under way rather than waiting it out.
    this.ownSession ??= await this.t.session({ ttlMs: this.opts.sessionTtlMs, name: sessionName(`election:${this.name}`) }, { signal: this.stop.signal });
    return this.ownSession;
  }

  /** Serve as leader until the session is lost or the election is closed. */
  private async lead(session: Session, term: number, value: string): Promise<void> {
    const controller = new AbortController();
    let proclaimed = value;
    const leadership: Leadership = {
      name: this.name,
      term,
      // What observers see now: the campaign's value until a proclaim changes it.
      get value() {
        return proclaimed;
      },
      signal: controller.signal,
      session,
      proclaim: async (v: string, call: CallOptions = {}) => {
        await this.t.proclaim(this.name, term, v, call);
        proclaimed = v;
      },
    };
    let ended = false;
    let onStop: () => void = () => undefined;
    const finished = new Promise<DemotionReason>((resolve) => {
      const end = (reason: DemotionReason): void => {
        if (ended) return;
        ended = true;
        controller.abort(new LockstepError(reason === 'closed' ? 'aborted' : 'session_lost', `leadership of '${this.name}' term ${term} ended: ${reason}`, 0));
        resolve(reason);
      };
      this.current = { leadership, end };
      session.onLost(() => end('session_lost'));
      onStop = () => end('closed');
      this.stop.signal.addEventListener('abort', onStop, { once: true });
      if (this.stop.signal.aborted) end('closed');
    });
    try {
      await this.opts.onElected(leadership);
    } catch (err) {
      this.report(err);
    }
    const reason = await finished;
    // One leadership after another (each lost session) must not pile listeners up on the election's stop signal.
    this.stop.signal.removeEventListener('abort', onStop);
    this.current = null;
    if (reason === 'closed' && session.alive) {
      await this.t.resign(this.name, term).catch(() => undefined);
    }
    try {
      await this.opts.onDemoted?.(reason, leadership);
    } catch (err) {
      this.report(err);
    }
  }
}

/**
 * An answer no retry changes: the token refused (401/403), or the request
 * itself (400 invalid_argument: a bad name or value; 413: a value too large).
 * Campaigning again with it every 250 ms would hide the mistake, not fix it.
 */
function isFinal(err: unknown): err is LockstepError {
  return isTokenRefused(err) || isLockstepError(err, 'invalid_argument') || isLockstepError(err, 'payload_too_large');
}

/** The server's refusal of the token a session was kept alive with, if that is how it ended (LeaseEndReason 'unauthorized'). */
function tokenRefusalOf(session: Session): LockstepError | null {
  const reason: unknown = session.signal.reason;
  return reason instanceof LeaseEndedError && isTokenRefused(reason.cause) ? reason.cause : null;
}
