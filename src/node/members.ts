// Who is in the cluster and where to reach them. Two things kept apart:
//  - the configuration AS OF THE APPLIED INDEX (voters, learners), rebuilt from
//    the snapshot and the applied config entries, which is what a snapshot must
//    record (Raft §6: the core may already act on appended, uncommitted changes);
//  - an address book (peer and API URLs) fed by the initial --peers, snapshot
//    member context, config entries' context (appended or applied) and the
//    transport's handshake. Addresses only ever get added or refreshed here; a
//    removed member keeps its entry so that late messages can be attributed.
import { pack, unpack } from 'msgpackr';
import type { ConfChange, ConfState, NodeId } from '../raft/types.js';
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

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

const KNOWN_KINDS: ReadonlySet<string> = new Set<ConfChange['kind']>(['addVoter', 'addLearner', 'removeNode']);

export class Membership {
  private voters: NodeId[];
  private learners: NodeId[];
  private readonly book = new Map<NodeId, MemberAddress>();
  /**
   * Peer addresses this node was told locally (--peers). Replicated contexts
   * (snapshots, config entries) carry the PROPOSER's address book; where nodes
   * reach each other at different addresses (NAT, containers, a proxy per
   * link) those must not override what the operator gave this node.
   */
  private readonly pinnedPeerUrls = new Map<NodeId, string>();

  constructor(initialVoters: NodeId[]) {
    this.voters = [...initialVoters];
    this.learners = [];
  }

  conf(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  /** Replace the applied configuration (snapshot restore). */
  resetConf(conf: ConfState, memberContext: Record<string, Uint8Array> | undefined): void {
    this.voters = [...conf.voters];
    this.learners = [...conf.learners];
    for (const [id, bytes] of Object.entries(memberContext ?? {})) this.learnContext(id as NodeId, bytes);
  }

  /**
   * A config entry was applied. False (and nothing changed) for a kind this version does not know:
   * the core applies it as a no-op too (src/raft/membership.ts), so both keep agreeing.
   */
  applyChange(change: ConfChange): boolean {
    if (!KNOWN_KINDS.has(change.kind)) return false;
    this.learnContext(change.node, change.context);
    const id = change.node;
    this.voters = this.voters.filter((v) => v !== id);
    this.learners = this.learners.filter((v) => v !== id);
    if (change.kind === 'addVoter') this.voters.push(id);
    else if (change.kind === 'addLearner') this.learners.push(id);
    return true;
  }

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

  isMember(id: NodeId): boolean {
    return this.voters.includes(id) || this.learners.includes(id);
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  /** Member contexts of the current configuration, for a snapshot taken now. */
  contexts(): Record<string, Uint8Array> {
    const out: Record<string, Uint8Array> = {};
    for (const id of [...this.voters, ...this.learners]) {
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

  members(): MemberInfo[] {
    const ids = [...this.voters, ...this.learners];
    return ids.map((id) => {
      const a = this.book.get(id);
      return { id, peerUrl: a?.peerUrl ?? '', apiUrl: a?.apiUrl ?? null, voter: this.voters.includes(id) };
    });
  }
}
