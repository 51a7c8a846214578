// A small DOM builder: h('td', { class: 'num' }, text, child). Text is always
// set as text, never parsed as HTML, so names and owners from the cluster
// cannot inject markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    // Through the CSSOM, which the page's Content-Security-Policy allows (a style attribute it would block).
    else if (key === 'style') Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "4.2 s", "3 min 10 s", "—" */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  if (ms <= 0) return '0 s';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Time left that counts down between refreshes: the element keeps its
 * deadline (this page's clock) and the ticker in app.js rewrites it.
 */
export function countdown(msLeft) {
  if (msLeft === undefined || msLeft === null) return h('span', { class: 'muted' }, '—');
  const el = h('span', { class: 'countdown', dataset: { deadline: String(Date.now() + msLeft) } }, duration(msLeft));
  return el;
}

export function tickCountdowns() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-deadline]')) el.textContent = duration(Number(el.dataset.deadline) - now);
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** Turns of the colour wheel between hashes one apart: the golden angle, so close hashes get far hues. */
const GOLDEN_ANGLE = 137.508;

/**
 * A stable color per node id, for the leader timeline. Node ids differ mostly
 * in their last character (n1, n2, n3), which moves the hash by 1: taken as
 * the hue itself that was 1° apart, and every leader on the timeline had the
 * same blue.
 */
export function colorOf(id) {
  let hash = 0;
  for (const c of String(id)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${Math.round((hash * GOLDEN_ANGLE) % 360)} 55% 42%)`;
}
