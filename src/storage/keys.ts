// LevelDB key layout. One-byte prefixes keep the three kinds apart; entry keys
// carry the index as 8 bytes big-endian so LevelDB's bytewise order is log order.

const HARD_STATE_PREFIX = 0x68; // 'h'
const SNAPSHOT_PREFIX = 0x73; // 's'
const ENTRY_PREFIX = 0x65; // 'e'
const ENTRY_KEY_BYTES = 9;

export const HARD_STATE_KEY: Buffer = Buffer.from([HARD_STATE_PREFIX]);
export const SNAPSHOT_KEY: Buffer = Buffer.from([SNAPSHOT_PREFIX]);
/** Exclusive upper bound of every entry key. */
export const ENTRY_KEY_END: Buffer = Buffer.from([ENTRY_PREFIX + 1]);

export function entryKey(index: number): Buffer {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`not a log index: ${index}`);
  const key = Buffer.alloc(ENTRY_KEY_BYTES);
  key[0] = ENTRY_PREFIX;
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

/** The index in an entry key, or null if `key` is not one. */
export function entryIndexOf(key: Uint8Array): number | null {
  if (key.length !== ENTRY_KEY_BYTES || key[0] !== ENTRY_PREFIX) return null;
  const index = Buffer.from(key.buffer, key.byteOffset, key.byteLength).readBigUInt64BE(1);
  return index <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(index) : null;
}
