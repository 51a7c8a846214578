// Who a certificate speaks for. A node's certificate names its node id as the
// URI SAN `urn:lockstep:node:<id>`; a client certificate names none. The peer
// channel trusts a connection only as the node its certificate names.
import type { NodeId } from '../raft/types.js';

export const NODE_URI_PREFIX = 'urn:lockstep:node:';

/**
 * Node ids a certificate can carry: URI-safe characters only, so that the
 * URI SAN needs no escaping and parses back unambiguously.
 */
export const CERT_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** CERT_NODE_ID in words, for messages and help. */
export const NODE_ID_RULE = '1-128 of [A-Za-z0-9._:-], starting with a letter or digit';

export function nodeUri(id: string): string {
  if (!CERT_NODE_ID.test(id)) throw new RangeError(`node id ${JSON.stringify(id)} cannot go into a certificate: ${NODE_ID_RULE}`);
  return NODE_URI_PREFIX + id;
}

/** One `URI:urn:lockstep:node:<id>` entry of node's subjectAltName text; a value node had to quote never matches. */
const NODE_SAN_ENTRY = /^URI:urn:lockstep:node:([A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;

/**
 * The node id named by a certificate's subjectAltName (node:tls's text form,
 * "URI:..., IP Address:..., DNS:..."), or null when it names none or more
 * than one (such a certificate speaks for no node).
 */
export function nodeIdOfSubjectAltName(subjectAltName: string | undefined): NodeId | null {
  if (!subjectAltName) return null;
  const ids = subjectAltName
    .split(', ')
    .map((entry) => NODE_SAN_ENTRY.exec(entry)?.[1])
    .filter((id): id is string => id !== undefined);
  return ids.length === 1 ? (ids[0] as NodeId) : null;
}
