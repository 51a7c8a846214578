// One page of a listing: the `pageSize` smallest keys after a cursor, in order.
//
// The lock and session maps keep insertion order, not key order. Sorting
// every key for each page cost O(n log n) string compares per request, which
// at 100,000 locks made every console page and `GET /v1/locks` slow. This
// keeps only the best pageSize+1 keys seen so far (one more than the page,
// to know whether more follow): a key that sorts after the current worst is
// dropped with one compare, so a page costs about n compares plus
// pageSize·log(n/pageSize) inserts.

/** A page of keys in ascending order; `next` (the page's last key) when more keys follow it. */
export interface KeyPage {
  keys: string[];
  next?: string;
}

/**
 * The `pageSize` smallest keys of `keys` that sort after `after` (all when
 * undefined) and pass `keep`. `keep` is asked only of keys that could still
 * make the page, so an expensive filter runs on few of them.
 */
export function keyPage(keys: Iterable<string>, pageSize: number, after: string | undefined, keep: (key: string) => boolean): KeyPage {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`keyPage: pageSize ${pageSize} is not a positive integer`);
  const bound = pageSize + 1;
  const best: string[] = []; // ascending, at most `bound` keys
  for (const key of keys) {
    if (after !== undefined && key <= after) continue;
    if (best.length === bound && key >= best[bound - 1]) continue;
    if (!keep(key)) continue;
    best.splice(insertionPoint(best, key), 0, key);
    if (best.length > bound) best.pop();
  }
  if (best.length <= pageSize) return { keys: best };
  const keysOfPage = best.slice(0, pageSize);
  return { keys: keysOfPage, next: keysOfPage[pageSize - 1] };
}

/** The first position in ascending `sorted` whose key is greater than `key`. */
function insertionPoint(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
