import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClockFaults } from '../../src/chaos/cluster/clock-faults.js';
import { partitionLinks, PARTITION_SHAPES } from '../../src/chaos/nemesis/partitions.js';
import { Prng } from '../../src/chaos/prng.js';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** Who can send to whom after cutting `links`. */
function reach(_nodes: string[], links: ReadonlyArray<readonly [string, string]>): (a: string, b: string) => boolean {
  const cut = new Set(links.map(([a, b]) => `${a}->${b}`));
  return (a, b) => a === b || !cut.has(`${a}->${b}`);
}

describe('partition shapes', () => {
  it('isolate-leader cuts the leader off both ways and nothing else', () => {
    const { links } = partitionLinks('isolate-leader', five, 'n3', new Prng(1));
    const r = reach(five, links);
    for (const o of five.filter((x) => x !== 'n3')) {
      expect(r('n3', o)).toBe(false);
      expect(r(o, 'n3')).toBe(false);
    }
    expect(r('n1', 'n2')).toBe(true);
  });

  it('one-way silences the leader but lets it hear everyone', () => {
    const { links } = partitionLinks('one-way', five, 'n2', new Prng(1));
    const r = reach(five, links);
    expect(r('n2', 'n1')).toBe(false);
    expect(r('n1', 'n2')).toBe(true);
  });

  it('majority-minority puts the leader in a minority', () => {
    const { links } = partitionLinks('majority-minority', five, 'n1', new Prng(3));
    const r = reach(five, links);
    const side = five.filter((x) => r('n1', x));
    expect(side.length).toBe(2);
  });

  it('bridge leaves one node that reaches both sides', () => {
    const { links } = partitionLinks('bridge', five, null, new Prng(5));
    const r = reach(five, links);
    const bridges = five.filter((b) => five.every((x) => r(b, x) && r(x, b)));
    expect(bridges.length).toBe(1);
    expect(links.length).toBeGreaterThan(0);
  });

  it('majorities-ring: every node sees a majority, no two see the same one', () => {
    const { links } = partitionLinks('majorities-ring', five, null, new Prng(9));
    const r = reach(five, links);
    const views = five.map((a) => five.filter((b) => r(a, b)).sort().join(','));
    for (const v of views) expect(v.split(',').length).toBe(3);
    expect(new Set(views).size).toBe(5);
  });

  it('every shape is symmetric except one-way, and the same seed gives the same cut', () => {
    for (const shape of PARTITION_SHAPES) {
      const a = partitionLinks(shape, five, 'n1', new Prng(11));
      const b = partitionLinks(shape, five, 'n1', new Prng(11));
      expect(a.links).toEqual(b.links);
      if (shape === 'one-way') continue;
      const set = new Set(a.links.map(([x, y]) => `${x}->${y}`));
      for (const [x, y] of a.links) expect(set.has(`${y}->${x}`)).toBe(true);
    }
  });
});

describe('clock faults', () => {
  it('writes the fault file and keeps the clock continuous when a skew heals', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-clock-'));
    const file = path.join(dir, 'n1.json');
    let now = 0;
    const clocks = new ClockFaults(() => now);
    clocks.register('n1', file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ offsetMs: 0, rate: 1 });
    now = 1000;
    clocks.skew('n1', 3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ offsetMs: 0, rate: 3 });
    now = 2000;
    clocks.heal('n1');
    // It ran 2 s ahead during the skew; the heal keeps that, with no jump back.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ offsetMs: 2000, rate: 1 });
    now = 3000;
    clocks.jump('n1', -500);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ offsetMs: 1500, rate: 1 });
    now = 3100;
    clocks.healAll();
    expect(clocks.closedSegments()).toEqual([
      { node: 'n1', fromMs: 1000, toMs: 2000, rate: 3, jumpMs: 0 },
      { node: 'n1', fromMs: 3000, toMs: 3100, rate: 1, jumpMs: -500 },
    ]);
  });
});
