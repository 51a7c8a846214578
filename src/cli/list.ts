// The CLI's lists (`locks`, `sessions`) read every page up to a bound: a table
// is for a person, and a cluster may hold a hundred thousand holds. Past the
// bound the list is cut, and the user is told so on stderr: a table (or JSON
// lines read by a script) that silently ends early reads as the whole list.

/** At most this many items a list command prints. */
export const LISTED_MAX = 10_000;

/** The first `max` items, and whether there were more. */
export async function firstItems<T>(items: AsyncIterable<T>, max: number = LISTED_MAX): Promise<{ items: T[]; more: boolean }> {
  const out: T[] = [];
  for await (const item of items) {
    if (out.length === max) return { items: out, more: true };
    out.push(item);
  }
  return { items: out, more: false };
}

/** The stderr line for a cut list, e.g. "showing the first 10000 locks; there are more (narrow them with --prefix)". */
export function cutNote(count: number, what: string, narrow?: string): string {
  return `lockstep: showing the first ${count} ${what}; there are more${narrow ? ` (${narrow})` : ''}`;
}
