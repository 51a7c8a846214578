// The console's list refresh (console/js/views/refresh.js, a browser module
// without DOM needs, so it runs here): it loads when the applied index moves,
// never two loads at once, and waits after each load at least REFRESH_MS or
// WAIT_PER_LOAD times the load's own duration — so a slow list (100,000
// locks) is asked for less often. Fake timers: no sleeping.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Refresher = { now(): void; due(msLeft: number | null): void; stop(): void };
type Module = { refresher(ctx: unknown, load: () => Promise<void>, now?: () => number): Refresher; REFRESH_MS: number; WAIT_PER_LOAD: number; DUE_MIN_MS: number };
const { refresher, REFRESH_MS, WAIT_PER_LOAD, DUE_MIN_MS } = (await import(new URL('../../console/js/views/refresh.js', import.meta.url).href)) as Module;

let listener: (cluster: { appliedIndex: number }) => void;
const ctx = { onCluster: (l: typeof listener) => ((listener = l), () => undefined) };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A load that takes `ms` of (fake) time, counting how many run at once. */
function loads(ms: number) {
  const record = { started: 0, running: 0, maxRunning: 0 };
  const load = async () => {
    record.started += 1;
    record.running += 1;
    record.maxRunning = Math.max(record.maxRunning, record.running);
    await new Promise((resolve) => setTimeout(resolve, ms));
    record.running -= 1;
  };
  return { record, load };
}

describe('the console refresher', () => {
  it('loads on a new applied index, not on the same one again (the first one seen is the view\'s own first load)', async () => {
    const { record, load } = loads(10);
    const r = refresher(ctx, load);
    listener({ appliedIndex: 4 });
    await vi.advanceTimersByTimeAsync(10 * REFRESH_MS);
    expect(record.started).toBe(0);
    listener({ appliedIndex: 5 });
    await vi.advanceTimersByTimeAsync(10);
    listener({ appliedIndex: 5 });
    await vi.advanceTimersByTimeAsync(10 * REFRESH_MS);
    expect(record.started).toBe(1);
    listener({ appliedIndex: 6 });
    await vi.advanceTimersByTimeAsync(10);
    expect(record.started).toBe(2);
    r.stop();
  });

  it('never runs two loads at once, and folds changes during a load into one more', async () => {
    const { record, load } = loads(100);
    const r = refresher(ctx, load);
    for (let index = 1; index <= 20; index++) {
      listener({ appliedIndex: index });
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    expect(record.maxRunning).toBe(1);
    expect(record.started).toBe(2);
    r.stop();
  });

  it('spaces loads by REFRESH_MS, or by WAIT_PER_LOAD times a slow load', async () => {
    for (const loadMs of [10, 400]) {
      const { record, load } = loads(loadMs);
      const r = refresher(ctx, load);
      const gapMs = Math.max(REFRESH_MS, WAIT_PER_LOAD * loadMs);
      const windowMs = 10 * (loadMs + gapMs);
      // The index moves every 5 ms for the whole window.
      for (let t = 0; t < windowMs; t += 5) {
        listener({ appliedIndex: 1_000 * loadMs + t });
        await vi.advanceTimersByTimeAsync(5);
      }
      expect(record.started, `load of ${loadMs} ms`).toBeLessThanOrEqual(11);
      expect(record.started, `load of ${loadMs} ms`).toBeGreaterThanOrEqual(9);
      r.stop();
    }
  });

  it('loads at once when asked (a new page or filter); a slow asked load does not delay the next change; nothing after stop()', async () => {
    const { record, load } = loads(10);
    const r = refresher(ctx, load);
    r.now();
    await vi.advanceTimersByTimeAsync(20);
    r.now();
    await vi.advanceTimersByTimeAsync(20);
    expect(record.started).toBe(2);
    const slow = loads(1_000);
    const s = refresher(ctx, slow.load);
    listener({ appliedIndex: 50 });
    s.now();
    await vi.advanceTimersByTimeAsync(1_000);
    listener({ appliedIndex: 51 });
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(slow.record.started).toBe(2);
    s.stop();
    r.stop();
    listener({ appliedIndex: 99 });
    r.now();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(record.started).toBe(2);
  });

  it('loads again when what the view shows runs out, with no index change (a keepalive is no log entry)', async () => {
    const { record, load } = loads(10);
    const r = refresher(ctx, load);
    listener({ appliedIndex: 7 });
    r.now();
    await vi.advanceTimersByTimeAsync(20);
    expect(record.started).toBe(1);
    // A session shown with 5 s left: nothing moves the index, the page asks again once they have passed.
    r.due(5_000);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(record.started).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(record.started).toBe(2);
    // A later due replaces the earlier one; null cancels it; a deadline already passed waits DUE_MIN_MS (no tight loop).
    r.due(3_000);
    r.due(8_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(record.started).toBe(2);
    r.due(null);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(record.started).toBe(2);
    r.due(0);
    await vi.advanceTimersByTimeAsync(DUE_MIN_MS - 50);
    expect(record.started).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(record.started).toBe(3);
    r.due(1_000);
    r.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(record.started).toBe(3);
  });
});
