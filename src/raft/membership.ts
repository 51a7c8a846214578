// The membership in force and how one ConfChange moves it (Raft dissertation
// §4.1: single-server changes, effective as soon as the entry is appended).

import type { ConfChange, ConfState, NodeId } from './types.js';

export interface Membership {
  readonly voters: ReadonlySet<NodeId>;
  readonly learners: ReadonlySet<NodeId>;
  /** Ids removed from the cluster, in the order of their removal (ConfState.removed). */
  readonly removed: ReadonlySet<NodeId>;
  /** ConfChange.context of each member (addresses), opaque to Raft. */
  readonly context: ReadonlyMap<NodeId, Uint8Array>;
}

export function membershipFrom(conf: ConfState, memberContext?: Record<string, Uint8Array>): Membership {
  const context = new Map<NodeId, Uint8Array>();
  for (const [id, bytes] of Object.entries(memberContext ?? {})) {
    context.set(id as NodeId, bytes);
  }
  return { voters: new Set(conf.voters), learners: new Set(conf.learners), removed: new Set(conf.removed ?? []), context };
}

/**
 * Removed ids remembered, the oldest forgotten first: a snapshot carries them, and a peer's snapshot
 * meta is checked against MEMBERS_MAX (transport/limits.ts), which this must not exceed.
 */
export const REMOVED_IDS_MAX = 1024;

export function confStateOf(m: Membership): ConfState {
  const conf: ConfState = { voters: [...m.voters].sort(), learners: [...m.learners].sort() };
  // Removal order, not sorted: which id is forgotten first must be the same on every replica.
  if (m.removed.size > 0) conf.removed = [...m.removed];
  return conf;
}

export function memberContextOf(m: Membership): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [id, bytes] of m.context) out[id] = bytes;
  return out;
}

export function isMember(m: Membership, id: NodeId): boolean {
  return m.voters.has(id) || m.learners.has(id);
}

/** isMember, on a configuration as the core reports it (RaftStatus.conf, appliedConf). */
export function inConf(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

const KNOWN_KINDS: ReadonlySet<string> = new Set<ConfChange['kind']>(['addVoter', 'addLearner', 'removeNode']);

/** False for a kind this version does not know: applyConfChange makes it a no-op, and the node logs it. */
export function isKnownConfChange(change: ConfChange): boolean {
  return KNOWN_KINDS.has(change.kind);
}

/**
 * Apply one change. Validity (one at a time, no demotion, never the last
 * voter) is checked by the leader in proposeConfChange; here we only apply,
 * so that every node computes the same membership from the same log.
 */
export function applyConfChange(m: Membership, change: ConfChange): Membership {
  const voters = new Set(m.voters);
  const learners = new Set(m.learners);
  const removed = new Set(m.removed);
  const context = new Map(m.context);
  switch (change.kind) {
    case 'addVoter':
      learners.delete(change.node);
      voters.add(change.node);
      // Only in logs written before ids were remembered (the leader refuses it now): members and removed stay apart.
      removed.delete(change.node);
      break;
    case 'addLearner':
      if (!voters.has(change.node)) learners.add(change.node);
      removed.delete(change.node);
      break;
    case 'removeNode':
      if (voters.delete(change.node) || learners.delete(change.node)) {
        removed.add(change.node);
        if (removed.size > REMOVED_IDS_MAX) removed.delete(removed.values().next().value as NodeId);
      }
      context.delete(change.node);
      break;
    default:
      // A kind this version does not know (a log written by a newer or buggy member): a no-op on
      // every node alike, never a crash at every restart. The node logs it (src/node/ready-handler.ts).
      return m;
  }
  if (change.kind !== 'removeNode' && change.context !== undefined) {
    context.set(change.node, change.context);
  }
  return { voters, learners, removed, context };
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  const eq = (x: NodeId[], y: NodeId[]): boolean => {
    const sx = [...x].sort();
    const sy = [...y].sort();
    return sx.length === sy.length && sx.every((v, i) => v === sy[i]);
  };
  return eq(a.voters, b.voters) && eq(a.learners, b.learners) && eq(a.removed ?? [], b.removed ?? []);
}
