// The node's and the server's only time source: what time it is and every
// timer. Leases are judged by the leader's MONOTONIC clock (http-api.md
// "Time"); the wall clock is for display and the age of idempotency records
// only. All of it sits behind one interface so that tests use a manual clock
// (time and timers move when the test says) and the chaos suite can inject
// jumps and skew into a real process through a file (LOCKSTEP_FAULT_CLOCK_FILE).
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic clock with an arbitrary origin; never jumps unless a fault is injected. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch. */
  wallMs(): number;
  /** Run `fn` once after `ms`. A timer never keeps the process alive (its sockets do). */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Run `fn` every `ms` until cancelled. It never keeps the process alive either. */
  setRepeating(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setRepeating: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface ManualTimer {
  atMs: number;
  everyMs: number | null;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to (tests): advance() moves time and fires the timers due, in order. */
export class ManualClock implements Clock {
  private timers: ManualTimer[] = [];
  private seq = 0;

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
  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }
  setRepeating(fn: () => void, ms: number): TimerHandle {
    if (!(ms > 0)) throw new Error(`ManualClock.setRepeating: ms must be > 0, got ${ms}`);
    return this.add(fn, ms, ms);
  }
  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** Move both clocks forward by `ms`, firing every timer that falls due on the way (at its own time). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.monotonicNowMs + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let due: ManualTimer | null = null;
      for (const t of this.timers) if (t.atMs <= target && (!due || t.atMs < due.atMs || (t.atMs === due.atMs && t.seq < due.seq))) due = t;
      if (!due) break;
      this.moveTo(due.atMs);
      if (due.everyMs === null) due.cancelled = true;
      else {
        due.atMs += due.everyMs;
        due.seq = this.seq++;
      }
      due.fn();
    }
    this.moveTo(target);
  }
  private moveTo(atMs: number): void {
    this.wallNowMs += atMs - this.monotonicNowMs;
    this.monotonicNowMs = atMs;
  }
  private add(fn: () => void, ms: number, everyMs: number | null): TimerHandle {
    const t: ManualTimer = { atMs: this.monotonicNowMs + Math.max(0, ms), everyMs, seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
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

  // Timers run on the real clock: a fault skews what time it is, not how long a timeout waits.
  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.real.setTimer(fn, ms);
  }

  setRepeating(fn: () => void, ms: number): TimerHandle {
    return this.real.setRepeating(fn, ms);
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
