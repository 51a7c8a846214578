// Maps the node's monotonic clock onto Raft ticks. A timer fires every tickMs,
// but the number of ticks is what the CLOCK says elapsed, not how many times
// the timer fired: after an event-loop stall the leader must notice that it
// has not heard from a quorum for that long (check-quorum, docs/safety.md
// #9 and #13) rather than believe its lease is still fresh. A clock that jumps
// forward delivers at most maxCatchUpTicks at once; a clock that runs
// backwards (a fault) re-bases and ticks once, so the node never freezes.
import type { Clock, TimerHandle } from './clock.js';

export class Ticker {
  private timer: TimerHandle | null = null;
  private lastTickAtMs: number;

  constructor(
    private readonly clock: Clock,
    readonly tickMs: number,
    private readonly maxCatchUpTicks: number,
    private readonly onTicks: (ticks: number) => void,
  ) {
    if (!(tickMs > 0)) throw new Error(`tickMs must be > 0, got ${tickMs}`);
    if (!(maxCatchUpTicks >= 1)) throw new Error(`maxCatchUpTicks must be >= 1, got ${maxCatchUpTicks}`);
    this.lastTickAtMs = clock.monotonicMs();
  }

  start(): void {
    if (this.timer) return;
    this.lastTickAtMs = this.clock.monotonicMs();
    this.timer = this.clock.setRepeating(() => this.fire(), this.tickMs);
  }

  /** Called by the timer; tests call it with a ManualClock. Returns the ticks delivered. */
  fire(): number {
    const now = this.clock.monotonicMs();
    const elapsedMs = now - this.lastTickAtMs;
    let ticks: number;
    if (elapsedMs < 0) {
      ticks = 1;
      this.lastTickAtMs = now;
    } else {
      ticks = Math.floor(elapsedMs / this.tickMs);
      if (ticks > this.maxCatchUpTicks) {
        ticks = this.maxCatchUpTicks;
        this.lastTickAtMs = now;
      } else {
        this.lastTickAtMs += ticks * this.tickMs;
      }
    }
    if (ticks > 0) this.onTicks(ticks);
    return ticks;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
