// Length-prefixed frames: [payload length, 4 bytes big-endian][payload].
// The decoder takes TCP chunks as they come (split or concatenated frames)
// and never throws: an oversized length poisons it and is reported, so the
// caller closes that one connection.
import { FRAME_BYTES_MAX } from './limits.js';

export const FRAME_HEADER_BYTES = 4;

export class FrameError extends Error {
  readonly code = 'frame_error';
}

/** Header plus payload in one buffer. Throws on an oversized payload: that is the sender's bug. */
export function encodeFrame(payload: Uint8Array, frameBytesMax = FRAME_BYTES_MAX): Buffer {
  if (payload.length > frameBytesMax) throw new FrameError(`frame of ${payload.length} bytes exceeds the limit of ${frameBytesMax}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export interface DecodeResult {
  /** Complete payloads, in order, as plain Uint8Arrays. */
  frames: Uint8Array[];
  /** Set once the stream is unusable (oversized frame); later pushes return it again. */
  error: FrameError | null;
}

export class FrameDecoder {
  // Chunks are kept as a list and joined only once a whole frame is present,
  // so a 16 MiB frame arriving in 64 KiB pieces is copied once, not 256 times.
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Payload length of the frame being received, once its header is in. */
  private expectedBytes: number | null = null;
  private error: FrameError | null = null;
  /** Whether the first frame is complete: until then `firstFrameBytesMax` bounds it. */
  private firstDone = false;

  /**
   * `firstFrameBytesMax` bounds the first frame only (a hello, a few hundred bytes): a connection
   * that has not said who it is yet must not make us buffer a full-size frame.
   */
  constructor(
    private readonly frameBytesMax = FRAME_BYTES_MAX,
    private readonly firstFrameBytesMax = frameBytesMax,
  ) {}

  push(chunk: Uint8Array): DecodeResult {
    const frames: Uint8Array[] = [];
    if (this.error) return { frames, error: this.error };
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.bufferedBytes += chunk.length;
    }
    for (;;) {
      if (this.expectedBytes === null) {
        if (this.bufferedBytes < FRAME_HEADER_BYTES) break;
        const length = this.peekHeader();
        const max = this.firstDone ? this.frameBytesMax : this.firstFrameBytesMax;
        if (length > max) {
          this.error = new FrameError(`frame length ${length} exceeds the limit of ${max}${this.firstDone ? '' : ' for a first frame'}`);
          this.chunks = [];
          this.bufferedBytes = 0;
          return { frames, error: this.error };
        }
        this.expectedBytes = length;
      }
      if (this.bufferedBytes < FRAME_HEADER_BYTES + this.expectedBytes) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bufferedBytes);
      const end = FRAME_HEADER_BYTES + this.expectedBytes;
      frames.push(new Uint8Array(all.buffer, all.byteOffset + FRAME_HEADER_BYTES, this.expectedBytes));
      const rest = all.subarray(end);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      this.expectedBytes = null;
      this.firstDone = true;
    }
    return { frames, error: null };
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  private peekHeader(): number {
    const head = this.chunks[0].length >= FRAME_HEADER_BYTES ? this.chunks[0] : Buffer.concat(this.chunks, this.bufferedBytes);
    return head.readUInt32BE(0);
  }
}
