import { afterEach, describe, expect, it, vi } from 'vitest';
import { atTurnEnd } from '../src/turn-end.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('atTurnEnd', () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs every 'send' step of the turn before every 'sync' step, whatever the order they came in", async () => {
    const ran: string[] = [];
    atTurnEnd('sync', () => ran.push('sync 1'));
    atTurnEnd('send', () => ran.push('send 1'));
    atTurnEnd('sync', () => ran.push('sync 2'));
    atTurnEnd('send', () => ran.push('send 2'));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(['send 1', 'send 2', 'sync 1', 'sync 2']);
  });

  it('runs before a setImmediate scheduled after its first step, in one immediate', async () => {
    const ran: string[] = [];
    atTurnEnd('sync', () => ran.push('sync'));
    setImmediate(() => ran.push('later immediate'));
    atTurnEnd('send', () => ran.push('send'));
    await nextTurn();
    await nextTurn();
    expect(ran).toEqual(['send', 'sync', 'later immediate']);
  });

  it("puts a step added while a turn's end runs into the next turn's end", async () => {
    const ran: string[] = [];
    atTurnEnd('send', () => {
      ran.push('send');
      atTurnEnd('send', () => ran.push('send added by send'));
    });
    atTurnEnd('sync', () => ran.push('sync'));
    await nextTurn();
    expect(ran).toEqual(['send', 'sync']);
    await nextTurn();
    expect(ran).toEqual(['send', 'sync', 'send added by send']);
  });

  it('runs the other steps when one throws, and rethrows its error on its own', async () => {
    const ran: string[] = [];
    const thrown: unknown[] = [];
    // The rethrow is an uncaught error (as from its own setImmediate): catch it here.
    const original = globalThis.queueMicrotask;
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) =>
      original(() => {
        try {
          task();
        } catch (err) {
          thrown.push(err);
        }
      }),
    );
    atTurnEnd('send', () => {
      throw new Error('socket write failed');
    });
    atTurnEnd('send', () => ran.push('send 2'));
    atTurnEnd('sync', () => ran.push('sync'));
    await nextTurn();
    expect(ran).toEqual(['send 2', 'sync']);
    expect(thrown).toEqual([new Error('socket write failed')]);
  });
});
