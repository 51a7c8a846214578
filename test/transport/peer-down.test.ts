// The transport's peer-down hint over real loopback sockets: a peer whose
// process is gone (its sockets closed, nothing listens at its address) is
// reported down at once; a connection that merely dropped (the peer still
// listens) is redialed and never reported. Ports 16300-16319 (16500-16599 are forward.test.ts's).
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy, NO_FAULT } from '../../src/chaos/net/link-proxy.js';
import { Prng } from '../../src/chaos/prng.js';
import { beat, startNode, type Node } from './helpers.js';

const WAIT = { timeout: 10_000, interval: 10 };
const started: Node[] = [];
const proxies: LinkProxy[] = [];

afterEach(async () => {
  for (const n of started.splice(0)) await n.transport.close();
  for (const p of proxies.splice(0)) await p.close();
});

async function node(...args: Parameters<typeof startNode>): Promise<Node> {
  const n = await startNode(...args);
  started.push(n);
  return n;
}

describe('TcpTransport peer-down hint', () => {
  it('reports a peer down once its connection closed and a redial was refused (its process is gone)', async () => {
    const a = await node('a', 16301, { b: 16302 });
    const b = await node('b', 16302, { a: 16301 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    expect(a.down).toEqual([]);
    // What a kill -9 does to the peer: its listener and every connection close at once.
    await b.transport.close();
    await expect.poll(() => a.down, WAIT).toEqual(['b']);
    expect(a.logs.some((l) => l.msg === 'connection to peer closed and a new one was refused: reporting it down' && l.peer === 'b')).toBe(true);
  });

  it('never reports a peer that still listens: a dropped connection is redialed and carries on', async () => {
    const b = await node('b', 16312, { a: 16311 });
    // a reaches b through a proxy that can drop a's connections while b stays up.
    const proxy = new LinkProxy('a', 'b', 16313, 16312, new Prng(1));
    proxies.push(proxy);
    await proxy.start();
    const a = await node('a', 16311, { b: 16313 });
    a.transport.send([beat('a', 'b', 1)]);
    await expect.poll(() => b.received.length, WAIT).toBe(1);
    for (let drop = 1; drop <= 3; drop++) {
      const accepted = proxy.connectionsAccepted;
      // Ending a delay closes the proxy's open connections (link-proxy.ts): a connection reset under a live peer.
      proxy.set({ ...NO_FAULT, delayMs: 1 });
      proxy.heal();
      await expect.poll(() => proxy.connectionsAccepted, WAIT).toBeGreaterThan(accepted);
      a.transport.send([beat('a', 'b', drop + 1)]);
      await expect.poll(() => b.received.length, WAIT).toBe(drop + 1);
    }
    expect(a.unreachable).toContain('b');
    expect(a.down).toEqual([]);
  });
});
