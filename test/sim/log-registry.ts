// Global record, over all nodes and all history, of the prefix hash of every
// (index, term) that any node ever persisted. Log matching (Raft §5.3) says
// two logs holding an entry with the same index and term are identical up to
// it, so one (index, term) must always map to one prefix hash.

import { violate } from './violation.js';

/** A prefix whose hash is unknown (e.g. after a snapshot nobody's log ever held). */
export const UNKNOWN_PREFIX_HASH = -1;

export class LogRegistry {
  private readonly prefixHashByPosition = new Map<string, { hash: number; node: string }>();

  record(node: string, index: number, term: number, hash: number): void {
    if (hash === UNKNOWN_PREFIX_HASH) return;
    const key = `${index}:${term}`;
    const seen = this.prefixHashByPosition.get(key);
    if (seen === undefined) {
      this.prefixHashByPosition.set(key, { hash, node });
    } else if (seen.hash !== hash) {
      violate(
        'log matching',
        `${node} and ${seen.node} both hold an entry at index ${index} term ${term} but their logs differ at or before it`,
      );
    }
  }

  lookup(index: number, term: number): number {
    return this.prefixHashByPosition.get(`${index}:${term}`)?.hash ?? UNKNOWN_PREFIX_HASH;
  }
}
