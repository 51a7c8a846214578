// The operator console: asks who the token is, opens the live feed of the
// node that served the page (/ui/events), and shows one view at a time from
// the address's #fragment. Views get `ctx` and return a cleanup function.

import { api, openStream, token, whenUnauthorized } from './api.js';
import { clock, fill, h, tickCountdowns } from './dom.js';
import { clusterHealth } from './health.js';
import { keepHistory } from './leader-history.js';
import { leaderNotice } from './leader-notice.js';
import { clusterView } from './views/cluster.js';
import { lockView, locksView } from './views/locks.js';
import { sessionsView } from './views/sessions.js';
import { electionView, electionsView } from './views/elections.js';

const main = document.getElementById('main');
const state = { cluster: null, history: [], serverAheadMs: 0, unseenSinceMs: null, feedLost: false, feedLostAtMs: null, identity: null, knownLeader: null, feed: null, cleanup: null, listeners: new Set() };
const NOTICES_MAX = 6;

/** A line at the top of the page (leader changes, reconnections, results of actions). */
function notice(text, kind = 'info') {
  const box = document.getElementById('notices');
  box.prepend(h('div', { class: `notice ${kind}`, role: 'status' }, `${clock(Date.now())} — ${text}`));
  while (box.children.length > NOTICES_MAX) box.lastChild.remove();
}

const ROLE_MAY = {
  admin: 'may do everything: read, take locks, hand leadership over, delete sessions, manage tokens',
  writer: 'may read and take or release locks, sessions and elections on its names; no cluster changes',
  reader: 'may only read: lists, details and live views on its names',
};

const ctx = {
  api,
  openStream,
  notice,
  get cluster() {
    return state.cluster;
  },
  get identity() {
    return state.identity;
  },
  /** The leaders and terms this page has seen (leader-history.js), oldest first. */
  get history() {
    return state.history;
  },
  /** Now on the serving node's wall clock, the one the history's times are on (not the browser's, which may be off). */
  serverNowMs() {
    return Date.now() + state.serverAheadMs;
  },
  /** False while the feed is lost: what the page shows may be out of date, so it offers no action on it. */
  get live() {
    return !state.feedLost;
  },
  /** Whether the token may do it (the server decides in the end: a refusal is shown as it comes). */
  may(action) {
    const role = state.identity?.role;
    if (action === 'admin') return role === 'admin';
    if (action === 'write') return role === 'admin' || role === 'writer';
    return true;
  },
  /** Called with every new cluster event; returns the unsubscribe. */
  onCluster(listener) {
    state.listeners.add(listener);
    return () => state.listeners.delete(listener);
  },
};

function showIdentity() {
  const who = state.identity;
  const el = document.getElementById('identity');
  if (who === null) return fill(el);
  const prefixes = who.prefixes.length > 0 ? ` on ${who.prefixes.join(', ')}` : '';
  fill(el,
    h('span', { id: 'whoami', title: ROLE_MAY[who.role] }, who.id === 'anonymous' ? 'auth is off' : `${who.name} (${who.role}${prefixes})`),
    ' — ', h('span', { id: 'may' }, ROLE_MAY[who.role] ?? ''),
    token.get() ? [' ', h('button', { type: 'button', onclick: forgetToken }, 'Forget token')] : null);
}

function forgetToken() {
  token.clear();
  askForToken('Token forgotten for this tab.');
}

function setConnection(text, stateName) {
  const el = document.getElementById('connection');
  el.textContent = text;
  el.dataset.state = stateName;
}

/** The other members' consoles, as links (a page cannot call another node's API: no CORS). */
function otherConsoles() {
  const others = (state.cluster?.members ?? []).filter((m) => m.id !== state.cluster.self && m.apiUrl);
  return others.map((m, i) => [i > 0 ? ', ' : '', h('a', { href: `${m.apiUrl.replace(/\/$/, '')}/ui/` }, `${m.id}'s console`)]);
}

/**
 * The banner under the header: the feed lost (the page shows an old view), or
 * the cluster's own trouble (no quorum, no leader, members not answering).
 * Rewritten only when its words change, so a screen reader hears each once.
 */
function showHealth() {
  const box = document.getElementById('health');
  document.body.classList.toggle('stale', state.feedLost);
  let level = null;
  let content = [];
  if (state.feedLost) {
    const links = otherConsoles();
    level = 'bad';
    content = state.cluster === null ? ['The node that served this page does not answer its live feed. Reconnecting…']
      : [`Lost the live feed from ${state.cluster.self}: this page shows the cluster as it was at ${clock(state.feedLostAtMs)}, and offers no action until the feed is back. Reconnecting…`,
        links.length > 0 ? [' Meanwhile, see ', links, '.'] : null];
  } else if (state.cluster !== null) {
    const health = clusterHealth(state.cluster);
    if (health !== null) [level, content] = [health.level, [health.text]];
  }
  const next = h('div', {}, content);
  const key = level === null ? '' : `${level}: ${next.textContent}`;
  if (key === (box.dataset.key ?? '')) return;
  box.dataset.key = key;
  box.className = level === null ? '' : `health ${level}`;
  box.replaceChildren(...next.childNodes);
}

function onClusterEvent(data) {
  const previous = state.cluster;
  state.cluster = data;
  // How far the node's clock is ahead of this browser's (one-way delay aside: a few ms on a live feed).
  if (typeof data.nowMs === 'number') state.serverAheadMs = data.nowMs - Date.now();
  // The serving node's record starts again when it restarts; the page keeps what it saw before.
  state.history = keepHistory(state.history, data.history ?? [], state.unseenSinceMs === null ? null : { atMs: state.unseenSinceMs, node: data.self });
  state.unseenSinceMs = null;
  const said = leaderNotice(state.knownLeader, previous?.leader, data);
  if (said !== null) notice(said, 'warn');
  if (data.leader !== null) state.knownLeader = data.leader;
  showHealth();
  fill(document.getElementById('summary'),
    `cluster ${data.clusterId} · via ${data.self} · `,
    h('span', { id: 'leader' }, data.leader === null ? 'no leader' : `leader ${data.leader}`),
    ` · term ${data.term} · applied ${data.appliedIndex}`);
  for (const listener of state.listeners) listener(data);
}

function openFeed() {
  state.feed?.close();
  state.feed = openStream('/ui/events', (event, data) => {
    if (event === 'cluster') onClusterEvent(data);
  }, (status) => {
    if (status.state === 'open') {
      setConnection('live', 'live');
      if (status.reconnected) notice(`reconnected to the live feed after ${(status.downMs / 1000).toFixed(1)} s`);
      setFeedLost(false);
    } else if (status.state === 'reconnecting') {
      setConnection(`reconnecting (attempt ${status.attempt})…`, 'reconnecting');
      if (status.attempt === 1) notice(`live feed lost (${status.error.message}); reconnecting`, 'warn');
      // The page follows the node that served it: say at once that what it shows is old, and where else to look.
      setFeedLost(true);
    } else {
      setConnection(status.error.status === 401 ? 'token refused' : 'closed', 'unauthorized');
    }
  });
}

function setFeedLost(lost) {
  if (state.feedLost === lost) return;
  state.feedLost = lost;
  state.feedLostAtMs = lost ? Date.now() : null;
  // Told to the history with the first event once the feed is back (then the node's record is known).
  // On the node's clock: it is compared with the node's record, and a browser clock behind the node's
  // made every lost feed look like a restart ("not seen"), one ahead hid real restarts.
  if (lost) state.unseenSinceMs = ctx.serverNowMs();
  showHealth();
  // The views drop (or bring back) their actions.
  if (state.cluster !== null) for (const listener of state.listeners) listener(state.cluster);
}

const ROUTES = [
  [/^#\/locks\/(.+)$/, 'locks', (m) => (root) => lockView(root, ctx, decodeURIComponent(m[1]))],
  [/^#\/locks(?:\?(.*))?$/, 'locks', (m) => (root) => locksView(root, ctx, new URLSearchParams(m[1] ?? ''))],
  [/^#\/sessions$/, 'sessions', () => (root) => sessionsView(root, ctx)],
  [/^#\/elections\/(.+)$/, 'elections', (m) => (root) => electionView(root, ctx, decodeURIComponent(m[1]))],
  [/^#\/elections$/, 'elections', () => (root) => electionsView(root, ctx)],
  [/^/, 'cluster', () => (root) => clusterView(root, ctx)],
];

function route() {
  if (state.identity === null) return;
  state.cleanup?.();
  state.listeners.clear();
  const hash = location.hash || '#/cluster';
  for (const [pattern, name, make] of ROUTES) {
    const match = hash.match(pattern);
    if (match === null) continue;
    for (const link of document.querySelectorAll('#nav a')) {
      link.classList.toggle('active', link.dataset.view === name);
      // The view the user is on, for screen readers as well as by colour.
      if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    fill(main);
    state.cleanup = make(match)(main) ?? null;
    if (state.cluster !== null) for (const listener of state.listeners) listener(state.cluster);
    return;
  }
}

function askForToken(message) {
  state.feed?.close();
  state.cleanup?.();
  state.cleanup = null;
  state.identity = null;
  showIdentity();
  // Nothing read with the token stays on the page: the header's cluster line, the banner and the
  // notices kept the leader, term and members in view after "Forget token" (and went stale).
  state.cluster = null;
  state.feedLost = false;
  fill(document.getElementById('summary'));
  fill(document.getElementById('notices'));
  showHealth();
  setConnection('token needed', 'unauthorized');
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, 'aria-label': 'token' });
  const error = h('p', { class: 'error' }, message ?? '');
  fill(main, h('form', {
    class: 'token',
    onsubmit: async (event) => {
      event.preventDefault();
      token.set(input.value.trim());
      if ((await start()) === 'unauthorized') fill(error, 'That token was refused (401): check it and try again.');
    },
  },
  h('h2', {}, 'This cluster needs a token'),
  h('p', { class: 'muted' }, 'Paste an API token (from `lockstep token create`). It is kept for this browser tab only (sessionStorage) and sent with every request to this node.'),
  input, h('button', { type: 'submit' }, 'Use this token'), error));
  input.focus();
}

/** Who is this token? Then the feed and the view: 'started', 'unauthorized' or 'failed'. */
async function start() {
  let identity;
  try {
    identity = await api('GET', '/v1/auth/whoami');
  } catch (error) {
    if (error.status === 401) {
      token.clear();
      return 'unauthorized';
    }
    // Not a refusal: the node could not check the token (an unknown one needs the leader, and during
    // an incident there may be none). The form comes back: a page that only said "reload" kept the
    // token that was just mistyped, and every reload asked the node about it again.
    askForToken(`The node could not check this token (${error.status === 0 ? '' : `${error.status} `}${error.code}: ${error.message}). Try again, or paste another.`);
    return 'failed';
  }
  state.identity = identity;
  showIdentity();
  openFeed();
  route();
  return 'started';
}

whenUnauthorized(() => {
  if (state.identity === null) return;
  token.clear();
  askForToken('The token was refused (missing, unknown or revoked).');
});
window.addEventListener('hashchange', route);
setInterval(tickCountdowns, 1000);
start().then((outcome) => {
  if (outcome === 'unauthorized') askForToken();
});
