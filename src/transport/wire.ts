// What travels in a frame, and the checks a received frame must pass before
// anything in it reaches Raft. Peers are trusted to be ours but not to be
// bug-free or the right version, so every field the receiver relies on is
// checked; a frame that fails is a protocol error that closes its connection.
import { Packr } from 'msgpackr';
import type { Message } from '../raft/types.js';
import type { ForwardRequest, ForwardResponse, PeerHello } from './api.js';
import { isPeerNonce, PEER_PROOF_BYTES } from './peer-proof.js';
import { checkForwardRequest, checkForwardResponse, checkMessage } from './validate.js';

export type WireFrame =
  /**
   * `fwd`: the acceptor takes forwarded requests from this dialer; `calls`: forwarded calls too
   * (ForwardCall). Both absent from older nodes and from the dialer's own hello.
   */
  | {
      k: 'hello';
      hello: PeerHello;
      fwd?: boolean;
      calls?: boolean;
      /** With a peer key (auth on, no TLS: peer-proof.ts): this side's nonce; from the acceptor, also its proof. */
      nonce?: Uint8Array;
      proof?: Uint8Array;
    }
  /** The dialer's proof of the peer key, the frame after its hello (peer-proof.ts). */
  | { k: 'proof'; proof: Uint8Array }
  /** `removed`: the dialer was a member and has been removed (it stops redialing often). */
  | { k: 'refuse'; reason: string; removed?: boolean }
  | { k: 'msg'; m: Message }
  /** Opens a chunked InstallSnapshot: the message with empty snapshot data, and the data's length. */
  | { k: 'snap'; id: number; m: Message; totalBytes: number }
  | { k: 'chunk'; id: number; offset: number; data: Uint8Array; last: boolean }
  /** A forwarded client request (dialer to acceptor), numbered by the dialer. */
  | { k: 'req'; id: number; req: ForwardRequest }
  /** The client has gone: stop working on request `id` (dialer to acceptor). */
  | { k: 'cancel'; id: number }
  /** The answer to request `id` (acceptor to dialer, on the same connection). */
  | { k: 'res'; id: number; res: ForwardResponse };

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
      if (v.fwd !== undefined && typeof v.fwd !== 'boolean') throw new WireError('malformed hello');
      if (v.calls !== undefined && typeof v.calls !== 'boolean') throw new WireError('malformed hello');
      if (v.nonce !== undefined && !isPeerNonce(v.nonce)) throw new WireError('malformed hello');
      if (v.proof !== undefined && !isPeerProof(v.proof)) throw new WireError('malformed hello');
      return v as WireFrame;
    case 'proof':
      if (!isPeerProof(v.proof)) throw new WireError('malformed proof');
      return { k: 'proof', proof: v.proof };
    case 'refuse':
      if (typeof v.reason !== 'string' || (v.removed !== undefined && typeof v.removed !== 'boolean')) throw new WireError('malformed refusal');
      return { k: 'refuse', reason: v.reason, ...(v.removed === true ? { removed: true } : {}) };
    case 'msg':
      // Every field of the message is checked and the message rebuilt from them (validate.ts).
      return { k: 'msg', m: checkedMessage(v.m) };
    case 'snap': {
      if (!isCount(v.id) || !isCount(v.totalBytes)) throw new WireError('malformed snapshot header');
      const m = checkedMessage(v.m);
      if (m.type !== 'InstallSnapshot') throw new WireError('snapshot header without an InstallSnapshot');
      return { k: 'snap', id: v.id, m, totalBytes: v.totalBytes };
    }
    case 'chunk':
      if (!isCount(v.id) || !isCount(v.offset) || !(v.data instanceof Uint8Array) || typeof v.last !== 'boolean') {
        throw new WireError('malformed snapshot chunk');
      }
      return v as WireFrame;
    case 'req':
      if (!isCount(v.id)) throw new WireError('malformed forwarded request');
      return { k: 'req', id: v.id, req: checked(checkForwardRequest, v.req) };
    case 'cancel':
      if (!isCount(v.id)) throw new WireError('malformed cancel');
      return { k: 'cancel', id: v.id };
    case 'res':
      if (!isCount(v.id)) throw new WireError('malformed forwarded answer');
      return { k: 'res', id: v.id, res: checked(checkForwardResponse, v.res) };
    default:
      throw new WireError(`unknown frame kind ${JSON.stringify(String(v.k)).slice(0, 40)}`);
  }
}

function checkedMessage(v: unknown): Message {
  return checked(checkMessage, v);
}

function checked<T>(check: (v: unknown) => T, v: unknown): T {
  try {
    return check(v);
  } catch (err) {
    throw new WireError((err as Error).message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
function isPeerProof(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === PEER_PROOF_BYTES;
}

function isHello(v: unknown): v is PeerHello {
  return isObject(v) && typeof v.clusterId === 'string' && typeof v.nodeId === 'string' && isCount(v.protocolVersion) && typeof v.apiUrl === 'string';
}
