// The leader timeline's colour per node (console/js/dom.js colorOf, which
// needs no DOM): stable, and far apart for ids that differ in one character
// (n1, n2, n3 once got hues 1° apart: one blue for every leader).
import { describe, expect, it } from 'vitest';

const { colorOf } = (await import(new URL('../../console/js/dom.js', import.meta.url).href)) as { colorOf(id: string): string };

const hue = (color: string): number => Number(/^hsl\((\d+(?:\.\d+)?) /.exec(color)![1]);
/** Degrees between two hues, around the wheel. */
const apart = (a: number, b: number): number => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));

describe('colorOf', () => {
  it('is the same for the same id', () => {
    expect(colorOf('n2')).toBe(colorOf('n2'));
  });

  it('tells apart the ids of a 3- and a 5-node cluster at a glance', () => {
    for (const ids of [['n1', 'n2', 'n3'], ['n1', 'n2', 'n3', 'n4', 'n5']]) {
      const hues = ids.map((id) => hue(colorOf(id)));
      for (let i = 0; i < hues.length; i++) {
        for (let j = i + 1; j < hues.length; j++) expect(apart(hues[i], hues[j]), `${ids[i]} and ${ids[j]}`).toBeGreaterThanOrEqual(30);
      }
    }
  });
});
