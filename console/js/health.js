// What the operator must know first, in words: is there a quorum, which
// members do not answer, is there a leader. From one `cluster` event of the
// feed (this node's view, with each member's own answer in `peers`). No DOM,
// so the unit tests run it as it is (test/console/health.test.ts).

/** Voting members whose own API did not answer the feed's last poll. */
function notAnswering(cluster) {
  const peers = new Map((cluster.peers ?? []).map((peer) => [peer.id, peer]));
  return cluster.members.filter((m) => m.voter && peers.get(m.id)?.ok === false).map((m) => m.id);
}

const list = (ids) => (ids.length === 1 ? ids[0] : `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`);

/**
 * null when all is well; otherwise {level: 'bad'|'warn', text}. A member not
 * yet asked (the feed's first event) counts as answering: no alarm from a
 * page that has only just opened.
 */
export function clusterHealth(cluster) {
  const voters = cluster.members.filter((m) => m.voter).length;
  const majority = Math.floor(voters / 2) + 1;
  const down = notAnswering(cluster);
  const answering = voters - down.length;
  const doNot = `${list(down)} ${down.length === 1 ? 'does' : 'do'} not answer`;
  if (answering < majority) {
    return {
      level: 'bad',
      text: `No quorum: only ${answering} of ${voters} voting members answer (${doNot}). Until ${majority} answer there is no leader: nothing can be locked, released or listed, and sessions cannot be kept alive. Restart the stopped nodes.`,
    };
  }
  if (cluster.leader === null) {
    return { level: 'warn', text: `No leader right now (term ${cluster.term}): an election is going on; ${answering} of ${voters} voting members answer.${down.length > 0 ? ` ${doNot}.` : ''}` };
  }
  if (down.length > 0) {
    const spare = answering - majority;
    return {
      level: 'warn',
      text: `${doNot}: the cluster runs on ${answering} of ${voters} voting members; ${spare === 0 ? 'one more failure stops it (no quorum)' : `it can lose ${spare} more`}.`,
    };
  }
  return null;
}
