// Shape checks for decoded records: a record whose checksum matches but whose
// content is not what we wrote (a bug, or a foreign database) is corruption too.
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { CorruptRecordError } from './record.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function asHardState(v: unknown): HardState {
  if (!isObject(v) || !isIndex(v.term) || !isIndex(v.commit) || !(v.vote === null || typeof v.vote === 'string')) {
    throw new CorruptRecordError('hard state record has the wrong shape');
  }
  return { term: v.term, vote: v.vote, commit: v.commit } as HardState;
}

export function asSnapshot(v: unknown): Snapshot {
  if (!isObject(v) || !isObject(v.meta) || !isIndex(v.meta.index) || !isIndex(v.meta.term) || !(v.data instanceof Uint8Array)) {
    throw new CorruptRecordError('snapshot record has the wrong shape');
  }
  return v as unknown as Snapshot;
}

export function asEntry(v: unknown, index: number): Entry {
  if (!isObject(v) || v.index !== index || !isIndex(v.term)) {
    throw new CorruptRecordError(`entry record at ${index} has the wrong shape or index`);
  }
  if (v.type === 'normal' ? !(v.data instanceof Uint8Array) : v.type === 'config' ? !isObject(v.change) : v.type !== 'noop') {
    throw new CorruptRecordError(`entry record at ${index} has an unknown type or payload`);
  }
  return v as unknown as Entry;
}
