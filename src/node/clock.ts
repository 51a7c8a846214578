// The node's only time source. Leases are judged by the leader's MONOTONIC
// clock (http-api.md "Time"); the wall clock is for display and the age of
// idempotency records only. Both sit behind one interface so that tests use a
// manual clock and the chaos suite can inject jumps and skew into a real
// process through a file (LOCKSTEP_FAULT_CLOCK_FILE).
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds on a monotonic clock with an arbitrary origin; never jumps unless a fault is injected. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch. */
  wallMs(): number;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  constructor(
    private monotonicNowMs = 0,
    private wallNowMs = 1_700_000_000_000,
  ) {}
  monotonicMs(): number {
    return this.monotonicNowMs;
  }
  wallMs(): number {
    return this.wallNowMs;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.monotonicNowMs += ms;
    this.wallNowMs += ms;
  }
}

export const FAULT_CLOCK_ENV = 'LOCKSTEP_FAULT_CLOCK_FILE';
/** How often the fault file is re-stat'ed. */
export const FAULT_CLOCK_POLL_MS = 100;

export interface ClockFault {
  /** Added at once when the file changes: a jump (negative jumps backwards). */
  offsetMs: number;
  /** Speed of the clock after the change: 1 is real time, 2 twice as fast, 0 frozen. */
  rate: number;
}

const NO_FAULT: ClockFault = { offsetMs: 0, rate: 1 };

function parseFault(text: string): ClockFault {
  const raw = JSON.parse(text) as Partial<ClockFault>;
  const offsetMs = raw.offsetMs ?? 0;
  const rate = raw.rate ?? 1;
  if (typeof offsetMs !== 'number' || !Number.isFinite(offsetMs)) throw new Error('offsetMs must be a finite number');
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) throw new Error('rate must be a finite number >= 0');
  return { offsetMs, rate };
}

/**
 * A clock skewed by a JSON file `{ "offsetMs": n, "rate": r }`. When the file
 * changes (seen within FAULT_CLOCK_POLL_MS), each of the two clocks reports
 *   base + offsetMs + (real time elapsed since the change) * rate
 * where base is what this clock reported at the moment of the change without
 * the old fault's offset, i.e. faults do not accumulate: each file content is
 * measured from the unfaulted timeline at the moment it was seen. A missing
 * or malformed file means no fault (the last parse error is kept for logs).
 */
export class FaultFileClock implements Clock {
  private fault: ClockFault = NO_FAULT;
  private realAtChangeMonoMs: number;
  private realAtChangeWallMs: number;
  private lastStamp = '';
  private timer: NodeJS.Timeout | null = null;
  lastError: string | null = null;

  constructor(
    readonly path: string,
    private readonly real: Clock = systemClock,
    pollMs = FAULT_CLOCK_POLL_MS,
    private readonly onChange: (fault: ClockFault, error: string | null) => void = () => {},
  ) {
    this.realAtChangeMonoMs = real.monotonicMs();
    this.realAtChangeWallMs = real.wallMs();
    this.poll();
    if (pollMs > 0) {
      this.timer = setInterval(() => this.poll(), pollMs);
      this.timer.unref();
    }
  }

  /** Re-stat the file and take a new fault if it changed. Called by the timer; tests call it directly. */
  poll(): void {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.lastStamp) return;
    this.lastStamp = stamp;
    let next = NO_FAULT;
    let error: string | null = null;
    if (stamp !== 'missing') {
      try {
        next = parseFault(readFileSync(this.path, 'utf8'));
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    this.realAtChangeMonoMs = this.real.monotonicMs();
    this.realAtChangeWallMs = this.real.wallMs();
    this.fault = next;
    this.lastError = error;
    this.onChange(next, error);
  }

  current(): ClockFault {
    return { ...this.fault };
  }

  monotonicMs(): number {
    const real = this.real.monotonicMs();
    return this.realAtChangeMonoMs + this.fault.offsetMs + (real - this.realAtChangeMonoMs) * this.fault.rate;
  }

  wallMs(): number {
    const real = this.real.monotonicMs();
    return this.realAtChangeWallMs + this.fault.offsetMs + (real - this.realAtChangeMonoMs) * this.fault.rate;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The system clock, or a FaultFileClock when $LOCKSTEP_FAULT_CLOCK_FILE is set. */
export function clockFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  onChange?: (fault: ClockFault, error: string | null) => void,
): Clock & { close(): void } {
  const path = env[FAULT_CLOCK_ENV];
  if (path) return new FaultFileClock(path, systemClock, FAULT_CLOCK_POLL_MS, onChange);
  return { ...systemClock, close: () => {} };
}
