// decodeBackup (src/node/backup.ts): a backup whose state is not the length its
// header says is refused, with a hint that fits which way it is wrong.
import { describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup } from '../../src/node/backup.js';

const STATE = new Uint8Array([1, 2, 3, 4, 5]);
const backup = encodeBackup({ clusterId: 'c-test', takenBy: 'n1', takenAtMs: 0, index: 9, term: 2 }, STATE);

describe('decodeBackup', () => {
  it('reads back what encodeBackup wrote', () => {
    const { header, data } = decodeBackup(backup);
    expect(header.index).toBe(9);
    expect([...data]).toEqual([...STATE]);
  });

  it('a file cut short: "cut short?"', () => {
    expect(() => decodeBackup(backup.subarray(0, backup.length - 2))).toThrow('holds 3 bytes of state, its header says 5 (cut short?)');
  });

  it('bytes after the end: says so, not "cut short"', () => {
    const longer = new Uint8Array([...backup, 0x0a, 0x0a]);
    expect(() => decodeBackup(longer)).toThrow('holds 7 bytes of state, its header says 5 (bytes added after its end?)');
  });
});
