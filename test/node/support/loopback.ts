// An in-memory network for in-process clusters: messages are cloned and
// delivered on a later turn, like a real socket; links can be cut.
import type { Message, NodeId } from '../../../src/raft/types.js';
import type { PeerHello, Transport } from '../../../src/transport/api.js';

export class LoopbackNetwork {
  private readonly endpoints = new Map<NodeId, LoopbackTransport>();
  private readonly down = new Set<NodeId>();
  delivered = 0;

  transport(id: NodeId, apiUrl: string): LoopbackTransport {
    const t = new LoopbackTransport(this, id, apiUrl);
    this.endpoints.set(id, t);
    return t;
  }
  /** Cut a node off (both directions) or bring it back. */
  setDown(id: NodeId, isDown: boolean): void {
    if (isDown) this.down.add(id);
    else this.down.delete(id);
  }
  route(m: Message): boolean {
    if (this.down.has(m.from) || this.down.has(m.to)) return false;
    const to = this.endpoints.get(m.to);
    if (!to || to.closed || !to.started) return false;
    const copy = structuredClone(m);
    setImmediate(() => {
      if (to.closed || this.down.has(m.to) || this.down.has(m.from)) return;
      this.delivered++;
      to.receive(copy);
      if (copy.type === 'InstallSnapshot') this.endpoints.get(m.from)?.snapshotDone(m.to, true);
    });
    return true;
  }
  helloFrom(id: NodeId): PeerHello | null {
    const t = this.endpoints.get(id);
    return t ? { clusterId: 'test', nodeId: id, protocolVersion: 1, apiUrl: t.apiUrl } : null;
  }
}

export class LoopbackTransport implements Transport {
  started = false;
  closed = false;
  private onMsg: (m: Message) => void = () => {};
  private onUnreach: (to: NodeId) => void = () => {};
  private onSnap: (to: NodeId, ok: boolean) => void = () => {};
  private onHello: (h: PeerHello) => void = () => {};
  private peers = new Map<NodeId, string>();
  private greeted = new Set<NodeId>();

  constructor(
    private readonly net: LoopbackNetwork,
    readonly id: NodeId,
    readonly apiUrl: string,
  ) {}
  async start(): Promise<void> {
    this.started = true;
  }
  send(messages: Message[]): void {
    for (const m of messages) {
      if (!this.greeted.has(m.to)) {
        const hello = this.net.helloFrom(m.to);
        if (hello) {
          this.greeted.add(m.to);
          this.onHello(hello);
        }
      }
      if (!this.net.route(m)) {
        this.onUnreach(m.to);
        if (m.type === 'InstallSnapshot') this.onSnap(m.to, false);
      }
    }
  }
  receive(m: Message): void {
    this.onMsg(m);
  }
  snapshotDone(to: NodeId, ok: boolean): void {
    this.onSnap(to, ok);
  }
  onMessage(h: (m: Message) => void): void {
    this.onMsg = h;
  }
  onUnreachable(h: (to: NodeId) => void): void {
    this.onUnreach = h;
  }
  onSnapshotStatus(h: (to: NodeId, ok: boolean) => void): void {
    this.onSnap = h;
  }
  onPeerHello(h: (hello: PeerHello) => void): void {
    this.onHello = h;
  }
  setPeers(peers: Map<NodeId, string>): void {
    this.peers = new Map(peers);
  }
  knownPeers(): Map<NodeId, string> {
    return this.peers;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
