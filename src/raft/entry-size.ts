import type { Entry } from './types.js';

/** Fixed per-entry overhead counted against maxBytesPerAppend (index, term, type tag). */
export const ENTRY_OVERHEAD_BYTES = 24;

/** Approximate wire size of an entry, for batching limits. */
export function entryBytes(entry: Entry): number {
  switch (entry.type) {
    case 'normal':
      return ENTRY_OVERHEAD_BYTES + entry.data.byteLength;
    case 'noop':
      return ENTRY_OVERHEAD_BYTES;
    case 'config':
      return ENTRY_OVERHEAD_BYTES + entry.change.node.length + (entry.change.context?.byteLength ?? 0);
  }
}
