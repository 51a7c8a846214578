// The peer network of a chaos cluster: one LinkProxy per directed link
// between nodes. Node A's --peers list names itself by its real peer
// address and every other node B by the proxy of link A→B.
import type { Prng } from '../prng.js';
import { LinkProxy, NO_FAULT, type LinkFault } from './link-proxy.js';

export interface NetNode {
  id: string;
  /** The node's real peer listen port. */
  peerPort: number;
}

export type Link = readonly [from: string, to: string];

export class FaultNetwork {
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly nodes = new Map<string, NetNode>();

  /**
   * Nodes added by a membership change: every member dials them at the one
   * peerUrl of the change, so their inbound links share one proxy. A cut of
   * links into such a node reaches that proxy only when ALL its inbound
   * links are cut (the node isolated inbound); partial cuts into it pass.
   */
  private readonly ingress = new Map<string, LinkProxy>();

  constructor(
    private readonly prng: Prng,
    /** Hands out a free port for each new proxy. */
    private readonly allocatePort: () => number,
    readonly host = '127.0.0.1',
    /** Takes back the port of a closed proxy. */
    private readonly releasePort: (port: number) => void = () => {},
  ) {}

  private static key(from: string, to: string): string {
    return `${from}->${to}`;
  }

  /** Add a node and the proxies of every link to and from it. */
  async addNode(node: NetNode): Promise<void> {
    if (this.nodes.has(node.id)) throw new Error(`FaultNetwork: node ${node.id} already present`);
    const others = [...this.nodes.values()];
    this.nodes.set(node.id, node);
    for (const other of others) {
      for (const [a, b] of [
        [node, other],
        [other, node],
      ] as const) {
        const proxy = new LinkProxy(a.id, b.id, this.allocatePort(), b.peerPort, this.prng.fork(), this.host);
        await proxy.start();
        this.proxies.set(FaultNetwork.key(a.id, b.id), proxy);
      }
    }
  }

  async removeNode(id: string): Promise<void> {
    this.nodes.delete(id);
    for (const [key, proxy] of this.proxies) {
      if (proxy.from === id || proxy.to === id) {
        await proxy.close();
        this.proxies.delete(key);
        this.releasePort(proxy.listenPort);
      }
    }
    const ing = this.ingress.get(id);
    if (ing) {
      await ing.close();
      this.ingress.delete(id);
      this.releasePort(ing.listenPort);
    }
  }

  /** The shared inbound proxy of a node added by a membership change; its address is the change's peerUrl. */
  async addIngress(id: string): Promise<LinkProxy> {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`FaultNetwork: no node ${id}`);
    const proxy = new LinkProxy('*', id, this.allocatePort(), node.peerPort, this.prng.fork(), this.host);
    await proxy.start();
    this.ingress.set(id, proxy);
    return proxy;
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  proxy(from: string, to: string): LinkProxy {
    const p = this.proxies.get(FaultNetwork.key(from, to));
    if (!p) throw new Error(`FaultNetwork: no link ${from}->${to}`);
    return p;
  }

  /** The peer address node `to` should be dialed at by `from`. */
  addressFor(from: string, to: string): string {
    if (from === to) return `${this.host}:${this.nodes.get(to)!.peerPort}`;
    return this.proxy(from, to).address;
  }

  /** `--peers` for node `self`: `id=host:port,...` through self's outbound proxies. */
  peersArg(self: string, includeSelf = true): string {
    return this.nodeIds()
      .filter((id) => includeSelf || id !== self)
      .map((id) => `${id}=${this.addressFor(self, id)}`)
      .join(',');
  }

  stats(): Array<{ link: string; connections: number; bytes: number }> {
    // Links into a joiner are unused by design: its inbound traffic takes its shared ingress proxy.
    const used = [...this.proxies.values()].filter((p) => !this.ingress.has(p.to));
    return [...used, ...this.ingress.values()].map((p) => ({ link: `${p.from}->${p.to}`, connections: p.connectionsAccepted, bytes: p.bytesForward + p.bytesBack }));
  }

  setLinks(links: readonly Link[], fault: LinkFault): void {
    for (const [from, to] of links) this.proxy(from, to).set(fault);
    for (const [id, proxy] of this.ingress) {
      const inbound = this.nodeIds().filter((x) => x !== id);
      if (inbound.length > 0 && inbound.every((x) => links.some(([a, b]) => a === x && b === id))) proxy.set(fault);
    }
  }

  cut(links: readonly Link[], style: LinkFault['cut'] = 'blackhole'): void {
    this.setLinks(links, { ...NO_FAULT, cut: style });
  }

  healAll(): void {
    for (const p of [...this.proxies.values(), ...this.ingress.values()]) if (p.current().cut !== null || p.current().delayMs > 0 || p.current().bytesPerSec > 0 || p.current().dropProbability > 0) p.heal();
  }

  async close(): Promise<void> {
    for (const p of [...this.proxies.values(), ...this.ingress.values()]) await p.close();
    this.proxies.clear();
    this.ingress.clear();
  }
}
