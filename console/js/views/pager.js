// Paging through a list the API hands out a page at a time (`next`, passed
// back as `after`): Previous / Next buttons and a status line. The stack of
// `after` values is what makes Previous possible without counting.

import { clock, fill, h } from '../dom.js';

export function pager(reload) {
  const afters = [undefined];
  let next;
  const status = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', onclick: () => { afters.pop(); reload(); } }, '← Previous');
  const more = h('button', { type: 'button', onclick: () => { afters.push(next); reload(); } }, 'Next →');
  const buttons = () => {
    prev.disabled = afters.length === 1;
    more.disabled = next === undefined;
  };
  return {
    controls: [prev, more, status],
    /** The `after` of the page to load (undefined: the first). */
    after: () => afters[afters.length - 1],
    /** Back to the first page (a new filter). */
    reset: () => {
      afters.length = 1;
    },
    loaded(page) {
      next = page.next;
      fill(status, `page ${afters.length}${next === undefined ? ' (last)' : ''}, updated ${clock(Date.now())}`);
      buttons();
    },
    failed(error) {
      fill(status, h('span', { class: 'error' }, `could not load: ${error.code} — ${error.message}`));
      buttons();
    },
  };
}
