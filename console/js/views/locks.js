// Locks: a page at a time (filter by prefix; the list never loads whole: with
// 100,000 locks it is one page of PAGE_SIZE), holders with token, owner, mode
// and time left, waiters in line order, lock-delay. A lock's own view follows
// its watch stream live.

import { clock, countdown, fill, h } from '../dom.js';
import { pager } from './pager.js';
import { emptyFor } from './scope.js';
import { dueDelayMs, refresher } from './refresh.js';

const PAGE_SIZE = 50;
const EVENTS_MAX = 100;

const lockHref = (name) => `#/locks/${encodeURIComponent(name)}`;

/**
 * A lock's mode in words: a semaphore (taken with `limit` > 1) is in exclusive mode as the API says
 * it, but "exclusive" told the operator one holder at a time, beside a list of three.
 */
function modeText(lock) {
  if (lock.mode === null) return 'free';
  if (lock.mode === 'exclusive' && lock.limit > 1) return `semaphore (limit ${lock.limit})`;
  return lock.mode;
}

function holderCell(holder, sessionsLeft = new Map()) {
  const left = holder.expiresInMs ?? sessionsLeft.get(holder.sessionId);
  return h('div', { class: 'holder' },
    h('span', { class: 'pill', title: 'fencing token' }, `#${holder.fencingToken}`), ' ',
    holder.mode === 'shared' ? h('span', { class: 'pill' }, 'shared') : null,
    holder.owner ? h('span', { class: 'owner' }, holder.owner) : h('span', { class: 'muted' }, 'no owner'), ' · ',
    holder.sessionId ? h('span', { class: 'mono', title: 'session' }, holder.sessionId) : h('span', { class: 'muted' }, 'TTL hold'), ' · ',
    left === undefined ? h('span', { class: 'muted' }, 'while its session lives') : ['left ', countdown(left)]);
}

function waitersCell(waiters) {
  if (waiters.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('ol', { class: 'waiters' }, waiters.slice(0, 5).map((w) => h('li', {}, w.owner ?? w.sessionId ?? 'TTL waiter', w.mode === 'shared' ? ' (shared)' : '')),
    waiters.length > 5 ? h('li', { class: 'muted' }, `… ${waiters.length - 5} more`) : null);
}

/** An empty list in words; a token bound to names lists only locks on them, which is not an idle cluster. */
function emptyText(ctx, prefix) {
  if (prefix) return `No lock under "${prefix}" is held or waited for.`;
  return emptyFor(ctx, 'No lock is held or waited for.', (names) => `No lock on this token's names (${names}) is held or waited for; locks on other names are not shown to it.`);
}

export function locksView(root, ctx, query) {
  let prefix = query.get('prefix') ?? '';
  const rows = h('tbody');
  const pages = pager(() => refresh.now());
  const input = h('input', { type: 'search', placeholder: 'name prefix, e.g. orders:', value: prefix, 'aria-label': 'prefix' });
  let debounce = null;
  input.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      prefix = input.value.trim();
      pages.reset();
      history.replaceState(null, '', prefix ? `#/locks?prefix=${encodeURIComponent(prefix)}` : '#/locks');
      refresh.now();
    }, 250);
  });
  root.append(
    h('div', { class: 'toolbar' }, input, pages.controls),
    h('table', { id: 'locks' }, h('thead', {}, h('tr', {}, ['Lock', 'Mode', 'Holders', 'Waiters (in order)', 'Lock-delay'].map((t) => h('th', {}, t)))), rows),
    h('p', { class: 'muted' }, `Locks with holders, waiters or a lock-delay, in name order, ${PAGE_SIZE} a page.`),
  );
  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (prefix) params.set('prefix', prefix);
    if (pages.after() !== undefined) params.set('after', pages.after());
    try {
      const page = await ctx.api('GET', `/v1/locks?${params}`);
      fill(rows, page.locks.length === 0
        ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, emptyText(ctx, prefix)))
        : page.locks.map((lock) => h('tr', { 'data-lock': lock.name },
          h('td', {}, h('a', { href: lockHref(lock.name) }, lock.name)),
          h('td', {}, modeText(lock)),
          h('td', {}, lock.holders.map((holder) => holderCell(holder))),
          h('td', {}, waitersCell(lock.waiters)),
          h('td', {}, lock.lockDelayRemainingMs ? countdown(lock.lockDelayRemainingMs) : '—'))));
      pages.loaded(page);
    } catch (error) {
      pages.failed(error);
    }
  };
  const refresh = refresher(ctx, load);
  refresh.now();
  return () => {
    refresh.stop();
    clearTimeout(debounce);
  };
}

export function lockView(root, ctx, name) {
  const summary = h('p');
  const holders = h('tbody');
  const waiters = h('tbody');
  const events = h('div', { class: 'events', id: 'lock-events' });
  const live = h('span', { class: 'muted' }, 'opening the watch…');
  root.append(
    h('p', {}, h('a', { href: '#/locks' }, '← all locks')),
    h('h2', {}, 'Lock ', h('span', { class: 'mono' }, name), ' ', live),
    summary,
    h('h2', {}, 'Holders'),
    h('table', { id: 'holders' }, h('thead', {}, h('tr', {}, ['Fencing token', 'Mode', 'Owner', 'Value', 'Session', 'Time left'].map((t) => h('th', {}, t)))), holders),
    h('h2', {}, 'Waiters, in the order they will be granted'),
    h('table', { id: 'waiters' }, h('thead', {}, h('tr', {}, ['#', 'Owner', 'Session', 'Mode'].map((t) => h('th', {}, t)))), waiters),
    h('h2', {}, 'Events (watch stream)'),
    events,
  );
  let loading = false;
  let again = false;
  let dueTimer = null;
  // Whether the last load failed (no leader, the node was cut off): the watch stream tells only changes
  // of this lock, so without a retry the view kept "could not load" and empty tables after the cluster
  // was back, for as long as the lock did not change.
  let failed = false;
  const load = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const lock = await ctx.api('GET', `/v1/locks/${encodeURIComponent(name)}`);
      // A session hold lasts as long as its session: its time left is the session's.
      const sessionsLeft = new Map();
      await Promise.all([...new Set(lock.holders.filter((x) => x.expiresInMs === undefined && x.sessionId).map((x) => x.sessionId))].map(async (id) => {
        try {
          sessionsLeft.set(id, (await ctx.api('GET', `/v1/sessions/${encodeURIComponent(id)}`)).remainingMs);
        } catch {
          // gone meanwhile: the next event reloads
        }
      }));
      fill(summary, `mode ${modeText(lock)} · ${lock.holders.length} holder(s) · ${lock.waiters.length} waiter(s) · lock-delay `,
        lock.lockDelayRemainingMs ? countdown(lock.lockDelayRemainingMs) : 'none');
      fill(holders, lock.holders.length === 0 ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'free')) : lock.holders.map((x) => h('tr', {},
        h('td', { class: 'num' }, x.fencingToken), h('td', {}, x.mode === 'exclusive' && lock.limit > 1 ? 'semaphore' : x.mode), h('td', {}, x.owner ?? '—'), h('td', { class: 'mono' }, x.value ?? '—'),
        h('td', { class: 'mono' }, x.sessionId ?? 'TTL hold'), h('td', {}, countdown(x.expiresInMs ?? sessionsLeft.get(x.sessionId))))));
      fill(waiters, lock.waiters.length === 0 ? h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'nobody waits')) : lock.waiters.map((w, i) => h('tr', {},
        h('td', { class: 'num' }, i + 1), h('td', {}, w.owner ?? '—'), h('td', { class: 'mono' }, w.sessionId ?? 'TTL waiter'), h('td', {}, w.mode))));
      // A session hold's time left moves with keepalives, which the watch stream does not tell:
      // ask again when the soonest one shown runs out (refresh.js's due(), for this view's own loop).
      clearTimeout(dueTimer);
      if (sessionsLeft.size > 0) dueTimer = setTimeout(load, dueDelayMs(Math.min(...sessionsLeft.values())));
      failed = false;
    } catch (error) {
      fill(summary, h('span', { class: 'error' }, `could not load: ${error.code} — ${error.message}`));
      failed = true;
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  };
  const stream = ctx.openStream(`/v1/locks/${encodeURIComponent(name)}/watch`, (event, data) => {
    const detail = [data.fencingToken !== undefined ? `token ${data.fencingToken}` : null, data.sessionId ? `session ${data.sessionId}` : null, `index ${data.index}`].filter(Boolean).join(', ');
    events.prepend(h('div', {}, `${clock(Date.now())} ${event} ${detail}`));
    while (events.children.length > EVENTS_MAX) events.lastChild.remove();
    load();
  }, (status) => {
    if (status.state === 'open') fill(live, h('span', { class: 'pill ok' }, status.reconnected ? 'live (reconnected)' : 'live'));
    else if (status.state === 'reconnecting') fill(live, h('span', { class: 'pill bad' }, `watch lost, reconnecting (attempt ${status.attempt})…`));
    else fill(live, h('span', { class: 'pill bad' }, `watch refused: ${status.error.message}`));
  });
  // After a failed load, try again as the cluster moves on (a new leader's first entry is such a move).
  const retry = refresher(ctx, () => (failed ? load() : undefined));
  return () => {
    stream.close();
    retry.stop();
    clearTimeout(dueTimer);
  };
}
