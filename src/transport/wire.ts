// What travels in a frame, and the checks a received frame must pass before
// anything in it reaches Raft. Peers are trusted to be ours but not to be
// bug-free or the right version, so every field the receiver relies on is
// checked; a frame that fails is a protocol error that closes its connection.
import { Packr } from 'msgpackr';
import type { Message, MessageType, Snapshot } from '../raft/types.js';
import type { PeerHello } from './api.js';

export type WireFrame =
  | { k: 'hello'; hello: PeerHello }
  | { k: 'refuse'; reason: string }
  | { k: 'msg'; m: Message }
  /** Opens a chunked InstallSnapshot: the message with empty snapshot data, and the data's length. */
  | { k: 'snap'; id: number; m: Message; totalBytes: number }
  | { k: 'chunk'; id: number; offset: number; data: Uint8Array; last: boolean };

export class WireError extends Error {
  readonly code = 'wire_error';
}

// useRecords: false: plain msgpack maps, no msgpackr record extension.
// copyBuffers: true: each decoded Uint8Array owns its memory, so an entry kept
// in the Raft log does not pin the whole TCP chunk it arrived in.
const packr = new Packr({ useRecords: false, copyBuffers: true });

export function packWire(frame: WireFrame): Uint8Array {
  return packr.pack(frame);
}

/** Decode and check one frame payload; throws WireError. `payload` must be a plain Uint8Array so binary fields decode as Uint8Array, not Buffer. */
export function unpackWire(payload: Uint8Array): WireFrame {
  let v: unknown;
  try {
    v = packr.unpack(payload);
  } catch (err) {
    throw new WireError(`undecodable frame: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw new WireError('frame is not a map');
  switch (v.k) {
    case 'hello':
      if (!isHello(v.hello)) throw new WireError('malformed hello');
      return v as WireFrame;
    case 'refuse':
      if (typeof v.reason !== 'string') throw new WireError('malformed refusal');
      return v as WireFrame;
    case 'msg':
      checkMessage(v.m);
      return v as WireFrame;
    case 'snap':
      if (!isCount(v.id) || !isCount(v.totalBytes)) throw new WireError('malformed snapshot header');
      checkMessage(v.m);
      if ((v.m as Message).type !== 'InstallSnapshot') throw new WireError('snapshot header without an InstallSnapshot');
      return v as WireFrame;
    case 'chunk':
      if (!isCount(v.id) || !isCount(v.offset) || !(v.data instanceof Uint8Array) || typeof v.last !== 'boolean') {
        throw new WireError('malformed snapshot chunk');
      }
      return v as WireFrame;
    default:
      throw new WireError(`unknown frame kind ${JSON.stringify(String(v.k)).slice(0, 40)}`);
  }
}

const MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'PreVote', 'PreVoteResp', 'Vote', 'VoteResp', 'Append', 'AppendResp', 'Heartbeat', 'HeartbeatResp', 'InstallSnapshot', 'TimeoutNow',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
function isHello(v: unknown): v is PeerHello {
  return isObject(v) && typeof v.clusterId === 'string' && typeof v.nodeId === 'string' && isCount(v.protocolVersion) && typeof v.apiUrl === 'string';
}

function checkMessage(v: unknown): asserts v is Message {
  if (!isObject(v) || typeof v.type !== 'string' || !MESSAGE_TYPES.has(v.type as MessageType)) throw new WireError('malformed message: unknown type');
  if (typeof v.from !== 'string' || typeof v.to !== 'string' || !isCount(v.term)) throw new WireError(`malformed ${v.type}: from, to or term`);
  switch (v.type as MessageType) {
    case 'Append':
      if (!isCount(v.prevLogIndex) || !isCount(v.prevLogTerm) || !isCount(v.commit) || !Array.isArray(v.entries)) throw new WireError('malformed Append');
      for (const e of v.entries) {
        if (!isObject(e) || !isCount(e.index) || !isCount(e.term)) throw new WireError('malformed Append entry');
        if (e.type === 'normal' ? !(e.data instanceof Uint8Array) : e.type === 'config' ? !isObject(e.change) : e.type !== 'noop') {
          throw new WireError('malformed Append entry payload');
        }
      }
      return;
    case 'InstallSnapshot': {
      const s = v.snapshot as Snapshot | undefined;
      if (!isObject(s) || !isObject(s.meta) || !isCount(s.meta.index) || !isCount(s.meta.term) || !(s.data instanceof Uint8Array)) {
        throw new WireError('malformed InstallSnapshot');
      }
      return;
    }
    case 'AppendResp':
      if (typeof v.reject !== 'boolean' || !isCount(v.index)) throw new WireError('malformed AppendResp');
      return;
    default:
      return;
  }
}
