// When could a lease of ttlMs that began at real time aMs have ended, at the
// earliest, as some node's clock measured it? With no clock faults that is
// aMs + ttlMs. The clock nemesis makes clocks jump and run fast
// (src/node/clock.ts, LOCKSTEP_FAULT_CLOCK_FILE), and a leader judges TTLs by
// its own clock (http-api.md "Time"), so a lease legitimately ends sooner in
// real time; the checkers must not call that a violation. The bound is
// conservative: forward jumps count in full, backward jumps and slow clocks
// not at all, and every segment is widened by the node's file poll interval.
import type { ClockSegment } from '../history.js';

/** The node re-reads the fault file every 100 ms (FAULT_CLOCK_POLL_MS); allow for it and for scheduling. */
export const CLOCK_SEGMENT_SLACK_MS = 250;
/** Timer and tick granularity between the runner's clock and the leader's. */
export const LEASE_TOLERANCE_MS = 100;

export type EarliestEnd = (startMs: number, ttlMs: number) => number;

export function earliestLeaseEnd(segments: readonly ClockSegment[]): EarliestEnd {
  const byNode = new Map<string, ClockSegment[]>();
  for (const s of segments) {
    if (!(s.toMs >= s.fromMs)) throw new Error(`clock-bound: segment ends before it starts: ${JSON.stringify(s)}`);
    const list = byNode.get(s.node) ?? [];
    list.push(s);
    byNode.set(s.node, list);
  }
  for (const list of byNode.values()) list.sort((a, b) => a.fromMs - b.fromMs);
  return (startMs, ttlMs) => {
    const need = Math.max(0, ttlMs - LEASE_TOLERANCE_MS);
    let earliest = startMs + need;
    for (const list of byNode.values()) earliest = Math.min(earliest, endOnNode(list, startMs, need));
    return earliest;
  };
}

function endOnNode(list: readonly ClockSegment[], startMs: number, need: number): number {
  let t = startMs;
  let measured = 0;
  for (const s of list) {
    const from = Math.max(t, s.fromMs - CLOCK_SEGMENT_SLACK_MS);
    const to = s.toMs + CLOCK_SEGMENT_SLACK_MS;
    if (to <= t) continue;
    if (from > t) {
      if (measured + (from - t) >= need) return t + (need - measured);
      measured += from - t;
      t = from;
    }
    if (s.fromMs + CLOCK_SEGMENT_SLACK_MS >= startMs) measured += Math.max(0, s.jumpMs);
    if (measured >= need) return t;
    const rate = Math.max(1, s.rate);
    if (measured + (to - t) * rate >= need) return t + (need - measured) / rate;
    measured += (to - t) * rate;
    t = to;
  }
  return t + (need - measured);
}
