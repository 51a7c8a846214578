import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import { defaultRaftConfig } from '../../src/raft/config.js';
import type { Message, Snapshot } from '../../src/raft/types.js';
import { Network, logIndex, nodeId, seededRandom, term, allMessages } from './network.js';

describe('§7 log compaction', () => {
  it('compact discards entries up to snapshot index minus retainEntries', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 10; i++) net.propose(`v${i}`);
    const snap = net.snapshotOf('a');
    expect(snap.meta.index).toBe(11);
    net.node('a').compact(snap, 3);
    expect(net.node('a').status().firstIndex).toBe(9);
    net.node('a').compact(snap, 0);
    expect(net.node('a').status().firstIndex).toBe(12);
    // Replication goes on.
    net.propose('after');
    expect(net.appliedData('b').at(-1)).toBe('after');
  });

  it('refuses to compact beyond applied', () => {
    const net = new Network(['a']);
    net.campaign('a');
    net.propose('x');
    const snap = net.snapshotOf('a');
    const bogus: Snapshot = { ...snap, meta: { ...snap.meta, index: logIndex(snap.meta.index + 5) } };
    expect(() => net.node('a').compact(bogus, 0)).toThrow(/beyond applied/);
  });

  it('a lagging follower gets InstallSnapshot, then plain Appends', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose(`v${i}`);
    net.node('a').compact(net.snapshotOf('a'), 2);
    net.heal();
    net.tickAll(2);
    expect(net.sent.filter((m) => m.type === 'InstallSnapshot' && m.to === 'c')).toHaveLength(1);
    const cReady = net.readies.get('c')?.find((rd) => rd.snapshot !== null);
    expect(cReady?.snapshot?.meta.index).toBe(21);
    net.propose('after');
    net.tickAll(2);
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
    expect(net.node('a').status().progress?.c.state).toBe('replicate');
  });

  it('the leader stays paused in snapshot state until the follower answers or reportSnapshot', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    net.node('a').compact(net.snapshotOf('a'), 0);
    net.heal();
    net.reportsSnapshots = false;
    net.filter = (m) => (m.type === 'InstallSnapshot' ? 'drop' : 'deliver');
    net.tickAll(5);
    expect(net.node('a').status().progress?.c.state).toBe('snapshot');
    expect(net.sent.filter((m) => m.type === 'InstallSnapshot')).toHaveLength(1);
    net.filter = null;
    net.node('a').reportSnapshot(nodeId('c'), false);
    expect(net.node('a').status().progress?.c.state).toBe('probe');
    net.tickAll(3);
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
  });

  it('a follower ignores a snapshot at or below its commit index (never rolls back)', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    const old = net.snapshotOf('a');
    for (let i = 5; i < 8; i++) net.propose(`v${i}`);
    net.tickAll(1);
    const b = net.node('b');
    const before = b.status();
    b.step({ type: 'InstallSnapshot', from: nodeId('a'), to: nodeId('b'), term: term(1), snapshot: old });
    const rd = b.ready();
    expect(rd.snapshot).toBeNull();
    expect(allMessages(rd).find((m) => m.type === 'AppendResp')).toMatchObject({ reject: false, index: before.commit });
    b.advance(rd);
    expect(b.status().lastIndex).toBe(before.lastIndex);
    expect(b.status().commit).toBe(before.commit);
  });

  it('installing a snapshot keeps entries after it when they match', () => {
    const cfg = defaultRaftConfig(nodeId('b'), ['a', 'b'].map(nodeId), seededRandom(1));
    const b = new Raft(cfg, {
      hardState: { term: term(1), vote: null, commit: logIndex(0) },
      snapshot: null,
      entries: [1, 2, 3, 4].map((i) => ({ term: term(1), index: logIndex(i), type: 'noop' as const })),
    });
    const snap: Snapshot = { meta: { index: logIndex(2), term: term(1), conf: { voters: ['a', 'b'].map(nodeId), learners: [] } }, data: new Uint8Array() };
    b.step({ type: 'InstallSnapshot', from: nodeId('a'), to: nodeId('b'), term: term(1), snapshot: snap });
    const rd = b.ready();
    expect(rd.snapshot).toBe(snap);
    // The suffix is kept and re-emitted (storage replaces its log with the snapshot).
    expect(rd.entries.map((e) => e.index)).toEqual([3, 4]);
    expect(allMessages(rd).find((m): m is Extract<Message, { type: 'AppendResp' }> => m.type === 'AppendResp')?.index).toBe(4);
    b.advance(rd);
    expect(b.status()).toMatchObject({ firstIndex: 3, lastIndex: 4, commit: 2, applied: 2 });

    // A snapshot whose last entry conflicts replaces the log.
    const snap2: Snapshot = { meta: { index: logIndex(3), term: term(2), conf: snap.meta.conf }, data: new Uint8Array() };
    b.step({ type: 'InstallSnapshot', from: nodeId('a'), to: nodeId('b'), term: term(2), snapshot: snap2 });
    b.advance(b.ready());
    expect(b.status()).toMatchObject({ firstIndex: 4, lastIndex: 3, commit: 3, applied: 3, term: 2 });
  });

  it('a node restarts from its snapshot and the entries after it', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    net.isolate('c');
    net.propose('late');
    net.heal();
    net.tickAll(2);
    const c = net.node('c');
    net.stores.get('c')!.snapshot = net.snapshotOf('c');
    c.compact(net.snapshotOf('c'), 0);
    net.restart('c');
    net.tickAll(3);
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
    expect(net.node('c').status().firstIndex).toBe(net.stores.get('c')!.snapshot!.meta.index + 1);
  });
});
