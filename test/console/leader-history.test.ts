// The leader timeline's history as the console page keeps it
// (console/js/leader-history.js, a browser module without DOM needs): the
// serving node's record, merged in at every event without repeats; what the
// page saw stays when the node restarts and its record starts again; the
// time the page had no feed and the node has no record of is marked unseen;
// bounded.
import { describe, expect, it } from 'vitest';

type Change = { atMs: number; term: number | null; leader: string | null; unseen?: true; node?: string };
type Module = { keepHistory(kept: Change[], record: Change[], lost?: { atMs: number; node: string } | null): Change[]; KEPT_MAX: number };
const { keepHistory, KEPT_MAX } = (await import(new URL('../../console/js/leader-history.js', import.meta.url).href)) as Module;

const change = (atMs: number, term: number, leader: string | null): Change => ({ atMs, term, leader });

describe('keepHistory', () => {
  it('adds what the node records after what the page has, once', () => {
    const first = [change(1_000, 1, null), change(1_100, 1, 'n1')];
    let kept = keepHistory([], first);
    expect(kept).toEqual(first);
    kept = keepHistory(kept, first);
    expect(kept).toEqual(first);
    kept = keepHistory(kept, [...first, change(5_000, 2, 'n2')]);
    expect(kept).toEqual([...first, change(5_000, 2, 'n2')]);
  });

  it('keeps what the page saw when the serving node restarts, and marks the time nobody on the page saw', () => {
    const kept = [change(1_000, 1, 'n1'), change(5_000, 2, 'n2')];
    // The feed was lost at 9 000; the restarted node's record starts at 12 000.
    const after = keepHistory(kept, [change(12_000, 2, null), change(12_300, 3, 'n3')], { atMs: 9_000, node: 'n2' });
    expect(after).toEqual([...kept, { atMs: 9_000, term: null, leader: null, unseen: true, node: 'n2' }, change(12_000, 2, null), change(12_300, 3, 'n3')]);
  });

  it('marks nothing when the node saw the time the page did not (the feed dropped, the node ran on)', () => {
    const kept = [change(1_000, 1, 'n1')];
    const record = [change(1_000, 1, 'n1'), change(9_500, 2, 'n2')];
    expect(keepHistory(kept, record, { atMs: 9_000, node: 'n2' })).toEqual(record);
  });

  it('keeps the newest KEPT_MAX entries', () => {
    const record = Array.from({ length: KEPT_MAX + 10 }, (_, i) => change(i * 1_000, i, 'n1'));
    const kept = keepHistory([], record);
    expect(kept).toHaveLength(KEPT_MAX);
    expect(kept[KEPT_MAX - 1]).toEqual(record[record.length - 1]);
  });
});
