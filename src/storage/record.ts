// One stored value: [crc32 of payload, 4 bytes big-endian][msgpack payload].
// LevelDB checksums its own blocks, but a record checksum also catches bytes
// damaged above LevelDB (a bad copy, a bit flip in a backup, a bug writing the
// wrong buffer) and lets load() say exactly which index is bad.
import { Packr } from 'msgpackr';
import { crc32 } from './crc32.js';

const CHECKSUM_BYTES = 4;

// useRecords: false keeps plain maps (no msgpackr record extension), so the
// bytes stay readable by any msgpack decoder. copyBuffers: true gives every
// Uint8Array its own memory instead of a view into the value buffer.
const packr = new Packr({ useRecords: false, copyBuffers: true });

export class CorruptRecordError extends Error {
  readonly code = 'corrupt_record';
}

export function encodeRecord(value: unknown): Uint8Array {
  const payload = packr.pack(value);
  const out = new Uint8Array(CHECKSUM_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, crc32(payload), false);
  out.set(payload, CHECKSUM_BYTES);
  return out;
}

/** BYTES of a framed record's length prefix (u32 big-endian): [length][crc32][payload]. */
export const FRAME_LENGTH_BYTES = 4;

/**
 * A record with its length in front, for a log of records back to back
 * (src/storage/file-storage.ts). Made in one allocation: the log's hot path.
 */
export function encodeFramedRecord(value: unknown): Buffer {
  const payload = packr.pack(value);
  const out = Buffer.allocUnsafe(FRAME_LENGTH_BYTES + CHECKSUM_BYTES + payload.length);
  out.writeUInt32BE(CHECKSUM_BYTES + payload.length, 0);
  out.writeUInt32BE(crc32(payload), FRAME_LENGTH_BYTES);
  out.set(payload, FRAME_LENGTH_BYTES + CHECKSUM_BYTES);
  return out;
}

/** Throws CorruptRecordError when the record is short or its checksum does not match. */
export function decodeRecord(record: Uint8Array): unknown {
  if (record.length < CHECKSUM_BYTES + 1) {
    throw new CorruptRecordError(`record too short (${record.length} bytes)`);
  }
  const stored = new DataView(record.buffer, record.byteOffset, record.byteLength).getUint32(0, false);
  // A plain Uint8Array view (not a Buffer) so that msgpackr hands back plain Uint8Arrays.
  const payload = new Uint8Array(record.buffer, record.byteOffset + CHECKSUM_BYTES, record.length - CHECKSUM_BYTES);
  const actual = crc32(payload);
  if (stored !== actual) {
    throw new CorruptRecordError(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`);
  }
  try {
    return packr.unpack(payload);
  } catch (err) {
    throw new CorruptRecordError(`undecodable payload: ${(err as Error).message}`);
  }
}
