// The one outbound connection to one peer. Messages are queued (bounded) and
// written back to back without waiting for any reply (pipelining); only the
// hello is a round trip. The connection is kept open (dialed at start) and
// redialed with exponential backoff and jitter after a failure. InstallSnapshot data goes in
// chunks, each written only once the socket took the previous one.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Cancel } from '../cancel.js';
import type { Message, NodeId } from '../raft/types.js';
import { ForwardNotSentError, isForwardCall, type ForwardRequest, type ForwardResponse, type PeerHello } from './api.js';
import { parseAddress } from './address.js';
import type { TransportEvents } from './events.js';
import { FrameDecoder, encodeFrame } from './frame.js';
import { FORWARDS_IN_FLIGHT_MAX, FRAME_BYTES_MAX, HELLO_FRAME_BYTES_MAX, PROTOCOL_VERSION, SNAPSHOT_CHUNK_BYTES, type TransportLimits } from './limits.js';
import { checkForwardRequest } from './validate.js';
import { WireError, packWire, unpackWire } from './wire.js';
import type { PeerKey } from './peer-proof.js';
import { dialPeer, type PeerTls } from './peer-tls.js';

/** Most frames joined into one socket write (bounds one copy; the queue's byte limit bounds the rest). */
const WRITE_BATCH_FRAMES_MAX = 256;
/**
 * At most one immediate redial (to tell a dead peer from a dropped connection) per this long per
 * peer: a peer that accepts and then closes at once cannot make us dial in a tight loop.
 */
const DOWN_CHECK_INTERVAL_MS = 1000;
/**
 * Immediate dials per check. A dying process's connections may close a moment before its listener
 * does: a redial can land in the listener's backlog and be reset rather than refused; the next one
 * is refused.
 */
const DOWN_CHECK_DIALS = 3;

/** `forwardId`: the frame carries that forwarded request or its cancel (dropped, not resent, when the connection fails). */
type QueueItem = { kind: 'frame'; bytes: Buffer; forwardId?: number } | { kind: 'snapshot'; message: Extract<Message, { type: 'InstallSnapshot' }> };

interface PendingForward {
  resolve(response: ForwardResponse): void;
  reject(error: unknown): void;
}

export interface PeerLinkOptions {
  peer: NodeId;
  address: string;
  hello: PeerHello;
  limits: TransportLimits;
  events: TransportEvents;
  logger: Logger;
  random: () => number;
  tls?: PeerTls;
  /** Auth on without TLS: both sides prove the cluster's root token (peer-proof.ts). */
  peerKey?: PeerKey;
}

export class PeerLink {
  private address: string;
  private queue: QueueItem[] = [];
  private queuedBytes = 0;
  private socket: Socket | null = null;
  private ready = false;
  private pumping = false;
  /** A pump is queued as a microtask (see schedulePump). */
  private pumpScheduled = false;
  /** Whether a snapshot is queued or being written (one at a time per peer). */
  private snapshotPending = false;
  private snapshotSeq = 0;
  private failures = 0;
  /** The peer's last answer to our hello: this node was removed from the cluster (said once at error; redialed seldom). */
  private removed = false;
  /** The dial in progress was made at once after an open connection closed (see fail()). */
  private downCheckDialsLeft = 0;
  private lastDownCheckAtMs = -Infinity;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  /** With a peer key: the nonce of the current connection's hello. */
  private dialerNonce: Uint8Array | null = null;
  /** Set while sends are being dropped, so a full queue logs once, not per message. */
  private dropping = false;
  private closed = false;
  /** The acceptor said in its hello that it takes forwarded requests from us, and forwarded calls. */
  private acceptsForwards = false;
  private acceptsCalls = false;
  private forwardSeq = 0;
  /** Forwarded requests waiting for their answer on the current connection. */
  private readonly forwards = new Map<number, PendingForward>();
  private readonly log: Logger;

  constructor(private readonly o: PeerLinkOptions) {
    this.address = o.address;
    this.log = o.logger.child({ peer: o.peer });
  }

  get peer(): NodeId {
    return this.o.peer;
  }

  send(message: Message): void {
    if (this.closed) return;
    if (message.type === 'InstallSnapshot') {
      if (this.snapshotPending) {
        this.log.warn({ index: message.snapshot.meta.index }, 'snapshot already in flight to this peer; dropping the new one');
        this.o.events.snapshotStatus(this.o.peer, false);
        return;
      }
      this.snapshotPending = true;
      this.queue.push({ kind: 'snapshot', message });
    } else {
      const bytes = encodeFrame(packWire({ k: 'msg', m: message }));
      const { peerQueueMessagesMax, peerQueueBytesMax } = this.o.limits;
      if (this.queue.length >= peerQueueMessagesMax || this.queuedBytes + bytes.length > peerQueueBytesMax) {
        // Back-pressure goes to Raft (it falls back to probing) instead of memory growing without bound.
        if (!this.dropping) this.log.warn({ queued: this.queue.length, queuedBytes: this.queuedBytes }, 'peer send queue full; dropping and reporting unreachable');
        this.dropping = true;
        this.o.events.unreachable(this.o.peer);
        return;
      }
      this.dropping = false;
      this.queue.push({ kind: 'frame', bytes });
      this.queuedBytes += bytes.length;
    }
    this.kick();
  }

  /**
   * Keep a connection open even with nothing to send, so that the hello
   * exchange (and with it the peer's API URL) happens between every pair of
   * members, not only between the leader and each follower.
   */
  connect(): void {
    if (!this.closed && !this.socket && !this.reconnectTimer) this.dial();
  }

  /** The peer moved (membership change): drop the connection, dial the new address next. */
  setAddress(address: string): void {
    if (address === this.address) return;
    this.address = address;
    this.failures = 0;
    if (this.socket) this.fail('peer address changed', false);
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    this.socket?.destroy();
    this.socket = null;
    this.ready = false;
    this.failForwards('peer link closed');
    this.queue = [];
    this.queuedBytes = 0;
  }

  /**
   * Relay a client request to this peer and wait for its answer (PeerForwarding.forward).
   * Null when the connection cannot carry it now: not up, the peer does not
   * take forwards (or calls, for a ForwardCall), too many in flight, a full queue, or a request this
   * channel's checks would refuse (the caller then uses HTTP).
   */
  forward(request: ForwardRequest, cancel: Cancel): Promise<ForwardResponse> | null {
    if (this.closed || !this.ready || !this.acceptsForwards || cancel.aborted) return null;
    if (isForwardCall(request) && !this.acceptsCalls) return null;
    if (this.forwards.size >= FORWARDS_IN_FLIGHT_MAX) return null;
    const id = ++this.forwardSeq;
    let bytes: Buffer;
    try {
      // The acceptor closes the connection on a request that fails its checks: never send one.
      bytes = encodeFrame(packWire({ k: 'req', id, req: checkForwardRequest(request) }));
    } catch {
      return null;
    }
    if (!this.enqueueFrame(bytes, id)) return null;
    return new Promise<ForwardResponse>((resolve, reject) => {
      const onAbort = (reason: unknown): void => {
        if (!this.forwards.delete(id)) return;
        // Still queued: the peer never sees it. Written: tell the peer to stop working on it.
        if (!this.dropQueuedForward(id) && this.ready) this.enqueueFrame(encodeFrame(packWire({ k: 'cancel', id })), id);
        reject(reason);
      };
      const removeOnAbort = cancel.onAbort(onAbort);
      this.forwards.set(id, {
        resolve: (response) => {
          removeOnAbort();
          resolve(response);
        },
        reject: (error) => {
          removeOnAbort();
          reject(error);
        },
      });
    });
  }

  /** Queue a frame of the forwarding protocol if the queue has room; kicks the pump. */
  private enqueueFrame(bytes: Buffer, forwardId: number): boolean {
    const { peerQueueMessagesMax, peerQueueBytesMax } = this.o.limits;
    if (this.queue.length >= peerQueueMessagesMax || this.queuedBytes + bytes.length > peerQueueBytesMax) return false;
    this.queue.push({ kind: 'frame', bytes, forwardId });
    this.queuedBytes += bytes.length;
    this.kick();
    return true;
  }

  /** Remove forwarding frame(s) for `id` still waiting in the queue; true if its request was among them. */
  private dropQueuedForward(id: number): boolean {
    const before = this.queue.length;
    this.queue = this.queue.filter((item) => {
      if (item.kind !== 'frame' || item.forwardId !== id) return true;
      this.queuedBytes -= item.bytes.length;
      return false;
    });
    return this.queue.length < before;
  }

  /**
   * The connection is gone: every forwarded request fails. One still in the
   * queue never left (ForwardNotSentError, safe to send elsewhere); one
   * written may have been received and acted on. Their frames are not
   * resent on the next connection.
   */
  private failForwards(reason: string): void {
    const unsent = new Set<number>();
    this.queue = this.queue.filter((item) => {
      if (item.kind !== 'frame' || item.forwardId === undefined) return true;
      unsent.add(item.forwardId);
      this.queuedBytes -= item.bytes.length;
      return false;
    });
    const pending = [...this.forwards];
    this.forwards.clear();
    for (const [id, p] of pending) {
      p.reject(unsent.has(id) ? new ForwardNotSentError(`not sent: ${reason}`) : new Error(`connection to the peer failed with the request in flight: ${reason}`));
    }
  }

  /** For tests and status: messages waiting for the connection. */
  get queuedCount(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.ready) this.schedulePump();
    else if (!this.socket && !this.reconnectTimer) this.dial();
  }

  private dial(): void {
    let target;
    try {
      target = parseAddress(this.address);
    } catch (err) {
      this.log.error({ err, address: this.address }, 'bad peer address');
      this.scheduleReconnect();
      this.o.events.unreachable(this.o.peer);
      return;
    }
    const { socket, readyEvent } = dialPeer(this.o.tls, target.host, target.port, this.o.peer);
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(FRAME_BYTES_MAX, HELLO_FRAME_BYTES_MAX); // the first frame is the hello
    const nonce = this.o.peerKey?.nonce() ?? null;
    this.dialerNonce = nonce;
    socket.on(readyEvent, () => {
      socket.write(encodeFrame(packWire({ k: 'hello', hello: this.o.hello, ...(nonce === null ? {} : { nonce }) })));
    });
    this.handshakeTimer = setTimeout(() => {
      if (this.socket === socket && !this.ready) this.fail('handshake timed out', true);
    }, this.o.limits.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      const { frames, error } = decoder.push(chunk);
      if (error) return this.fail(error.message, true);
      for (const payload of frames) {
        if (this.socket !== socket) return;
        this.onReply(payload);
      }
    });
    // 'close' always follows 'error'; handle both once through fail().
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket === socket) this.fail(err.message, true, { byPeer: true, code: err.code });
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail('connection closed', true, { byPeer: true });
    });
  }

  /** The dialer receives the acceptor's hello or refusal, then only answers to forwarded requests. */
  private onReply(payload: Uint8Array): void {
    let frame;
    try {
      frame = unpackWire(payload);
    } catch (err) {
      return this.fail((err as WireError).message, true);
    }
    if (frame.k === 'res' && this.ready) {
      // An answer to a request given up on (cancelled, or the client left) is dropped.
      const pending = this.forwards.get(frame.id);
      if (pending) {
        this.forwards.delete(frame.id);
        pending.resolve(frame.res);
      }
      return;
    }
    if (frame.k === 'refuse') {
      if (frame.removed === true) {
        // The operator must act (stop this node), so it is said at error, once per link until we are
        // admitted again (should the refusal be wrong); the redials that follow are seldom.
        if (!this.removed) this.log.error({ address: this.address, reason: frame.reason }, 'this node was removed from the cluster');
        this.removed = true;
        this.o.events.removedFromCluster(this.o.peer);
      } else {
        this.log.warn({ address: this.address, reason: frame.reason }, 'peer refused our hello');
      }
      return this.fail(`refused: ${frame.reason}`, true);
    }
    if (frame.k !== 'hello' || this.ready) return this.fail(`unexpected ${frame.k} frame from the acceptor`, true);
    const { hello } = frame;
    const mismatch =
      hello.clusterId !== this.o.hello.clusterId
        ? `cluster id ${hello.clusterId}, expected ${this.o.hello.clusterId}`
        : hello.protocolVersion !== PROTOCOL_VERSION
          ? `protocol version ${hello.protocolVersion}, expected ${PROTOCOL_VERSION}`
          : hello.nodeId !== this.o.peer
            ? `node ${hello.nodeId} answered at ${this.address}, expected ${this.o.peer}`
            : null;
    if (mismatch) {
      this.log.warn({ address: this.address, mismatch }, 'peer hello mismatch; closing');
      return this.fail(mismatch, true);
    }
    if (this.o.peerKey !== undefined) {
      // Nothing of ours (forwarded requests carry clients' tokens) goes to a node that cannot prove the key.
      const transcript = frame.nonce === undefined || this.dialerNonce === null ? null : { clusterId: this.o.hello.clusterId, acceptor: this.o.peer, dialer: this.o.hello.nodeId, dialerNonce: this.dialerNonce, acceptorNonce: frame.nonce };
      if (transcript === null || !this.o.peerKey.verify('acceptor', transcript, frame.proof)) {
        const why = `${this.o.peer} did not prove the cluster root token (is every node started with the same one?)`;
        this.log.warn({ address: this.address }, why);
        return this.fail(why, true);
      }
      this.socket!.write(encodeFrame(packWire({ k: 'proof', proof: this.o.peerKey.prove('dialer', transcript) })));
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.ready = true;
    this.acceptsForwards = frame.fwd === true;
    this.acceptsCalls = frame.calls === true;
    this.failures = 0;
    this.removed = false;
    this.downCheckDialsLeft = 0;
    this.log.debug({ address: this.address }, 'connected to peer');
    this.o.events.peerHello(hello);
    void this.pump();
  }

  /**
   * Pump once per event-loop turn (setImmediate: after every I/O callback of
   * this turn), not per send: the messages of one Ready, and the forwarded
   * requests of every HTTP request read in the same turn, reach the kernel as
   * one write. On this hot path one write(2) per message was the leader's
   * largest CPU cost (each loopback write runs the peer's TCP receive path
   * inline); a microtask still wrote once per HTTP request on a follower.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** Write queued items back to back; pause only when the socket buffer is full. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready && this.socket && this.queue.length > 0) {
        const socket = this.socket;
        const item = this.queue[0];
        if (item.kind === 'frame') {
          // A run of consecutive frames goes out as one buffer, in order.
          let end = 1;
          while (end < this.queue.length && end < WRITE_BATCH_FRAMES_MAX && this.queue[end].kind === 'frame') end++;
          const run = this.queue.splice(0, end) as Extract<QueueItem, { kind: 'frame' }>[];
          let bytes = 0;
          for (const f of run) bytes += f.bytes.length;
          this.queuedBytes -= bytes;
          const out = run.length === 1 ? run[0].bytes : Buffer.concat(run.map((f) => f.bytes), bytes);
          if (!socket.write(out)) await drained(socket);
        } else {
          this.queue.shift();
          await this.sendSnapshot(socket, item.message);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async sendSnapshot(socket: Socket, message: Extract<Message, { type: 'InstallSnapshot' }>): Promise<void> {
    const data = message.snapshot.data;
    const id = ++this.snapshotSeq;
    const header = { ...message, snapshot: { meta: message.snapshot.meta, data: new Uint8Array(0) } };
    const log = this.log.child({ snapshotIndex: message.snapshot.meta.index, snapshotBytes: data.length });
    log.info('sending snapshot');
    try {
      if (!socket.write(encodeFrame(packWire({ k: 'snap', id, m: header, totalBytes: data.length })))) await drained(socket);
      for (let offset = 0; ; offset += SNAPSHOT_CHUNK_BYTES) {
        const end = Math.min(data.length, offset + SNAPSHOT_CHUNK_BYTES);
        const last = end === data.length;
        // Flow control: the next chunk is encoded only once this one is handed to the kernel.
        await written(socket, encodeFrame(packWire({ k: 'chunk', id, offset, data: data.subarray(offset, end), last })));
        if (last) break;
      }
    } catch (err) {
      // The connection failed mid-snapshot; fail() reports the snapshot as not ok.
      log.warn({ err: (err as Error).message }, 'snapshot send failed');
      return;
    }
    if (this.socket !== socket || !this.snapshotPending) return;
    this.snapshotPending = false;
    log.info('snapshot sent');
    this.o.events.snapshotStatus(this.o.peer, true);
  }

  /**
   * `how.byPeer`: the connection closed or errored on the peer's side (not a protocol error of ours);
   * `how.code`: the socket error's code, if any.
   */
  private fail(reason: string, reportUnreachable: boolean, how: { byPeer: boolean; code?: string } = { byPeer: false }): void {
    const socket = this.socket;
    if (!socket) return;
    const wasOpen = this.ready;
    this.socket = null;
    this.ready = false;
    this.acceptsForwards = false;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    socket.destroy();
    this.failForwards(reason);
    this.log.debug({ address: this.address, reason, failures: this.failures + 1 }, 'peer connection failed');
    if (this.snapshotPending) {
      // A queued or half-written snapshot is abandoned; Raft resends after reportSnapshot(false).
      this.snapshotPending = false;
      this.queue = this.queue.filter((i) => i.kind !== 'snapshot');
      this.o.events.snapshotStatus(this.o.peer, false);
    }
    if (this.closed) return;
    this.failures++;
    const refused = this.downCheckDialsLeft > 0 && how.code === 'ECONNREFUSED';
    const nowMs = performance.now();
    if (wasOpen && how.byPeer && nowMs - this.lastDownCheckAtMs >= DOWN_CHECK_INTERVAL_MS) {
      // An open connection closed: dial again at once. If nothing listens at the peer's address any
      // more (refused), its process is gone, and Raft may act on that now rather than after an
      // election timeout (peerDown). A mere dropped connection redials and carries on.
      this.lastDownCheckAtMs = nowMs;
      this.downCheckDialsLeft = DOWN_CHECK_DIALS;
    }
    if (this.downCheckDialsLeft > 0 && !refused && how.byPeer) {
      this.downCheckDialsLeft--;
      if (reportUnreachable) this.o.events.unreachable(this.o.peer);
      this.dial();
      return;
    }
    this.downCheckDialsLeft = 0;
    this.scheduleReconnect();
    if (reportUnreachable) this.o.events.unreachable(this.o.peer);
    if (refused) this.o.events.peerDown(this.o.peer);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return;
    const { reconnectBackoffBaseMs, reconnectBackoffMaxMs } = this.o.limits;
    const ceilingMs = this.removed ? this.o.limits.removedRedialMs : Math.min(reconnectBackoffMaxMs, reconnectBackoffBaseMs * 2 ** Math.min(this.failures, 30));
    // "Equal jitter": at least half the ceiling, so peers that failed together do not redial together.
    const delayMs = ceilingMs / 2 + this.o.random() * (ceilingMs / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.socket) this.dial();
    }, delayMs);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.reconnectTimer = null;
    this.handshakeTimer = null;
  }
}

/** Resolves when the socket can take more, or is gone (the caller then finds it replaced). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Resolves once `bytes` was handed to the kernel; rejects if the socket failed first. */
function written(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return reject(new Error('socket destroyed'));
    const onClose = (): void => reject(new Error('socket closed before the chunk was written'));
    socket.once('close', onClose);
    socket.write(bytes, (err) => {
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
