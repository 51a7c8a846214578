// The clock nemesis's hand on each node: writes the node's
// LOCKSTEP_FAULT_CLOCK_FILE (src/node/clock.ts) and remembers every segment
// for the checkers (clock-bound.ts). The node's clock reads
//   (real time at change) + offsetMs + (real elapsed since change) * rate,
// and contents do not accumulate, so to keep a node's clock continuous when
// a skew ends, the drift it built up is carried into the next offsetMs: a
// heal never jumps the clock, only a 'jump' fault does.
import { writeFileSync } from 'node:fs';
import type { ClockSegment } from '../history.js';

export class ClockFaults {
  /** Per node: the offset (ms) of its clock from real time as of the last change, and the current rate. */
  private readonly state = new Map<string, { driftMs: number; rate: number; sinceMs: number; file: string }>();
  readonly segments: ClockSegment[] = [];
  private readonly open = new Map<string, ClockSegment>();

  constructor(private readonly nowMs: () => number) {}

  register(node: string, file: string): void {
    this.state.set(node, { driftMs: 0, rate: 1, sinceMs: this.nowMs(), file });
    writeFileSync(file, JSON.stringify({ offsetMs: 0, rate: 1 }));
  }

  private change(node: string, jumpMs: number, rate: number): void {
    const s = this.state.get(node);
    if (!s) throw new Error(`ClockFaults: unknown node ${node}`);
    const now = this.nowMs();
    s.driftMs += (now - s.sinceMs) * (s.rate - 1) + jumpMs;
    s.rate = rate;
    s.sinceMs = now;
    const prev = this.open.get(node);
    if (prev) {
      prev.toMs = now;
      this.open.delete(node);
    }
    if (jumpMs !== 0 || rate !== 1) {
      const seg: ClockSegment = { node, fromMs: now, toMs: Infinity, rate, jumpMs };
      this.segments.push(seg);
      this.open.set(node, seg);
    }
    writeFileSync(s.file, JSON.stringify({ offsetMs: Math.round(s.driftMs), rate }));
  }

  jump(node: string, jumpMs: number): void {
    this.change(node, jumpMs, this.state.get(node)?.rate ?? 1);
  }

  skew(node: string, rate: number): void {
    if (!(rate > 0)) throw new Error(`ClockFaults: rate must be > 0, got ${rate}`);
    this.change(node, 0, rate);
  }

  /** Back to real speed (the accumulated offset stays: no jump). */
  heal(node: string): void {
    this.change(node, 0, 1);
  }

  healAll(): void {
    for (const node of this.state.keys()) if (this.open.has(node)) this.heal(node);
  }

  /** Segments still open end now (for the checkers at the end of the run). */
  closedSegments(): ClockSegment[] {
    const now = this.nowMs();
    return this.segments.map((s) => (Number.isFinite(s.toMs) ? s : { ...s, toMs: now }));
  }
}
