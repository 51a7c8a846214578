// The membership in force and how one ConfChange moves it (Raft dissertation
// §4.1: single-server changes, effective as soon as the entry is appended).

import type { ConfChange, ConfState, NodeId } from './types.js';

export interface Membership {
  readonly voters: ReadonlySet<NodeId>;
  readonly learners: ReadonlySet<NodeId>;
  /** ConfChange.context of each member (addresses), opaque to Raft. */
  readonly context: ReadonlyMap<NodeId, Uint8Array>;
}

export function membershipFrom(conf: ConfState, memberContext?: Record<string, Uint8Array>): Membership {
  const context = new Map<NodeId, Uint8Array>();
  for (const [id, bytes] of Object.entries(memberContext ?? {})) {
    context.set(id as NodeId, bytes);
  }
  return { voters: new Set(conf.voters), learners: new Set(conf.learners), context };
}

export function confStateOf(m: Membership): ConfState {
  return { voters: [...m.voters].sort(), learners: [...m.learners].sort() };
}

export function memberContextOf(m: Membership): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [id, bytes] of m.context) out[id] = bytes;
  return out;
}

export function isMember(m: Membership, id: NodeId): boolean {
  return m.voters.has(id) || m.learners.has(id);
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
  const context = new Map(m.context);
  switch (change.kind) {
    case 'addVoter':
      learners.delete(change.node);
      voters.add(change.node);
      break;
    case 'addLearner':
      if (!voters.has(change.node)) learners.add(change.node);
      break;
    case 'removeNode':
      voters.delete(change.node);
      learners.delete(change.node);
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
  return { voters, learners, context };
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  const eq = (x: NodeId[], y: NodeId[]): boolean => {
    const sx = [...x].sort();
    const sy = [...y].sort();
    return sx.length === sy.length && sx.every((v, i) => v === sy[i]);
  };
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}
