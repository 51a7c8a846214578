// Ticks follow the clock, not the timer: a stalled event loop catches up (so a
// paused leader notices it lost quorum contact, docs/safety.md #9/#13), within
// bounds; a clock that runs backwards never freezes the node.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/node/clock.js';
import { Ticker } from '../../src/node/ticker.js';

function make(maxCatchUp = 10) {
  const clock = new ManualClock(1000, 0);
  const seen: number[] = [];
  const ticker = new Ticker(clock, 50, maxCatchUp, (n) => seen.push(n));
  return { clock, ticker, seen };
}

describe('Ticker', () => {
  it('delivers one tick per elapsed tick interval and keeps the remainder', () => {
    const { clock, ticker, seen } = make();
    clock.advance(49);
    expect(ticker.fire()).toBe(0);
    clock.advance(1);
    expect(ticker.fire()).toBe(1);
    clock.advance(75);
    expect(ticker.fire()).toBe(1);
    clock.advance(25); // the 25 ms left over from before count
    expect(ticker.fire()).toBe(1);
    expect(seen).toEqual([1, 1, 1]);
  });

  it('catches up after a stall, at most maxCatchUpTicks at once', () => {
    const { clock, ticker } = make(10);
    clock.advance(300);
    expect(ticker.fire()).toBe(6);
    clock.advance(60_000);
    expect(ticker.fire()).toBe(10);
    clock.advance(50);
    expect(ticker.fire()).toBe(1);
  });

  it('ticks once and re-bases when the clock runs backwards', () => {
    const clock = new ManualClock(10_000, 0);
    const ticker = new Ticker(clock, 50, 10, () => {});
    const back = { monotonicMs: () => 5_000, wallMs: () => 0 };
    Object.assign(clock, { monotonicMs: back.monotonicMs });
    expect(ticker.fire()).toBe(1);
    expect(ticker.fire()).toBe(0);
  });

  it('rejects nonsense configuration', () => {
    expect(() => new Ticker(new ManualClock(), 0, 1, () => {})).toThrow();
    expect(() => new Ticker(new ManualClock(), 10, 0, () => {})).toThrow();
  });
});
