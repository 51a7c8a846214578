// msgpackr encoding of proposals (Raft entry data) and of the machine's
// snapshot. Plain objects and arrays only, no records/structures, so that a
// snapshot written by one node decodes identically on another.
import { Packr } from 'msgpackr';
import type { LockProposal } from './commands.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeProposal(proposal: LockProposal): Uint8Array {
  return packr.pack(proposal);
}

/** Decodes bytes; the shape is checked by the machine (a bad entry must not crash every replica). */
export function decodeProposal(data: Uint8Array): LockProposal {
  return packr.unpack(data) as LockProposal;
}

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue(data: Uint8Array): unknown {
  return packr.unpack(data);
}
