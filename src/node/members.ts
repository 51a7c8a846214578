// Where to reach the cluster's members: an address book (peer and API URLs) fed
// by the initial --peers, snapshot member context, config entries' context
// (appended or applied) and the transport's handshake. Who IS a member is the
// core's fact (RaftStatus.conf / appliedConf), not kept here. Addresses only
// ever get added or refreshed; a removed member keeps its entry so that late
// messages can be attributed.
import { pack, unpack } from 'msgpackr';
import type { ConfState, NodeId } from '../raft/types.js';
import { parseAddress } from '../transport/address.js';
import type { MemberInfo } from './api.js';

export interface MemberAddress {
  peerUrl: string | null;
  apiUrl: string | null;
}

/** What the node layer puts in ConfChange.context and SnapshotMeta.memberContext. */
export interface MemberContext {
  peerUrl: string;
  apiUrl: string | null;
}

export function encodeMemberContext(ctx: MemberContext): Uint8Array {
  return pack({ peerUrl: ctx.peerUrl, apiUrl: ctx.apiUrl });
}

/**
 * Decodes a context; null for an absent, foreign or unusable one (a context we cannot read must not
 * stop the apply loop: a peer address that does not parse would make the transport throw).
 */
export function decodeMemberContext(bytes: Uint8Array | undefined): MemberContext | null {
  if (!bytes || bytes.length === 0) return null;
  try {
    const v = unpack(bytes) as Partial<MemberContext> | null;
    if (!v || typeof v.peerUrl !== 'string') return null;
    parseAddress(v.peerUrl);
    return { peerUrl: v.peerUrl, apiUrl: typeof v.apiUrl === 'string' && isHttpUrl(v.apiUrl) ? v.apiUrl : null };
  } catch {
    return null;
  }
}

/** An absolute http(s) URL: what a member's API address must be before anyone builds a request from it. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export class AddressBook {
  private readonly book = new Map<NodeId, MemberAddress>();
  /**
   * Peer addresses this node was told locally (--peers). Replicated contexts
   * (snapshots, config entries) carry the PROPOSER's address book; where nodes
   * reach each other at different addresses (NAT, containers, a proxy per
   * link) those must not override what the operator gave this node.
   */
  private readonly pinnedPeerUrls = new Map<NodeId, string>();

  /** An address given to this node directly (its --peers list): replicated contexts never override it. */
  pinPeerUrl(id: NodeId, peerUrl: string): void {
    this.pinnedPeerUrls.set(id, peerUrl);
    this.learnAddress(id, { peerUrl });
  }

  /** A replicated context (snapshot or config entry): the proposer's view of the member's addresses. */
  learnContext(id: NodeId, bytes: Uint8Array | undefined): void {
    const ctx = decodeMemberContext(bytes);
    if (!ctx) return;
    const pinned = this.pinnedPeerUrls.get(id);
    this.learnAddress(id, { peerUrl: pinned ?? ctx.peerUrl, apiUrl: ctx.apiUrl });
  }

  /** Every context of a snapshot's SnapshotMeta.memberContext. */
  learnContexts(memberContext: Record<string, Uint8Array> | undefined): void {
    for (const [id, bytes] of Object.entries(memberContext ?? {})) this.learnContext(id as NodeId, bytes);
  }

  learnAddress(id: NodeId, address: Partial<MemberAddress>): boolean {
    const current = this.book.get(id) ?? { peerUrl: null, apiUrl: null };
    const next: MemberAddress = {
      peerUrl: address.peerUrl ?? current.peerUrl,
      apiUrl: address.apiUrl ?? current.apiUrl,
    };
    const changed = next.peerUrl !== current.peerUrl || next.apiUrl !== current.apiUrl;
    this.book.set(id, next);
    return changed;
  }

  address(id: NodeId): MemberAddress | null {
    return this.book.get(id) ?? null;
  }

  /** Member contexts of the members of `conf`, for a snapshot that records it. */
  contexts(conf: ConfState): Record<string, Uint8Array> {
    const out: Record<string, Uint8Array> = {};
    for (const id of [...conf.voters, ...conf.learners]) {
      const a = this.book.get(id);
      if (a?.peerUrl) out[id] = encodeMemberContext({ peerUrl: a.peerUrl, apiUrl: a.apiUrl });
    }
    return out;
  }

  /** Peer addresses for the transport: every known address but our own. */
  peerAddresses(self: NodeId): Map<NodeId, string> {
    const out = new Map<NodeId, string>();
    for (const [id, a] of this.book) if (id !== self && a.peerUrl) out.set(id, a.peerUrl);
    return out;
  }

  /** The members of `conf` (the core's applied configuration) with their addresses. */
  members(conf: ConfState): MemberInfo[] {
    return [...conf.voters, ...conf.learners].map((id) => {
      const a = this.book.get(id);
      return { id, peerUrl: a?.peerUrl ?? '', apiUrl: a?.apiUrl ?? null, voter: conf.voters.includes(id) };
    });
  }
}
