// The CLI's lists (`locks`, `sessions`, `token list`). The paged ones read
// every page up to a bound: a table is for a person, and a cluster may hold a
// hundred thousand holds. Past the bound the list is cut, and the user is told
// so on stderr: a table (or JSON lines read by a script) that silently ends
// early reads as the whole list.

import { type Cell, renderTable } from './table.js';

/** At most this many items a list command prints. */
export const LISTED_MAX = 10_000;

/**
 * The first LISTED_MAX items of a paged list; past them a line on stderr says the list is cut, e.g.
 * "lockstep: showing the first 10000 locks; there are more (narrow them with --prefix)".
 */
export async function itemsToList<T>(items: AsyncIterable<T>, what: string, narrow?: string): Promise<T[]> {
  const { items: first, more } = await firstItems(items, LISTED_MAX);
  if (more) console.error(`lockstep: showing the first ${first.length} ${what}; there are more${narrow ? ` (${narrow})` : ''}`);
  return first;
}

/** The first `max` items, and whether there were more. */
async function firstItems<T>(items: AsyncIterable<T>, max: number): Promise<{ items: T[]; more: boolean }> {
  const out: T[] = [];
  for await (const item of items) {
    if (out.length === max) return { items: out, more: true };
    out.push(item);
  }
  return { items: out, more: false };
}

/** How a list prints: `--json` as JSON lines (none for an empty list), else a table, or `empty` when there is nothing to show. */
export function printList<T>(items: readonly T[], how: { json: boolean; empty: string; headers: string[]; row: (item: T) => Cell[] }): void {
  if (how.json) {
    for (const item of items) console.log(JSON.stringify(item));
    return;
  }
  if (items.length === 0) {
    console.log(how.empty);
    return;
  }
  console.log(renderTable(how.headers, items.map(how.row)));
}
