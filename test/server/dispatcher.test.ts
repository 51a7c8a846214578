// The dispatcher (src/server/dispatcher.ts): LockMachine.apply returns its
// events and one dispatcher hands them to the lease table, the wait registry
// and the watch streams. A consumer that throws is a bug: logged at error
// with the entry index, counted, and the request it concerns answers 500
// internal; the entry's other consumers and later entries go on as usual.
// The throwing consumers here are planted with vi.spyOn.

import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LockEvent } from '../../src/locks/commands.js';
import { encodeProposal } from '../../src/locks/codec.js';
import { LockMachine } from '../../src/locks/machine.js';
import { logIndex, term } from '../../src/raft/types.js';
import { CONSUMER_ERRORS_METRIC, EventDispatcher, type EventConsumers } from '../../src/server/dispatcher.js';
import { Registry } from 'prom-client';
import { flush, type Harness, makeHarness } from './harness.js';
import { SseReader } from './net.js';

interface LogLine {
  level: number;
  msg: string;
  index?: number;
  consumer?: string;
  event?: string;
}

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const ERROR_LEVEL = 50;

async function consumerErrors(registry: Registry, consumer: string): Promise<number> {
  const metric = await registry.getSingleMetric(CONSUMER_ERRORS_METRIC)?.get();
  return metric?.values.find((v) => v.labels.consumer === consumer)?.value ?? 0;
}

function entry(index: number, command: Parameters<typeof encodeProposal>[0]['command']) {
  return { index: logIndex(index), term: term(1), data: encodeProposal({ command, nowMs: 1_000, idempotency: null }) };
}

describe('EventDispatcher with fake consumers', () => {
  function setup() {
    const seen: Record<'leases' | 'waits' | 'watches', LockEvent['type'][]> = { leases: [], waits: [], watches: [] };
    const failed: string[] = [];
    const consumers: EventConsumers = {
      leases: { consume: (e) => void seen.leases.push(e.type) },
      waits: { consume: (e) => void seen.waits.push(e.type), fail: (waitId) => void failed.push(waitId) },
      watches: { publish: (e) => void seen.watches.push(e.type) },
    };
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const dispatcher = new EventDispatcher(new LockMachine());
    const disconnect = dispatcher.connect(consumers, logger, registry);
    return { dispatcher, consumers, seen, failed, lines, registry, disconnect };
  }

  it('hands every event of an entry, in order, to each consumer, and returns the machine output unchanged', () => {
    const { dispatcher, seen } = setup();
    const out = dispatcher.apply(entry(1, { type: 'session.create', sessionId: 's', ttlMs: 5_000, name: '', lockDelayMs: 0 }));
    expect(out.result).toEqual({ kind: 'done', outcome: { status: 201, body: { sessionId: 's', ttlMs: 5_000, lockDelayMs: 0, name: '' } } });
    expect(out.events.map((e) => e.type)).toEqual(['session.created']);
    for (const consumer of ['leases', 'waits', 'watches'] as const) expect(seen[consumer]).toEqual(['session.created']);
  });

  it('a throwing lease consumer fails the proposer with 500 internal, is logged with the index and counted, and nothing else stops', async () => {
    const { dispatcher, consumers, seen, lines, registry } = setup();
    const spy = vi.spyOn(consumers.leases, 'consume').mockImplementationOnce(() => {
      throw new Error('planted lease bug');
    });
    const out = dispatcher.apply(entry(1, { type: 'session.create', sessionId: 's', ttlMs: 5_000, name: '', lockDelayMs: 0 }));
    expect(out.result.kind).toBe('done');
    expect(out.result.kind === 'done' && out.result.outcome.status).toBe(500);
    expect(out.result.kind === 'done' && (out.result.outcome.body as { error: { code: string } }).error.code).toBe('internal');
    // The entry was applied; its other consumers still got the event.
    expect(dispatcher.appliedIndex()).toBe(1);
    expect(seen.waits).toEqual(['session.created']);
    expect(seen.watches).toEqual(['session.created']);
    const logged = lines.filter((l) => l.level === ERROR_LEVEL);
    expect(logged).toEqual([expect.objectContaining({ index: 1, consumer: 'leases', event: 'session.created' })]);
    expect(await consumerErrors(registry, 'leases')).toBe(1);
    // The next entry applies and answers normally.
    spy.mockRestore();
    const next = dispatcher.apply(entry(2, { type: 'session.delete', sessionId: 's' }));
    expect(next.result.kind === 'done' && next.result.outcome.status).toBe(200);
    expect(seen.leases).toEqual(['session.ended']);
  });

  it('a throwing wait consumer fails that wait (not the proposer); a throwing watch hub fails nobody else', async () => {
    const { dispatcher, consumers, failed, lines, registry } = setup();
    dispatcher.apply(entry(1, { type: 'lock.acquire', name: 'x', sessionId: null, ttlMs: 5_000, waitMs: 0, waitId: null, mode: 'exclusive', limit: 1, owner: null, value: null }));
    dispatcher.apply(entry(2, { type: 'lock.acquire', name: 'x', sessionId: null, ttlMs: 5_000, waitMs: 9_000, waitId: 'w', mode: 'exclusive', limit: 1, owner: null, value: null }));
    vi.spyOn(consumers.waits, 'consume').mockImplementation((e) => {
      if (e.type === 'wait.resolved') throw new Error('planted wait bug');
    });
    vi.spyOn(consumers.watches, 'publish').mockImplementation(() => {
      throw new Error('planted hub bug');
    });
    const out = dispatcher.apply(entry(3, { type: 'lock.release', name: 'x', fencingToken: 1 }));
    expect(out.result).toEqual({ kind: 'done', outcome: { status: 200, body: { released: true } } });
    expect(failed).toEqual(['w']);
    expect(dispatcher.machine.getLock('x').holders.map((h) => h.fencingToken)).toEqual([3]);
    expect(await consumerErrors(registry, 'waits')).toBe(1);
    expect(await consumerErrors(registry, 'watches')).toBe(out.events.length);
    expect(lines.filter((l) => l.level === ERROR_LEVEL && l.consumer === 'waits')).toEqual([expect.objectContaining({ index: 3, event: 'wait.resolved' })]);
  });

  it('after disconnect, events reach nobody', () => {
    const { dispatcher, seen, disconnect } = setup();
    disconnect();
    dispatcher.apply(entry(1, { type: 'session.create', sessionId: 's', ttlMs: 5_000, name: '', lockDelayMs: 0 }));
    expect(seen).toEqual({ leases: [], waits: [], watches: [] });
  });
});

describe('a consumer bug through the HTTP server', () => {
  let h: Harness;
  let lines: LogLine[];
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
  });

  async function start(): Promise<void> {
    const captured = capturingLogger();
    lines = captured.lines;
    h = await makeHarness({ logger: captured.logger });
  }

  it('lease table: the acquire that hit it answers 500 internal; the next request is served', async () => {
    await start();
    vi.spyOn(h.server.services.leases, 'consume').mockImplementationOnce(() => {
      throw new Error('planted lease bug');
    });
    const failed = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 });
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe('internal');
    expect(lines.filter((l) => l.level === ERROR_LEVEL)).toEqual([expect.objectContaining({ index: 1, consumer: 'leases', event: 'acquired' })]);
    expect((await h.call('GET', '/metrics')).body).toMatch(/lockstep_apply_consumer_errors_total\{consumer="leases"\} 1/);
    // The command itself was applied, and later ones are too.
    expect((await h.call('GET', '/v1/locks/a')).body.holders).toHaveLength(1);
    const next = await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 });
    expect(next.status).toBe(200);
    expect(next.body.acquired).toBe(true);
  });

  it('wait registry: the waiting acquire answers 500 internal, the release that granted it 200', async () => {
    await start();
    const first = await h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000 });
    const waiting = h.call('POST', '/v1/locks/q/acquire', { ttlMs: 5_000, waitMs: 60_000 });
    await flush();
    vi.spyOn(h.server.services.locks.waits, 'consume').mockImplementation((e) => {
      if (e.type === 'wait.resolved') throw new Error('planted wait bug');
    });
    const released = await h.call('POST', '/v1/locks/q/release', { fencingToken: first.body.fencingToken });
    expect(released.status).toBe(200);
    const answer = await waiting;
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('internal');
    expect(lines.filter((l) => l.level === ERROR_LEVEL)).toEqual([expect.objectContaining({ index: 3, consumer: 'waits', event: 'wait.resolved' })]);
    expect((await h.call('GET', '/metrics')).body).toMatch(/lockstep_apply_consumer_errors_total\{consumer="waits"\} 1/);
  }, 10_000);

  it('watch hub: the stream that threw ends with an error event; another stream gets the event', async () => {
    await start();
    await h.server.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
    const open = async () => {
      const response = await fetch(`${url}/v1/locks/w/watch`);
      const reader = new SseReader(response.body!.getReader());
      expect((await reader.next()).event).toBe('state');
      return reader;
    };
    const broken = await open();
    const healthy = await open();
    const hub = h.server.services.watches as unknown as { streams: Set<{ deliver(event: LockEvent): void }> };
    const [firstStream] = hub.streams;
    firstStream.deliver = () => {
      throw new Error('planted stream bug');
    };
    const acquired = await h.call('POST', '/v1/locks/w/acquire', { ttlMs: 5_000 });
    expect(acquired.status).toBe(200);
    const error = await broken.next();
    expect(error.event).toBe('error');
    expect(error.data.error.code).toBe('internal');
    await expect(broken.next()).rejects.toThrow(/ended/);
    expect((await healthy.next()).event).toBe('acquired');
    expect(lines.filter((l) => l.level === ERROR_LEVEL)).toEqual([expect.objectContaining({ index: 1, consumer: 'watches', event: 'acquired' })]);
    await healthy.cancel();
  }, 10_000);
});
