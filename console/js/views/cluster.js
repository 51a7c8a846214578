// Cluster: every member with its role, term, commit and applied index, lag and
// reachability, the leader; the leaders and terms of the last minutes as a
// timeline; an admin hands leadership over from here.

import { clock, colorOf, fill, h } from '../dom.js';

/** How far back the timeline looks. */
const TIMELINE_MS = 10 * 60_000;

function memberRows(ctx, cluster) {
  const peers = new Map((cluster.peers ?? []).map((peer) => [peer.id, peer]));
  const leaderPeer = peers.get(cluster.leader);
  return cluster.members.map((member) => {
    const peer = peers.get(member.id);
    const own = peer?.ok ? peer : null;
    // Lag: entries this member has not applied of what the leader knows committed
    // (from the leader's own view), or, on the leader's view, commit − match.
    const leaderCommit = leaderPeer?.ok ? leaderPeer.commitIndex : cluster.self === cluster.leader ? cluster.commitIndex : null;
    const reachable = member.reachable ?? (peer === undefined ? null : peer.ok);
    // The leader's match index for a member it does not hear from is no fact about that member: a new
    // leader starts every member at 0, so after a failover the dead node read "Match 0, Lag <commit>".
    // Either view will do: a new leader counts every member as active until its first check-quorum
    // round (an election timeout), while this page's own call to a killed member fails at once.
    const silent = reachable === false || peer?.ok === false;
    const match = silent ? undefined : member.matchIndex;
    const lag = own !== null && leaderCommit !== null ? Math.max(0, leaderCommit - own.appliedIndex)
      : match !== undefined ? Math.max(0, cluster.commitIndex - match) : null;
    const unknown = () => (silent ? h('span', { class: 'muted', title: 'not answering: how far behind it is is not known' }, '—') : '—');
    const isLeader = member.id === cluster.leader;
    // A member whose own API does not answer has no role to show (null): this node's guess would be stale.
    const shownRole = peer?.ok === false && !isLeader ? null : isLeader ? 'leader' : (own?.role ?? member.role);
    // No action on a view that may be out of date (the feed is lost), nor towards a member that does not
    // answer: the hand-over to it could only time out (5 s), after pausing the leader's writes.
    const action = ctx.live && ctx.may('admin') && member.voter && !isLeader && cluster.leader !== null && reachable !== false
      ? h('button', { type: 'button', class: 'transfer', 'data-to': member.id, onclick: () => transfer(ctx, member.id) }, 'Make leader')
      : null;
    return h('tr', { class: isLeader ? 'leader' : '', 'data-member': member.id },
      h('td', {}, member.id, member.id === cluster.self ? h('span', { class: 'muted' }, ' (this node)') : null),
      h('td', {}, shownRole === null ? h('span', { class: 'muted', title: peer.error }, 'not answering')
        : h('span', { class: `pill ${isLeader ? 'leader' : ''}` }, shownRole),
      // A learner's own role is already "learner": said once, not "learner learner" (but said when it does not answer).
      member.voter || shownRole === 'learner' ? null : h('span', { class: 'pill' }, 'learner')),
      h('td', { class: 'num' }, own?.term ?? '—'),
      h('td', { class: 'num' }, own?.commitIndex ?? '—'),
      h('td', { class: 'num' }, own?.appliedIndex ?? '—'),
      h('td', { class: 'num' }, match ?? unknown()),
      h('td', { class: 'num' }, lag ?? unknown()),
      h('td', {}, reachable === null ? '—' : h('span', { class: `pill ${reachable ? 'ok' : 'bad'}`, title: peer && !peer.ok ? peer.error : '' }, reachable ? 'yes' : 'no')),
      h('td', {}, member.apiUrl ? h('a', { href: `${member.apiUrl.replace(/\/$/, '')}/ui/` }, 'console') : '—'),
      h('td', {}, action));
  });
}

async function transfer(ctx, to) {
  const from = ctx.cluster?.leader ?? 'the leader';
  if (!confirm(`Hand leadership over from ${from} to ${to}? Writes pause for a moment while ${to} takes over.`)) return;
  try {
    const answer = await ctx.api('POST', '/v1/cluster/leadership', to === null ? {} : { to });
    ctx.notice(`leadership handed over: ${answer.previous} → ${answer.leader}`);
  } catch (error) {
    ctx.notice(`leadership was not handed over: ${error.code} — ${error.message}`, 'warn');
  }
}

/** One entry of the history in words (leader-history.js: `unseen` is time this page has no record of). */
function describe(change) {
  if (change.unseen) return `not seen: the live feed from ${change.node} was lost and ${change.node} restarted`;
  return `term ${change.term}: ${change.leader === null ? 'no leader' : `leader ${change.leader}`}`;
}

function timeline(history, nowMs) {
  const start = nowMs - TIMELINE_MS;
  const segments = [];
  history.forEach((change, i) => {
    const end = i + 1 < history.length ? history[i + 1].atMs : nowMs;
    if (end <= start) return;
    const from = Math.max(change.atMs, start);
    segments.push(h('div', {
      class: change.unseen ? 'unseen' : change.leader === null ? 'none' : '',
      style: { width: `${(((end - from) / TIMELINE_MS) * 100).toFixed(3)}%`, ...(change.leader === null ? {} : { background: colorOf(change.leader) }) },
      title: `${clock(from)}–${clock(end)}: ${describe(change)}`,
    }, change.leader === null ? '' : `${change.leader} t${change.term}`));
  });
  return segments;
}

/**
 * Where Match and Reachable come from. Only the leader tracks match indexes and hears from every
 * member; a follower's page shows no match index, and Reachable there is whether each member's API
 * answered this node's poll (the note once called both "the leader's view" on every node).
 */
function sources(cluster) {
  if (cluster.self === cluster.leader) return 'match index and reachability are this node\'s view as the leader';
  return `match index is known to the leader only (see its console); reachable is whether each member's API answered ${cluster.self}`;
}

export function clusterView(root, ctx) {
  const rows = h('tbody');
  const bar = h('div', { class: 'timeline', 'aria-label': 'leaders over the last 10 minutes' });
  const changes = h('ol', { class: 'changes', reversed: true });
  const note = h('p', { class: 'muted' });
  root.append(
    h('h2', {}, 'Members'),
    h('table', { id: 'members' },
      h('thead', {}, h('tr', {}, ['Node', 'Role', 'Term', 'Commit', 'Applied', 'Match', 'Lag', 'Reachable', 'Console', ''].map((t) => h('th', { class: ['Term', 'Commit', 'Applied', 'Match', 'Lag'].includes(t) ? 'num' : '' }, t)))),
      rows),
    note,
    h('h2', {}, 'Leaders and terms, last 10 minutes'),
    bar,
    changes,
  );
  const render = (cluster) => {
    fill(rows, memberRows(ctx, cluster));
    fill(note, `Term, commit and applied index are each member's own answer; ${sources(cluster)}. `, ctx.may('admin')
      ? '"Make leader" hands leadership over.'
      : `Handing leadership over needs an admin token; this one is ${ctx.identity.role}.`);
    fill(bar, timeline(ctx.history, ctx.serverNowMs()));
    fill(changes, ctx.history.slice(-10).reverse().map((c) => h('li', {}, `${clock(c.atMs)} ${describe(c)}`)));
  };
  const off = ctx.onCluster(render);
  // The timeline moves on even when nothing changes.
  const timer = setInterval(() => fill(bar, timeline(ctx.history, ctx.serverNowMs())), 5_000);
  return () => {
    off();
    clearInterval(timer);
  };
}
