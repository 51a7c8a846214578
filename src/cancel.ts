// A request's cancellation: the client went away, a forward timed out, the
// forwarding node gave up. An AbortController would do, but it is an
// EventTarget, and making one per request was ~3% of every node's CPU under
// load (issue 12 profile: createAbortSignal, plus its listener bookkeeping),
// while nearly every request ends without anything cancelling it. A Canceller
// keeps its listeners in a plain array, and makes a real AbortSignal only for
// an API that takes nothing else (an HTTP request to the leader).

/** The side that listens. Semantics follow AbortSignal's: a listener added after the cancel never runs (check `aborted` first). */
export interface Cancel {
  readonly aborted: boolean;
  /** Why it was cancelled; undefined until then. */
  readonly reason: unknown;
  /** Runs `listener` once, when cancelled; returns what removes it. */
  onAbort(listener: (reason: unknown) => void): () => void;
  /** An AbortSignal that follows this cancellation, for APIs that take only that. */
  signal(): AbortSignal;
}

/** The side that cancels. */
export class Canceller implements Cancel {
  private cancelled = false;
  private why: unknown = undefined;
  private listeners: Array<(reason: unknown) => void> = [];
  private controller: AbortController | null = null;

  get aborted(): boolean {
    return this.cancelled;
  }

  get reason(): unknown {
    return this.why;
  }

  /** Idempotent: only the first call's reason counts, and listeners run once. */
  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.why = reason;
    const listeners = this.listeners;
    this.listeners = [];
    this.controller?.abort(reason);
    for (const listener of listeners) listener(reason);
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.cancelled) return noop;
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }
}

function noop(): void {}
