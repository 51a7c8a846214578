// Entry fingerprints and the prefix-hash chain used by the log-matching check
// (Raft §5.3: same index and term ⇒ identical logs up to that index).

import type { Entry } from '../../src/raft/types.js';

const textDecoder = new TextDecoder();

/** What an entry says, independent of where it sits: equal fingerprints ⇔ equal entries. */
export function entryFingerprint(e: Entry): string {
  switch (e.type) {
    case 'normal':
      return `t${e.term}:cmd:${textDecoder.decode(e.data)}`;
    case 'noop':
      return `t${e.term}:noop`;
    case 'config':
      return `t${e.term}:conf:${e.change.kind}:${e.change.node}`;
  }
}

export function commandId(e: Entry): string | null {
  return e.type === 'normal' ? textDecoder.decode(e.data) : null;
}

/**
 * Chain hash: h(prefix ending at i) = mix(h(prefix ending at i-1), fingerprint(entry i)).
 * Two 32-bit FNV lanes folded into a 53-bit safe integer.
 */
export function chainHash(previous: number, fingerprint: string): number {
  let lo = (previous >>> 0) ^ 0x811c9dc5;
  let hi = Math.floor(previous / 0x1_0000_0000) ^ 0x01000193;
  for (let i = 0; i < fingerprint.length; i++) {
    const c = fingerprint.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193);
    hi = Math.imul(hi ^ (c + 0x9e), 0x85ebca6b);
  }
  return ((hi >>> 0) & 0x1f_ffff) * 0x1_0000_0000 + (lo >>> 0);
}

/** The hash of the empty prefix (index 0). */
export const EMPTY_PREFIX_HASH = 0;
