// One accepted connection. It receives: first the dialer's hello (answered
// with ours or a refusal), then messages, delivered in order, and forwarded
// client requests, each answered on this same connection (the answers of one
// event-loop turn in one write). Anything
// malformed closes this connection alone, logged; nothing thrown from here
// reaches the socket (a peer's garbage must not crash the process). Errors
// thrown by the message handler itself are not swallowed.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Canceller } from '../cancel.js';
import type { Message, NodeId } from '../raft/types.js';
import type { ForwardRequest, ForwardResponse, PeerHello } from './api.js';
import type { TransportEvents } from './events.js';
import { FrameDecoder, encodeFrame } from './frame.js';
import { FORWARD_RESPONSE_BYTES_MAX, FRAME_BYTES_MAX, HELLO_FRAME_BYTES_MAX, FORWARD_WRITE_BUFFER_BYTES_MAX, FORWARDS_IN_FLIGHT_MAX, PROTOCOL_VERSION, type TransportLimits } from './limits.js';
import type { InboundConnection, InboundRegistry } from './inbound-registry.js';
import type { HandshakeTranscript, PeerKey } from './peer-proof.js';
import { checkForwardResponse, isPlausibleNodeId } from './validate.js';
import { packWire, unpackWire, type WireFrame } from './wire.js';


export interface InboundOptions {
  self: PeerHello;
  /** The address book, consulted at hello time. */
  isKnownPeer: (id: NodeId) => boolean;
  /** Under TLS, the node id the peer's verified certificate names: the only id it may claim. */
  verifiedPeer?: NodeId;
  limits: TransportLimits;
  events: TransportEvents;
  logger: Logger;
  /** Shared by every inbound connection of the node. */
  reassembly: ReassemblyBudget;
  /** Who holds a connection: one per claimed id, strangers capped. */
  registry: InboundRegistry;
  /** Auth on without TLS: the dialer must prove the cluster's root token before it is admitted (peer-proof.ts). */
  peerKey?: PeerKey;
}

/** Snapshot bytes reserved for reassembly over all connections of one node, within a limit. */
export class ReassemblyBudget {
  private reservedBytes = 0;
  constructor(private readonly limitBytes: () => number) {}
  /** Reserve `bytes` if they fit; false if not (nothing reserved). */
  reserve(bytes: number): boolean {
    if (this.reservedBytes + bytes > this.limitBytes()) return false;
    this.reservedBytes += bytes;
    return true;
  }
  release(bytes: number): void {
    this.reservedBytes -= bytes;
  }
  get bytes(): number {
    return this.reservedBytes;
  }
}

interface Reassembly {
  id: number;
  header: Extract<Message, { type: 'InstallSnapshot' }>;
  totalBytes: number;
  receivedBytes: number;
  chunks: Uint8Array[];
}

class ProtocolError extends Error {}

/** What a forwarding handler that broke its promise to always answer is answered with. */
const HANDLER_FAILED: ForwardResponse = { status: 503, headers: {}, body: new Uint8Array(0) };

export function acceptConnection(socket: Socket, o: InboundOptions): void {
  const log = o.logger.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
  const decoder = new FrameDecoder(FRAME_BYTES_MAX, HELLO_FRAME_BYTES_MAX); // the first frame is the hello
  let peer: NodeId | null = null;
  let snapshot: Reassembly | null = null;
  let closed = false;
  let helloToReport: PeerHello | null = null;
  /** With a peer key: the hello we answered, until the dialer's proof admits it. */
  let proving: { hello: PeerHello; transcript: HandshakeTranscript } | null = null;
  /** Whether our hello told the dialer it may forward requests to us. */
  let forwardsOffered = false;
  /** Forwarded requests being answered, by the dialer's id; cancelling one tells its handler the client left. */
  const forwards = new Map<number, Canceller>();
  /** Encoded answers waiting for this turn's write. */
  let outbox: Buffer[] = [];
  let outboxBytes = 0;
  socket.setNoDelay(true);

  const close = (reason: string, level: 'warn' | 'info' | 'debug' = 'warn'): void => {
    if (closed) return;
    closed = true;
    releaseSnapshot();
    if (peer !== null) o.registry.leave(peer, connection);
    clearTimeout(handshakeTimer);
    log[level]({ peer, reason }, 'closing inbound peer connection');
    socket.destroy();
    // Nobody is left to take the answers: the requests are abandoned, as when an HTTP client disconnects.
    for (const cancel of forwards.values()) cancel.cancel(new Error('the forwarding peer closed the connection'));
    forwards.clear();
    outbox = [];
    outboxBytes = 0;
  };
  const connection: InboundConnection = { close: (reason) => close(reason, 'info') };
  const handshakeTimer = setTimeout(() => {
    if (peer === null) close(proving === null ? 'no hello within the handshake timeout' : 'no proof of the peer key within the handshake timeout');
  }, o.limits.handshakeTimeoutMs);

  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    const deliveries: Message[] = [];
    const requests: Array<{ id: number; req: ForwardRequest }> = [];
    helloToReport = null;
    try {
      const { frames, error } = decoder.push(chunk);
      for (const payload of frames) {
        const frame = unpackWire(payload);
        if (frame.k === 'req' || frame.k === 'cancel') onForwardFrame(frame, requests);
        else {
          const delivered = onFrame(frame);
          if (delivered) deliveries.push(delivered);
        }
        if (closed) break;
      }
      if (error) throw error;
    } catch (err) {
      // Messages decoded before the bad frame are still good; deliver them, then close.
      close((err as Error).message);
    }
    // Handlers run outside the try: their errors are theirs, not the peer's.
    if (helloToReport) o.events.peerHello(helloToReport);
    // A connection closed for a bad frame answers nothing: its requests are not started.
    if (!closed) for (const { id, req } of requests) startForward(id, req);
    for (const m of deliveries) {
      // A refused message ends the delivery of this batch; a bad frame after good ones does not.
      const refusal = o.events.message(m);
      if (refusal) {
        close(`${m.type} from ${m.from} refused: ${refusal}`);
        break;
      }
    }
  });
  socket.on('error', (err) => close(err.message, 'debug'));
  socket.on('close', () => close('remote closed', 'debug'));

  function onForwardFrame(frame: Extract<WireFrame, { k: 'req' | 'cancel' }>, requests: Array<{ id: number; req: ForwardRequest }>): void {
    if (peer === null || !forwardsOffered) throw new ProtocolError(`unexpected ${frame.k} frame: forwarding was not offered on this connection`);
    if (frame.k === 'cancel') {
      // Unknown ids are answers already sent: the cancel crossed them.
      const pending = requests.findIndex((r) => r.id === frame.id);
      if (pending >= 0) requests.splice(pending, 1);
      forwards.get(frame.id)?.cancel(new Error('the forwarding node gave up on the request'));
      forwards.delete(frame.id);
      return;
    }
    // Membership is checked per request: a node removed since its hello forwards nothing more.
    if (!o.isKnownPeer(peer)) throw new ProtocolError(`forwarded request from ${peer}, which is not a member`);
    if (forwards.has(frame.id) || requests.some((r) => r.id === frame.id)) throw new ProtocolError(`forwarded request id ${frame.id} is already in flight`);
    if (forwards.size + requests.length >= FORWARDS_IN_FLIGHT_MAX) throw new ProtocolError(`more than ${FORWARDS_IN_FLIGHT_MAX} forwarded requests in flight`);
    requests.push({ id: frame.id, req: frame.req });
  }

  function startForward(id: number, req: ForwardRequest): void {
    const cancel = new Canceller();
    forwards.set(id, cancel);
    const from = peer as NodeId;
    o.events
      .forward(from, req, cancel, socket.remoteAddress)
      .catch((err: unknown) => {
        log.error({ err, peer: from }, 'forwarded request handler failed');
        return HANDLER_FAILED;
      })
      .then((res) => {
        // Cancelled, or the connection is gone: nobody waits for this answer.
        if (closed || forwards.get(id) !== cancel) return;
        forwards.delete(id);
        answer(id, res);
      });
  }

  function answer(id: number, res: ForwardResponse): void {
    let bytes: Buffer;
    try {
      // The dialer closes the connection on an answer that fails its checks: never send one.
      bytes = encodeFrame(packWire({ k: 'res', id, res: checkForwardResponse(res) }));
      // A call's answer is a value, bounded here once encoded (an HTTP answer's body is bounded by its check).
      if (bytes.length > FORWARD_RESPONSE_BYTES_MAX) throw new Error(`answer of ${bytes.length} bytes is too large to relay`);
    } catch (err) {
      log.error({ err, peer }, 'forwarded answer could not be encoded');
      bytes = encodeFrame(packWire({ k: 'res', id, res: HANDLER_FAILED }));
    }
    // A dialer that does not read its answers must not make us buffer without bound.
    if (socket.writableLength + outboxBytes + bytes.length > FORWARD_WRITE_BUFFER_BYTES_MAX) {
      close(`the peer left ${socket.writableLength + outboxBytes} bytes of answers unread`);
      return;
    }
    outbox.push(bytes);
    outboxBytes += bytes.length;
    // With nothing else in flight on this connection there is no other answer to wait for: the
    // answer goes now, not after the rest of this turn's work (~0.2 ms on the leader, measured
    // under one client, issue 12). With more in flight, one write per turn.
    if (forwards.size === 0) flushAnswers();
    else if (outbox.length === 1) setImmediate(flushAnswers);
  }

  /** The answers of one event-loop turn go out as one write. */
  function flushAnswers(): void {
    if (closed || outbox.length === 0) return;
    const out = outbox.length === 1 ? outbox[0] : Buffer.concat(outbox);
    outbox = [];
    outboxBytes = 0;
    socket.write(out);
  }

  function onFrame(frame: WireFrame): Message | null {
    if (peer === null) {
      if (proving !== null) {
        if (frame.k !== 'proof') throw new ProtocolError(`expected the proof of the peer key, got ${frame.k}`);
        const { hello, transcript } = proving;
        proving = null;
        if (!o.peerKey!.verify('dialer', transcript, frame.proof)) throw new ProtocolError(`${hello.nodeId} did not prove the cluster's root token`);
        admit(hello, true);
        return null;
      }
      if (frame.k !== 'hello') throw new ProtocolError(`expected hello, got ${frame.k}`);
      handshake(frame);
      return null;
    }
    switch (frame.k) {
      case 'msg':
        return checkAddressing(frame.m);
      case 'snap': {
        // Everything is decided on the announcement, before any byte of the data is kept.
        if (snapshot) throw new ProtocolError('snapshot started while another is being received');
        const header = checkAddressing(frame.m) as Reassembly['header'];
        const { snapshotBytesMax } = o.limits;
        if (frame.totalBytes > snapshotBytesMax) throw new ProtocolError(`snapshot of ${frame.totalBytes} bytes exceeds ${snapshotBytesMax}`);
        const refusal = o.events.snapshotOffer(header);
        if (refusal) throw new ProtocolError(`snapshot refused: ${refusal}`);
        if (!o.reassembly.reserve(frame.totalBytes)) {
          throw new ProtocolError(`snapshot of ${frame.totalBytes} bytes would pass the node's reassembly limit (${o.reassembly.bytes} bytes in use)`);
        }
        snapshot = { id: frame.id, header, totalBytes: frame.totalBytes, receivedBytes: 0, chunks: [] };
        return null;
      }
      case 'chunk': {
        const s = snapshot;
        if (!s || frame.id !== s.id || frame.offset !== s.receivedBytes) throw new ProtocolError('snapshot chunk out of sequence');
        s.receivedBytes += frame.data.length;
        if (s.receivedBytes > s.totalBytes) throw new ProtocolError('snapshot chunks exceed the announced size');
        s.chunks.push(frame.data);
        if (!frame.last) return null;
        if (s.receivedBytes !== s.totalBytes) throw new ProtocolError(`snapshot ended at ${s.receivedBytes} of ${s.totalBytes} bytes`);
        const data = new Uint8Array(Buffer.concat(s.chunks, s.totalBytes));
        releaseSnapshot();
        return checkAddressing({ ...s.header, snapshot: { meta: s.header.snapshot.meta, data } });
      }
      default:
        throw new ProtocolError(`unexpected ${frame.k} frame after the handshake`);
    }
  }

  /** Drop a reassembly in progress and give its bytes back to the node's budget. */
  function releaseSnapshot(): void {
    if (!snapshot) return;
    o.reassembly.release(snapshot.totalBytes);
    snapshot = null;
  }

  function handshake(frame: Extract<WireFrame, { k: 'hello' }>): void {
    const { hello } = frame;
    const refusal =
      hello.protocolVersion !== PROTOCOL_VERSION
        ? `protocol version ${hello.protocolVersion} is not ${PROTOCOL_VERSION}`
        : hello.clusterId !== o.self.clusterId
          ? `cluster id ${JSON.stringify(hello.clusterId)} is not ${JSON.stringify(o.self.clusterId)}`
          : !isPlausibleNodeId(hello.nodeId)
            ? 'implausible node id'
            : hello.nodeId === o.self.nodeId
              ? `node id ${hello.nodeId} is this node's own id`
              : o.verifiedPeer !== undefined && hello.nodeId !== o.verifiedPeer
                ? `node id ${hello.nodeId} is not the one its certificate names (${o.verifiedPeer})`
                : o.peerKey !== undefined && frame.nonce === undefined
                  ? 'this node admits only members that prove the cluster root token (auth is on without TLS): start every node with the same root token'
                  : null;
    const removed = refusal === null ? o.events.removedPeer(hello.nodeId) : null;
    const reason = refusal ?? removed;
    if (reason !== null) {
      log.warn({ hello: { clusterId: hello.clusterId, nodeId: hello.nodeId, protocolVersion: hello.protocolVersion }, refusal: reason }, 'refusing peer hello');
      closed = true;
      clearTimeout(handshakeTimer);
      // Tell the dialer why, then close; end() flushes the refusal first. Our
      // cluster id stays in our log: a stranger probing the port learns nothing.
      const told = hello.clusterId !== o.self.clusterId ? 'not a member of this cluster' : reason;
      socket.end(encodeFrame(packWire({ k: 'refuse', reason: told, ...(removed !== null ? { removed: true } : {}) })));
      return;
    }
    // Accepted even when not in the address book: a member being added may
    // dial before its addition reaches us (its messages still pass the addressing checks below).
    if (!o.isKnownPeer(hello.nodeId)) log.info({ nodeId: hello.nodeId }, 'hello from a node not in the address book');
    forwardsOffered = o.events.takesForwards() && o.isKnownPeer(hello.nodeId);
    if (o.peerKey !== undefined && frame.nonce !== undefined) {
      // Our proof first (the dialer checks it before it sends anything else), then theirs admits them.
      const transcript: HandshakeTranscript = { clusterId: o.self.clusterId, acceptor: o.self.nodeId, dialer: hello.nodeId, dialerNonce: frame.nonce, acceptorNonce: o.peerKey.nonce() };
      socket.write(ourHello({ nonce: transcript.acceptorNonce, proof: o.peerKey.prove('acceptor', transcript) }));
      proving = { hello, transcript };
      return;
    }
    admit(hello, false);
  }

  /** The hello is good (and proven, with a peer key): take the connection, unless its id's place is taken. */
  function admit(hello: PeerHello, helloSent: boolean): void {
    const crowded = o.registry.admit(hello.nodeId, connection);
    if (crowded) {
      log.warn({ nodeId: hello.nodeId, refusal: crowded }, 'refusing peer hello');
      closed = true;
      clearTimeout(handshakeTimer);
      socket.end(encodeFrame(packWire({ k: 'refuse', reason: crowded })));
      return;
    }
    peer = hello.nodeId;
    clearTimeout(handshakeTimer);
    // A connection that carries nothing for this long is closed (its dialer redials when it has something to say).
    socket.setTimeout(o.limits.idleTimeoutMs, () => close(`idle for ${o.limits.idleTimeoutMs} ms`, 'debug'));
    if (!helloSent) socket.write(ourHello({}));
    log.debug({ peer }, 'inbound peer connected');
    helloToReport = hello;
  }

  function ourHello(proof: { nonce?: Uint8Array; proof?: Uint8Array }): Buffer {
    return encodeFrame(packWire({ k: 'hello', hello: o.self, ...(forwardsOffered ? { fwd: true, calls: true } : {}), ...proof }));
  }

  /** A message must come from the node that said hello, and be for us. */
  function checkAddressing(m: Message): Message {
    if (m.from !== peer) throw new ProtocolError(`message from ${m.from} on ${peer}'s connection`);
    if (m.to !== o.self.nodeId) throw new ProtocolError(`message for ${m.to} delivered to ${o.self.nodeId}`);
    return m;
  }
}
