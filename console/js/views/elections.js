// Elections: the API has no list of elections, so this view shows the ones
// held by sessions (scanning at most SCAN_SESSIONS_MAX sessions) and looks
// any other up by name; an election's own view follows its observe stream.

import { clock, fill, h } from '../dom.js';
import { refresher } from './refresh.js';
import { emptyFor } from './scope.js';

const SCAN_PAGE = 500;
const SCAN_SESSIONS_MAX = 2_000;
const EVENTS_MAX = 100;

const electionHref = (name) => `#/elections/${encodeURIComponent(name)}`;

async function heldElections(ctx) {
  const names = new Set();
  let after;
  let scanned = 0;
  do {
    const params = new URLSearchParams({ limit: String(SCAN_PAGE) });
    if (after !== undefined) params.set('after', after);
    const page = await ctx.api('GET', `/v1/sessions?${params}`);
    for (const session of page.sessions) for (const hold of session.holds) if (hold.kind === 'election') names.add(hold.name);
    scanned += page.sessions.length;
    after = page.next;
  } while (after !== undefined && scanned < SCAN_SESSIONS_MAX);
  return { names: [...names].sort(), complete: after === undefined, scanned };
}

export function electionsView(root, ctx) {
  const rows = h('tbody');
  const status = h('p', { class: 'muted' });
  const input = h('input', { type: 'text', placeholder: 'election name', 'aria-label': 'election name' });
  root.append(
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) location.hash = electionHref(input.value.trim()); } }, input, h('button', { type: 'submit' }, 'Look up')),
    h('table', { id: 'elections' }, h('thead', {}, h('tr', {}, ['Election', 'Leader (session)', 'Value', 'Term', 'Candidates waiting'].map((t) => h('th', {}, t)))), rows),
    status,
  );
  const load = async () => {
    try {
      const held = await heldElections(ctx);
      const elections = await Promise.all(held.names.map((name) => ctx.api('GET', `/v1/elections/${encodeURIComponent(name)}`).catch(() => null)));
      fill(rows, held.names.length === 0 ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, emptyFor(ctx, 'No election has a leader.', (names) => `No election on this token's names (${names}) has a leader; elections on other names are not shown to it.`))) : elections.filter(Boolean).map((e) => h('tr', { 'data-election': e.name },
        h('td', {}, h('a', { href: electionHref(e.name) }, e.name)),
        h('td', { class: 'mono' }, e.leader?.sessionId ?? '—'),
        h('td', { class: 'mono' }, e.leader?.value ?? '—'),
        h('td', { class: 'num' }, e.leader?.term ?? '—'),
        h('td', { class: 'num' }, e.candidates))));
      fill(status, `Elections with a leader among ${held.complete ? 'all' : `the first ${held.scanned}`} sessions (the API lists sessions, not elections); look any election up by name. Updated ${clock(Date.now())}.`);
    } catch (error) {
      fill(status, h('span', { class: 'error' }, `could not load: ${error.code} — ${error.message}`));
    }
  };
  const refresh = refresher(ctx, load);
  refresh.now();
  return () => refresh.stop();
}

export function electionView(root, ctx, name) {
  const summary = h('p');
  const live = h('span', { class: 'muted' }, 'opening…');
  const events = h('div', { class: 'events' });
  root.append(
    h('p', {}, h('a', { href: '#/elections' }, '← all elections')),
    h('h2', {}, 'Election ', h('span', { class: 'mono' }, name), ' ', live),
    summary,
    h('h2', {}, 'Leader changes (observe stream)'),
    events,
  );
  const load = async () => {
    try {
      const e = await ctx.api('GET', `/v1/elections/${encodeURIComponent(name)}`);
      fill(summary, e.leader === null ? 'No leader. ' : `Leader: session ${e.leader.sessionId}, value "${e.leader.value}", term ${e.leader.term}. `, `${e.candidates} candidate(s) waiting.`);
    } catch (error) {
      fill(summary, h('span', { class: 'error' }, `could not load: ${error.code} — ${error.message}`));
    }
  };
  const stream = ctx.openStream(`/v1/elections/${encodeURIComponent(name)}/observe`, (_event, data) => {
    events.prepend(h('div', {}, `${clock(Date.now())} ${data.leader === null ? 'vacant' : `leader ${data.leader.sessionId} term ${data.leader.term} value "${data.leader.value}"`}`));
    while (events.children.length > EVENTS_MAX) events.lastChild.remove();
    load();
  }, (status) => {
    if (status.state === 'open') fill(live, h('span', { class: 'pill ok' }, status.reconnected ? 'live (reconnected)' : 'live'));
    else if (status.state === 'reconnecting') fill(live, h('span', { class: 'pill bad' }, `reconnecting (attempt ${status.attempt})…`));
    else fill(live, h('span', { class: 'pill bad' }, `refused: ${status.error.message}`));
  });
  // Candidates joining or leaving the line are not leader events: refresh on the cluster's progress too.
  const refresh = refresher(ctx, load);
  return () => {
    stream.close();
    refresh.stop();
  };
}
