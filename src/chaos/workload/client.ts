// A chaos client, the way a careful real client behaves: every state change
// carries an Idempotency-Key, and an attempt whose outcome is unknown is
// retried with the same key on another node until a definite answer or the
// op's deadline (docs/safety.md #15). Each op is recorded with its
// invoke and completion time, node, and result: ok, fail (surely not
// applied), or unknown.
import type { ServerErrorCode } from 'lockstep-client';
import type { OpKind, OpRecord } from '../history.js';
import type { Prng } from '../prng.js';
import { attempt, errorCode, type Attempt } from './http.js';

/** Answers after which a retry with the same key is pointless or harmful. */
const DEFINITE_FAILS: ReadonlySet<string> = new Set<ServerErrorCode>(['invalid_argument', 'unauthorized', 'forbidden', 'not_holder', 'session_not_found', 'not_found', 'limit_mismatch', 'deadlock', 'idempotency_conflict', 'payload_too_large', 'limit_exceeded']);
/** Surely not applied, but worth retrying elsewhere (no leader, a per-node cap full). */
const RETRY_NOT_APPLIED: ReadonlySet<string> = new Set<ServerErrorCode>(['no_leader', 'too_many_requests']);

export const RETRY_BACKOFF_MS = 150;

export interface ClientEnv {
  /** API URLs of the nodes that may be up, by node id. */
  apiUrls(): Array<{ node: string; url: string }>;
  nowMs(): number;
  record(op: OpRecord): void;
  /** False once the run is stopping: loops end. */
  running(): boolean;
  /** How requests are sent (a TLS run: HTTPS trusting the cluster CA); default the global fetch. */
  fetch?: typeof fetch;
}

export interface OpSpec {
  op: OpKind;
  lock: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** Total time for all attempts. */
  deadlineMs: number;
  attemptTimeoutMs: number;
  /** Reads and keepalives need no key. */
  idempotent?: boolean;
  /** Filled into the record. */
  extra?: Partial<OpRecord>;
  /** Op-specific fields from a 2xx answer's body (token, acquired, holders). */
  interpret?: (body: any) => Partial<OpRecord>;
  /** Op-specific fields from a definite refusal's body (a lock set release's 409 names the holds that did not hold). */
  interpretRefusal?: (body: any) => Partial<OpRecord>;
}

export interface OpOutcome {
  record: OpRecord;
  /** The final answer, if any. */
  answer: Extract<Attempt, { kind: 'answer' }> | null;
  /** The key used, for a later resolution of an unknown op. */
  idempotencyKey: string | null;
}

/**
 * http-api.md keeps an Idempotency-Key's outcome "within at least 10
 * minutes"; asking again later may run the command anew. A margin keeps
 * clock and queueing slack on the safe side.
 */
export const IDEMPOTENCY_REPLAY_WINDOW_MS = 9 * 60_000;

export class ChaosClient {
  private seq = 0;
  /** Ops left unknown, to be asked again with the same key once faults heal. */
  readonly unresolved: Array<{ spec: OpSpec; key: string; record: OpRecord }> = [];
  constructor(
    readonly name: string,
    private readonly runId: string,
    private readonly env: ClientEnv,
    private readonly prng: Prng,
  ) {}

  /** Run one op with retries; the caller fills in op-specific fields from the answer and records it. */
  async run(spec: OpSpec): Promise<OpOutcome> {
    const key = spec.idempotent ? null : `${this.runId}-${this.name}-${++this.seq}`;
    const invokeMs = this.env.nowMs();
    const endMs = invokeMs + spec.deadlineMs;
    let ambiguous = false;
    let attempts = 0;
    let last: Attempt | null = null;
    let node = '';
    for (;;) {
      const targets = this.env.apiUrls();
      const target = this.prng.pick(targets);
      node = target.node;
      attempts += 1;
      last = await attempt(spec.method, target.url + spec.path, spec.body, {
        // Whole milliseconds: AbortSignal.timeout throws RangeError on a fraction.
        timeoutMs: Math.floor(Math.max(100, Math.min(spec.attemptTimeoutMs, endMs - this.env.nowMs()))),
        idempotencyKey: key ?? undefined,
        through: this.env.fetch,
      });
      const code = errorCode(last);
      if (last.kind === 'answer' && (code === null || DEFINITE_FAILS.has(code))) break;
      if (!(last.kind === 'answer' && code !== null && RETRY_NOT_APPLIED.has(code))) ambiguous = true;
      if (this.env.nowMs() + RETRY_BACKOFF_MS >= endMs || !this.env.running()) break;
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
    }
    const completeMs = this.env.nowMs();
    const answer = last.kind === 'answer' ? last : null;
    const code = errorCode(last);
    let result: OpRecord['result'];
    if (answer && code === null) result = 'ok';
    else if (answer && DEFINITE_FAILS.has(code!)) result = 'fail';
    else if (!ambiguous) result = 'fail';
    else result = spec.idempotent ? 'fail' : 'unknown';
    const record: OpRecord = {
      process: this.name,
      op: spec.op,
      lock: spec.lock,
      invokeMs,
      completeMs: result === 'unknown' ? Infinity : completeMs,
      node: answer?.node ?? node,
      result,
      attempts,
      ...(answer?.index != null ? { index: answer.index } : {}),
      ...(code ? { error: code } : last.kind === 'no-answer' ? { error: last.error } : {}),
      ...spec.extra,
      ...(result === 'ok' && answer && spec.interpret ? spec.interpret(answer.body) : {}),
      ...(result === 'fail' && answer && code !== null && spec.interpretRefusal ? spec.interpretRefusal(answer.body) : {}),
    };
    this.env.record(record);
    if (result === 'unknown' && key) this.unresolved.push({ spec, key, record });
    return { record, answer, idempotencyKey: key };
  }

  /**
   * Ask again, with the same Idempotency-Key, about every op left unknown:
   * the server answers the first outcome (or executes it now, if it never
   * ran), so the op gets a definite result and a (late) completion time.
   * The record is updated in place; its invocation time stays.
   */
  async resolveUnknowns(deadlineMs: number): Promise<number> {
    let resolved = 0;
    for (const u of this.unresolved.splice(0)) {
      // Past the contract's idempotency window a re-ask may execute afresh
      // and its answer says nothing about the first attempt (which may have
      // applied): the op stays unknown (30-minute run, seed 20261122).
      if (this.env.nowMs() - u.record.invokeMs > IDEMPOTENCY_REPLAY_WINDOW_MS) continue;
      for (const target of this.prng.shuffle(this.env.apiUrls())) {
        if (this.env.nowMs() >= deadlineMs) break;
        const a = await attempt(u.spec.method, target.url + u.spec.path, u.spec.body, { timeoutMs: u.spec.attemptTimeoutMs, idempotencyKey: u.key, through: this.env.fetch });
        const code = errorCode(a);
        if (a.kind !== 'answer' || (code !== null && !DEFINITE_FAILS.has(code))) continue;
        Object.assign(u.record, {
          completeMs: this.env.nowMs(),
          node: a.node ?? target.node,
          result: code === null ? 'ok' : 'fail',
          attempts: (u.record.attempts ?? 1) + 1,
          resolvedLate: true,
          ...(code ? { error: code } : { error: undefined }),
          ...(a.index != null ? { index: a.index } : {}),
          ...(code === null && u.spec.interpret ? u.spec.interpret(a.body) : {}),
          ...(code !== null && u.spec.interpretRefusal ? u.spec.interpretRefusal(a.body) : {}),
        });
        resolved += 1;
        break;
      }
    }
    return resolved;
  }
}
