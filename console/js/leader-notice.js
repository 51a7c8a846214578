// The notice a cluster event gives about the leader, in words, or null. The
// notices are a log, newest on top, and an operator reads the top one as the
// state now: after "no leader known" the next leader is always said, also when
// it is the one the page knew before (it was once left unsaid, and the top
// notice kept saying there was no leader). No DOM, so the unit tests run it as
// it is (test/console/leader-notice.test.ts).

/**
 * `known`: the last leader this page named (null before the first); `before`:
 * the leader of the previous event (undefined before the first); `now`: this
 * event ({leader, term}).
 */
export function leaderNotice(known, before, now) {
  if (now.leader === null) return before != null ? `no leader known (term ${now.term})` : null;
  if (known === null) return null;
  if (now.leader !== known) return `leader changed: ${known} → ${now.leader} (term ${now.term})`;
  if (before === null) return `leader ${now.leader} again (term ${now.term})`;
  return null;
}
