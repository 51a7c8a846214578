// Canceller: AbortController's semantics (once, first reason wins, no late
// listeners) without an EventTarget per request.
import { describe, expect, it } from 'vitest';
import { Canceller } from '../src/cancel.js';

describe('Canceller', () => {
  it('runs each listener once with the first reason; a second cancel changes nothing', () => {
    const c = new Canceller();
    const seen: unknown[] = [];
    c.onAbort((r) => seen.push(['a', r]));
    c.onAbort((r) => seen.push(['b', r]));
    expect(c.aborted).toBe(false);
    expect(c.reason).toBeUndefined();
    c.cancel('first');
    c.cancel('second');
    expect(seen).toEqual([['a', 'first'], ['b', 'first']]);
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe('first');
  });

  it('a removed listener does not run; removing twice is harmless', () => {
    const c = new Canceller();
    let ran = 0;
    const remove = c.onAbort(() => ran++);
    const kept = c.onAbort(() => ran += 10);
    remove();
    remove();
    c.cancel('x');
    expect(ran).toBe(10);
    kept();
  });

  it('a listener added after the cancel never runs (as with AbortSignal: check aborted first)', () => {
    const c = new Canceller();
    c.cancel('gone');
    let ran = false;
    c.onAbort(() => (ran = true))();
    c.cancel('again');
    expect(ran).toBe(false);
  });

  it('a listener may remove another mid-cancel: every listener present at the cancel runs', () => {
    const c = new Canceller();
    const seen: string[] = [];
    let removeB = (): void => {};
    c.onAbort(() => {
      seen.push('a');
      removeB();
    });
    removeB = c.onAbort(() => seen.push('b'));
    c.cancel('x');
    expect(seen).toEqual(['a', 'b']);
  });

  it('signal(): an AbortSignal made before the cancel aborts with its reason; one made after is aborted already', () => {
    const before = new Canceller();
    const signal = before.signal();
    expect(signal.aborted).toBe(false);
    expect(before.signal()).toBe(signal);
    before.cancel(new Error('timed out'));
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toContain('timed out');
    const after = new Canceller();
    after.cancel('late');
    expect(after.signal().aborted).toBe(true);
    expect(after.signal().reason).toBe('late');
  });
});
