// keyPage against the obvious definition (filter, sort, slice) on random key
// sets, cursors, page sizes and filters; and every page of a walk visits each
// kept key exactly once, in order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyPage } from '../../src/locks/key-page.js';

function reference(keys: string[], pageSize: number, after: string | undefined, keep: (k: string) => boolean) {
  const all = [...new Set(keys)].filter((k) => (after === undefined || k > after) && keep(k)).sort();
  const page = all.slice(0, pageSize);
  return all.length > pageSize ? { keys: page, next: page[page.length - 1] } : { keys: page };
}

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', 'é', '0'), maxLength: 4 });

describe('keyPage', () => {
  it('equals filter + sort + slice', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), fc.option(keyArb, { nil: undefined }), fc.nat(3), (keys, pageSize, after, modulo) => {
        const keep = (k: string) => modulo === 0 || k.length % (modulo + 1) !== 0;
        expect(keyPage(keys, pageSize, after, keep)).toEqual(reference(keys, pageSize, after, keep));
      }),
      { numRuns: 2_000 },
    );
  });

  it('walks every kept key once, in order, page after page', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { maxLength: 80 }), fc.integer({ min: 1, max: 7 }), (keys, pageSize) => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages <= keys.length + 1; pages++) {
          const p = keyPage(keys, pageSize, after, () => true);
          seen.push(...p.keys);
          if (p.next === undefined) break;
          after = p.next;
        }
        expect(seen).toEqual([...keys].sort());
      }),
    );
  });

  it('asks the filter only about keys that could still make the page', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `lock-${String(i).padStart(5, '0')}`);
    let asked = 0;
    const p = keyPage(keys, 10, undefined, () => {
      asked++;
      return true;
    });
    expect(p.keys).toEqual(keys.slice(0, 10));
    expect(asked).toBe(11); // keys arrive in order: after the first 11, none can beat the page
  });

  it('refuses a page size that is not a positive integer', () => {
    expect(() => keyPage([], 0, undefined, () => true)).toThrow(RangeError);
  });
});
