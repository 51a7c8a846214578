// One token's share of a per-node cap (waits, watch streams: limits.ts
// waitsPerTokenMax, watchesPerTokenMax), so that one writer or reader token
// cannot take all of it from the others. Admin tokens (the root included)
// and auth off count against nothing.

import type { Role } from '../locks/permissions.js';

/** The token a wait or a stream counts against, or null when it counts against none. */
export function countedToken(tokenId: string | null, role: Role | null): string | null {
  return tokenId !== null && role !== 'admin' ? tokenId : null;
}

export class TokenShare {
  private readonly held = new Map<string, number>();

  constructor(private readonly perTokenMax: number) {}

  /** Whether `tokenId` (null: not counted) may take one more. */
  hasRoom(tokenId: string | null): boolean {
    return tokenId === null || this.count(tokenId) < this.perTokenMax;
  }

  take(tokenId: string | null): void {
    if (tokenId !== null) this.held.set(tokenId, this.count(tokenId) + 1);
  }

  /** Gives back one taken by `tokenId`. */
  give(tokenId: string | null): void {
    if (tokenId === null) return;
    const left = this.count(tokenId) - 1;
    if (left > 0) this.held.set(tokenId, left);
    else this.held.delete(tokenId);
  }

  count(tokenId: string): number {
    return this.held.get(tokenId) ?? 0;
  }

  clear(): void {
    this.held.clear();
  }
}
