// Sessions: a page at a time, with time left on the lease, lock-delay, holds
// and waits; deleting one (admin, or a writer on its names) asks first,
// naming the holds it would release.

import { countdown, fill, h } from '../dom.js';
import { pager } from './pager.js';
import { emptyFor } from './scope.js';
import { refresher } from './refresh.js';

const PAGE_SIZE = 50;

function holdLabel(hold) {
  return hold.kind === 'lock' ? `lock ${hold.name} (token ${hold.fencingToken})` : `election ${hold.name} (term ${hold.fencingToken})`;
}

async function deleteSession(ctx, session, reload) {
  const releases = session.holds.length === 0 ? 'It holds nothing.' : `This releases: ${session.holds.map(holdLabel).join('; ')}.`;
  const waits = session.waits.length === 0 ? '' : ` Its waits end: ${session.waits.join(', ')}.`;
  if (!confirm(`Delete session ${session.sessionId}${session.name ? ` (${session.name})` : ''}? ${releases}${waits}`)) return;
  try {
    const answer = await ctx.api('DELETE', `/v1/sessions/${encodeURIComponent(session.sessionId)}`);
    ctx.notice(`session ${answer.sessionId} deleted; released ${answer.released.length === 0 ? 'nothing' : answer.released.map((r) => `${r.name} (token ${r.fencingToken})`).join(', ')}`);
  } catch (error) {
    ctx.notice(`session ${session.sessionId} was not deleted: ${error.code} — ${error.message}`, 'warn');
  }
  reload();
}

export function sessionsView(root, ctx) {
  const rows = h('tbody');
  const pages = pager(() => refresh.now());
  root.append(
    h('div', { class: 'toolbar' }, pages.controls),
    h('table', { id: 'sessions' }, h('thead', {}, h('tr', {}, ['Session', 'Name', 'TTL', 'Time left', 'Lock-delay', 'Holds', 'Waits for', ''].map((t) => h('th', {}, t)))), rows),
    h('p', { class: 'muted' }, ctx.may('write') ? 'Deleting a session releases its holds at once (no lock-delay) and ends its waits.' : `Deleting sessions needs a writer or admin token; this one is ${ctx.identity.role}.`),
  );
  // No action on a view that may be out of date (the feed is lost; app.js's ctx.live). The rows stay as
  // they were loaded; only their action cells follow the feed, so the countdowns keep their deadlines.
  const actionCells = new Map();
  const action = (s) => (ctx.live && ctx.may('write') ? h('button', { type: 'button', class: 'danger delete-session', onclick: () => deleteSession(ctx, s, refresh.now) }, 'Delete') : null);
  const actionCell = (s) => {
    const cell = h('td', {}, action(s));
    actionCells.set(cell, s);
    return cell;
  };
  let shownLive = ctx.live;
  const offLive = ctx.onCluster(() => {
    if (ctx.live === shownLive) return;
    shownLive = ctx.live;
    for (const [cell, s] of actionCells) fill(cell, action(s));
  });
  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (pages.after() !== undefined) params.set('after', pages.after());
    try {
      const page = await ctx.api('GET', `/v1/sessions?${params}`);
      actionCells.clear();
      fill(rows, page.sessions.length === 0 ? h('tr', {}, h('td', { colspan: 8, class: 'muted' }, emptyFor(ctx, 'No sessions.', (names) => `No session holds or waits for this token's names (${names}); sessions on other names are not shown to it.`))) : page.sessions.map((s) => h('tr', { 'data-session': s.sessionId },
        h('td', { class: 'mono' }, s.sessionId),
        h('td', {}, s.name || '—'),
        h('td', {}, `${s.ttlMs / 1000} s`),
        h('td', {}, countdown(s.remainingMs)),
        h('td', {}, s.lockDelayMs ? `${s.lockDelayMs / 1000} s` : '—'),
        h('td', {}, s.holds.length === 0 ? h('span', { class: 'muted' }, 'none') : s.holds.map((hold) => h('div', {},
          h('a', { href: hold.kind === 'lock' ? `#/locks/${encodeURIComponent(hold.name)}` : `#/elections/${encodeURIComponent(hold.name)}` }, hold.name),
          h('span', { class: 'muted' }, ` ${hold.kind} #${hold.fencingToken}`)))),
        h('td', {}, s.waits.length === 0 ? '—' : s.waits.join(', ')),
        actionCell(s))));
      pages.loaded(page);
      // Keepalives move no index: ask again when the soonest time left shown runs out.
      refresh.due(page.sessions.length === 0 ? null : Math.min(...page.sessions.map((s) => s.remainingMs)));
    } catch (error) {
      pages.failed(error);
    }
  };
  const refresh = refresher(ctx, load);
  refresh.now();
  return () => {
    offLive();
    refresh.stop();
  };
}
