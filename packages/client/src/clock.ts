// The SDK's only view of time, injectable so that tests drive it by hand.
// Lease arithmetic uses the MONOTONIC clock (performance.now): a wall-clock
// step (NTP, a VM resume) must not stretch a lease (docs/safety.md #18).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds; only differences mean anything. */
  nowMs(): number;
  /**
   * Call fn after ms (or later: an event-loop stall delays it). A `background`
   * timer (heartbeats, lease checks) does not keep the process alive by itself;
   * a timer that an awaited call depends on (a retry back-off) must.
   */
  setTimer(fn: () => void, ms: number, background?: boolean): TimerHandle;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  setTimer(fn, ms, background = false) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (background) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Resolves after ms on `clock`; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, background = false): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms, background);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
