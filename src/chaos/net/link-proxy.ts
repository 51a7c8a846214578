// A TCP proxy for one directed link A→B of the peer network: node A is
// given this proxy's address as B's peer address, so every connection A
// dials to B passes through here. The proxy forwards both directions of
// those connections (A's messages and B's replies on A's connection).
//
// What "one-way" means here: the transport has each node dial its peers and
// send its own messages on its own connection, so link A→B carries A's
// messages to B (and anything B writes back on that connection), and link
// B→A carries B's messages to A. Cutting only A→B leaves B able to reach A:
// A's votes, appends and heartbeats are lost, B's arrive.
//
// Faults need no root: 'cut' destroys the link's connections and blackholes
// (or refuses) new ones until healed; 'delay' holds every chunk for a time;
// 'slow' limits bytes per second; 'drop' resets a connection with some
// probability per chunk (a TCP stream cannot lose bytes in the middle
// without corrupting its framing, so loss is modelled as resets).
import net from 'node:net';
import type { Prng } from '../prng.js';

export type CutStyle = 'blackhole' | 'refuse';

export interface LinkFault {
  cut: CutStyle | null;
  delayMs: number;
  /** 0: unlimited. */
  bytesPerSec: number;
  /** Probability per chunk that the connection is reset. */
  dropProbability: number;
}

export const NO_FAULT: LinkFault = { cut: null, delayMs: 0, bytesPerSec: 0, dropProbability: 0 };
/** A blackholed connection is held this long at most before being closed, so sockets do not pile up. */
export const BLACKHOLE_HOLD_MS_MAX = 30_000;

/** Delivers chunks to a socket in order, each no earlier than its due time. */
class Pump {
  private lastDueMs = 0;
  private pending = 0;
  constructor(private readonly out: net.Socket) {}
  push(chunk: Buffer, fault: LinkFault): void {
    const now = performance.now();
    let due = Math.max(now + fault.delayMs, this.lastDueMs);
    if (fault.bytesPerSec > 0) due = Math.max(due, this.lastDueMs) + (chunk.length * 1000) / fault.bytesPerSec;
    this.lastDueMs = due;
    if (due <= now && this.pending === 0) {
      this.out.write(chunk);
      return;
    }
    this.pending += 1;
    setTimeout(() => {
      this.pending -= 1;
      if (!this.out.destroyed) this.out.write(chunk);
    }, due - now);
  }
}

export class LinkProxy {
  private server: net.Server | null = null;
  private fault: LinkFault = NO_FAULT;
  private readonly live = new Set<net.Socket>();
  /** Bytes forwarded, per direction, for the report. */
  bytesForward = 0;
  bytesBack = 0;
  connectionsAccepted = 0;

  constructor(
    readonly from: string,
    readonly to: string,
    readonly listenPort: number,
    readonly targetPort: number,
    private readonly prng: Prng,
    readonly host = '127.0.0.1',
  ) {}

  get address(): string {
    return `${this.host}:${this.listenPort}`;
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, this.host, () => resolve());
    });
    this.server = server;
  }

  current(): LinkFault {
    return { ...this.fault };
  }

  set(fault: LinkFault): void {
    const wasCut = this.fault.cut !== null;
    const wasHeldBack = this.fault.delayMs > 0 || this.fault.bytesPerSec > 0;
    this.fault = { ...fault };
    // A new cut closes what is open so nothing more passes; a heal of a cut
    // closes blackholed connections so they are redialed cleanly; a heal of
    // a delay or slow link closes connections whose backlog would otherwise
    // go on arriving late long after the heal.
    if (fault.cut !== null || wasCut || (wasHeldBack && fault.delayMs === 0 && fault.bytesPerSec === 0)) this.closeAll();
  }

  heal(): void {
    this.set(NO_FAULT);
  }

  private closeAll(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  private track(s: net.Socket): void {
    this.live.add(s);
    s.on('close', () => this.live.delete(s));
    s.on('error', () => s.destroy());
  }

  private accept(client: net.Socket): void {
    this.connectionsAccepted += 1;
    this.track(client);
    if (this.fault.cut === 'refuse') {
      client.destroy();
      return;
    }
    if (this.fault.cut === 'blackhole') {
      // Read and discard; the dialer sees a connection that never answers.
      client.on('data', () => {});
      setTimeout(() => client.destroy(), BLACKHOLE_HOLD_MS_MAX).unref();
      return;
    }
    const upstream = net.connect(this.targetPort, this.host);
    this.track(upstream);
    const forward = new Pump(upstream);
    const back = new Pump(client);
    const onChunk = (chunk: Buffer, pump: Pump, dir: 'forward' | 'back'): void => {
      const f = this.fault;
      if (f.cut !== null) return;
      if (f.dropProbability > 0 && this.prng.chance(f.dropProbability)) {
        client.destroy();
        upstream.destroy();
        return;
      }
      if (dir === 'forward') this.bytesForward += chunk.length;
      else this.bytesBack += chunk.length;
      pump.push(chunk, f);
    };
    client.on('data', (c: Buffer) => onChunk(c, forward, 'forward'));
    upstream.on('data', (c: Buffer) => onChunk(c, back, 'back'));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    this.closeAll();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
