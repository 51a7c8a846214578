import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy, NO_FAULT } from '../../src/chaos/net/link-proxy.js';
import { FaultNetwork } from '../../src/chaos/net/fault-network.js';
import { Prng } from '../../src/chaos/prng.js';

// Ports 21900-21999 are this file's.
let nextPort = 21900;
const port = () => nextPort++;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function echoServer(): Promise<number> {
  const p = port();
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(p, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return p;
}

/** Connect, send `text`, resolve with what came back within waitMs (or 'closed'/'silent'). */
function roundTrip(p: number, text: string, waitMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(p, '127.0.0.1');
    let got = '';
    const done = (v: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(got || 'silent'), waitMs);
    s.on('connect', () => s.write(text));
    s.on('data', (c) => {
      got += c.toString();
      if (got === text) done(got);
    });
    s.on('close', () => done(got || 'closed'));
    s.on('error', () => {});
  });
}

async function proxyTo(target: number): Promise<LinkProxy> {
  const proxy = new LinkProxy('a', 'b', port(), target, new Prng(1));
  await proxy.start();
  closers.push(() => proxy.close());
  return proxy;
}

describe('LinkProxy', () => {
  it('forwards both directions of a connection', async () => {
    const proxy = await proxyTo(await echoServer());
    expect(await roundTrip(proxy.listenPort, 'hello')).toBe('hello');
    expect(proxy.bytesForward).toBe(5);
    expect(proxy.bytesBack).toBe(5);
  });

  it('cut (blackhole) closes open connections and swallows new ones until healed', async () => {
    const proxy = await proxyTo(await echoServer());
    const open = net.connect(proxy.listenPort, '127.0.0.1');
    await new Promise((r) => open.on('connect', r));
    const closed = new Promise((r) => open.on('close', r));
    proxy.set({ ...NO_FAULT, cut: 'blackhole' });
    await closed;
    expect(await roundTrip(proxy.listenPort, 'x')).toBe('silent');
    proxy.heal();
    expect(await roundTrip(proxy.listenPort, 'back')).toBe('back');
  });

  it('cut (refuse) closes new connections at once', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ ...NO_FAULT, cut: 'refuse' });
    expect(await roundTrip(proxy.listenPort, 'x', 2000)).toBe('closed');
  });

  it('delay holds data back but keeps it in order', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ ...NO_FAULT, delayMs: 100 });
    const start = performance.now();
    expect(await roundTrip(proxy.listenPort, 'abcdef', 3000)).toBe('abcdef');
    // Forward and back are each delayed.
    expect(performance.now() - start).toBeGreaterThanOrEqual(195);
  });

  it('drop with probability 1 resets the connection', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ ...NO_FAULT, dropProbability: 1 });
    expect(await roundTrip(proxy.listenPort, 'x', 2000)).toBe('closed');
  });
});

describe('FaultNetwork', () => {
  it('gives each node peers through its own outbound proxies, and cuts one direction only', async () => {
    const a = await echoServer();
    const b = await echoServer();
    const network = new FaultNetwork(new Prng(7), port);
    closers.push(() => network.close());
    await network.addNode({ id: 'a', peerPort: a });
    await network.addNode({ id: 'b', peerPort: b });
    expect(network.peersArg('a')).toBe(`a=127.0.0.1:${a},b=${network.proxy('a', 'b').address}`);
    network.cut([['a', 'b']]);
    expect(await roundTrip(network.proxy('a', 'b').listenPort, 'x')).toBe('silent');
    expect(await roundTrip(network.proxy('b', 'a').listenPort, 'y')).toBe('y');
    network.healAll();
    expect(await roundTrip(network.proxy('a', 'b').listenPort, 'z')).toBe('z');
  });
});
