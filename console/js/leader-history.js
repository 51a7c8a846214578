// The leader timeline's history as this page keeps it. Every `cluster` event
// of the feed carries the serving node's own record (`history`: the leaders
// and terms it has seen, newest last), but that record lives in the node's
// memory: when the node restarts it starts again from its restart. The page
// keeps what it has already seen and adds what the node records after it, so
// a restart of the serving node takes no history off the page. No DOM, so the
// unit tests run it as it is (test/console/leader-history.test.ts).

/** As many as the node keeps (LEADER_CHANGES_MAX, src/server/leader-history.ts; a page module cannot import it). */
export const KEPT_MAX = 256;

const key = (change) => `${change.atMs}:${change.term}:${change.leader}`;

/**
 * `kept` (what the page has) with the node's `record` merged in, oldest first,
 * at most KEPT_MAX entries. `lost` ({atMs, node}, or null) is when the page
 * lost the feed, given with the first event after it is back: when the node's
 * record starts after it (the node restarted), nobody on this page saw what
 * happened in between, and an entry {atMs, unseen: true, node} says so rather
 * than drawing the last leader seen across it.
 */
export function keepHistory(kept, record, lost = null) {
  const all = [...kept];
  const keys = new Set(kept.map(key));
  if (lost !== null && kept.length > 0 && (record.length === 0 || record[0].atMs > lost.atMs)) {
    all.push({ atMs: lost.atMs, term: null, leader: null, unseen: true, node: lost.node });
  }
  for (const change of record) if (!keys.has(key(change))) all.push(change);
  // Stable: entries of the same ms stay in the order they came.
  all.sort((a, b) => a.atMs - b.atMs);
  return all.slice(-KEPT_MAX);
}
