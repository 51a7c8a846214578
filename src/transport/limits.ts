// Every bound of the peer transport, named, with the reason for its size.

/** Largest frame payload accepted or sent. Messages are far smaller; snapshots travel in chunks. */
export const FRAME_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Largest first frame of a connection: the hello (cluster id, node id, API URL: a few hundred
 * bytes). Anyone who reaches the peer port can open a connection; with the full frame limit each of
 * the 256 connections allowed could make the node buffer 16 MiB before its hello was even read
 * (20 such connections: +270 MB).
 */
export const HELLO_FRAME_BYTES_MAX = 64 * 1024;
/** Snapshot data is cut into chunks of this size; the next is written only once the socket took the last. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Largest snapshot a receiver reassembles on one connection (the announced size is checked before any byte is kept). */
export const SNAPSHOT_BYTES_MAX = 1024 * 1024 * 1024;
/**
 * Snapshot bytes one node reassembles at once, over all its connections. Only the current leader's
 * snapshot is accepted, one at a time, so one full-size snapshot fits and a second connection cannot
 * double the memory (the 1 GiB per connection times 256 connections).
 */
export const REASSEMBLY_BYTES_MAX = SNAPSHOT_BYTES_MAX;
/**
 * Largest term or log index a peer may name (2^50). Far beyond any real
 * cluster's (a million elections a second for 35 years), and small enough that
 * term + 1 and index + n stay exact: a Heartbeat at term 2^53 - 1 would leave
 * no term to campaign in.
 */
export const LOG_NUMBER_MAX = 2 ** 50;
/** Members named in one configuration (voters or learners). */
export const MEMBERS_MAX = 1024;
/** A member's opaque context (its addresses, a few hundred bytes in practice). */
export const CONTEXT_BYTES_MAX = 64 * 1024;
/** A read request id carried by Heartbeat and HeartbeatResp (node id + clock + random + sequence). */
export const READ_CONTEXT_CHARS_MAX = 1024;
/**
 * Forwarded client requests (ForwardRequest) in flight on one connection. The
 * dialer never sends more (it uses HTTP past this); an acceptor that receives
 * more closes the connection. Far above a follower's concurrent clients in practice.
 */
export const FORWARDS_IN_FLIGHT_MAX = 4096;
/** A forwarded request's target (path and query), characters. */
export const FORWARD_URL_CHARS_MAX = 8 * 1024;
/** Headers on a forwarded request or answer. */
export const FORWARD_HEADERS_MAX = 32;
/** One header value, characters (a bearer token, a request id). */
export const FORWARD_HEADER_CHARS_MAX = 8 * 1024;
/** A forwarded request's body, characters (the API's own body limit is far lower). */
export const FORWARD_BODY_CHARS_MAX = 1024 * 1024;
/**
 * A forwarded answer's body. List pages are bounded well below this; a larger
 * answer is not sent over the channel (the leader answers 503 instead), and
 * routes with unbounded answers (the snapshot download) forward over HTTP.
 */
export const FORWARD_RESPONSE_BYTES_MAX = 8 * 1024 * 1024;
/** Answers an acceptor may have buffered for a dialer that does not read them before it closes the connection. */
export const FORWARD_WRITE_BUFFER_BYTES_MAX = 64 * 1024 * 1024;
/** Bumped on any incompatible change to the frames below. */
export const PROTOCOL_VERSION = 1;

export interface TransportLimits {
  /** Messages queued for one peer before further sends are dropped and the peer reported unreachable. */
  peerQueueMessagesMax: number;
  /** Encoded bytes queued for one peer (snapshot data not counted: one snapshot at a time per peer). */
  peerQueueBytesMax: number;
  /** A connection that has not completed the hello exchange by then is closed. */
  handshakeTimeoutMs: number;
  /** Reconnect delays grow from this, doubling per failure... */
  reconnectBackoffBaseMs: number;
  /** ...up to this (loopback clusters recover within a second). */
  reconnectBackoffMaxMs: number;
  /**
   * A peer that refused us as a removed member is redialed after this, not sooner. A removed id never
   * comes back (docs/safety.md #10); the redial only keeps the door open should the refusal be wrong.
   */
  removedRedialMs: number;
  /** Inbound connections accepted at once. */
  inboundConnectionsMax: number;
  /** Inbound connections at once from node ids not in the address book (one per id; members are never counted here). */
  strangerConnectionsMax: number;
  /** An inbound connection that receives nothing for this long is closed. Long enough that a follower's idle link to another follower is not redialed often. */
  idleTimeoutMs: number;
  /** Largest snapshot reassembled on one connection. */
  snapshotBytesMax: number;
  /** Snapshot bytes reassembled at once over all connections of this node. */
  reassemblyBytesMax: number;
}

export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  peerQueueMessagesMax: 4096,
  peerQueueBytesMax: 64 * 1024 * 1024,
  handshakeTimeoutMs: 2000,
  reconnectBackoffBaseMs: 20,
  reconnectBackoffMaxMs: 1000,
  removedRedialMs: 30_000,
  inboundConnectionsMax: 256,
  strangerConnectionsMax: 16,
  idleTimeoutMs: 60_000,
  snapshotBytesMax: SNAPSHOT_BYTES_MAX,
  reassemblyBytesMax: REASSEMBLY_BYTES_MAX,
});

/** Checked at start-up: a zero or negative limit is a configuration bug. */
export function checkLimits(limits: TransportLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`transport limit ${name} must be a positive integer, got ${value}`);
  }
  if (limits.reconnectBackoffBaseMs > limits.reconnectBackoffMaxMs) {
    throw new RangeError('reconnectBackoffBaseMs must not exceed reconnectBackoffMaxMs');
  }
}
