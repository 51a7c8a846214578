// The node loop against a scripted Raft core: the order of save, send and
// apply; group commit; how proposals and reads are answered.
import { Registry } from 'prom-client';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { RaftInvariantError } from '../../src/raft/assert.js';
import { ManualClock } from '../../src/node/clock.js';
import { NotLeaderError, OutcomeUnknownError } from '../../src/node/api.js';
import { RaftNode, type RaftNodeOptions } from '../../src/node/node.js';
import { decodeMemberContext, encodeMemberContext } from '../../src/node/members.js';
import { logIndex, term, type PersistentState } from '../../src/raft/types.js';
import { ControlledStorage, FakeRaft, KvMachine, RecordingTransport, kv, nodeId, settle, silentLogger, whileAdvancing } from './support/fakes.js';

const N1 = nodeId('n1');
const N2 = nodeId('n2');
const N3 = nodeId('n3');

/** Each node's injected clock: its timeouts fire when the test moves it, never on real time. */
const clocks = new WeakMap<RaftNode, ManualClock>();

/** stop() with 1 ms hand-over and drain bounds, moving the node's clock so that they expire. */
function stopNode(node: RaftNode): Promise<void> {
  return whileAdvancing(clocks.get(node)!, node.stop({ transferTimeoutMs: 1, drainTimeoutMs: 1 }));
}

async function makeNode(overrides: Partial<RaftNodeOptions> & { storage?: ControlledStorage } = {}) {
  const clock = new ManualClock();
  const storage = overrides.storage ?? new ControlledStorage();
  const transport = new RecordingTransport();
  const machine = new KvMachine();
  let raft!: FakeRaft;
  const node = new RaftNode({
    id: N1,
    clusterId: 'test',
    members: [
      { id: N1, peerUrl: '127.0.0.1:1', apiUrl: 'http://127.0.0.1:11' },
      { id: N2, peerUrl: '127.0.0.1:2' },
      { id: N3, peerUrl: '127.0.0.1:3' },
    ],
    apiUrl: 'http://127.0.0.1:11',
    tickMs: 1_000_000, // ticks are driven by hand here
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
    storage,
    transport,
    stateMachine: machine,
    logger: silentLogger,
    clock,
    snapshotEveryEntries: 1_000_000,
    randomSeed: 1,
    createRaft: (_config, persisted: PersistentState) => (raft = new FakeRaft(N1, [N2, N3], persisted)),
    ...overrides,
  });
  clocks.set(node, clock);
  await node.start();
  return { node, storage, transport, machine, clock, raft: () => raft };
}

describe('RaftNode Ready handling', () => {
  it('sends no message at a term not yet durable before the save has resolved (docs/safety.md #4)', async () => {
    const { node, storage, transport } = await makeNode();
    const p = node.propose(kv('a', '1'), 10_000);
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    expect(storage.saves[0].entries.map((e) => e.index)).toEqual([1]);
    expect(transport.sent).toHaveLength(0);
    storage.completeOne();
    await settle();
    expect(transport.sent.map((m) => m.to)).toEqual([N2, N3]);
    p.catch(() => {});
    storage.autoResolve = true;
    await stopNode(node);
  });

  it("sends the Ready's messages before its own save resolves and its messagesAfterPersist only after (etcd's msgsAfterAppend)", async () => {
    const persisted = { hardState: { term: term(1), vote: N1, commit: logIndex(0) }, snapshot: null, entries: [] };
    const { node, storage, transport, raft } = await makeNode({ storage: new ControlledStorage(persisted) });
    node.propose(kv('a', '1'), 10_000).catch(() => {}); // fails when the term changes below
    raft().pendingMessage({ type: 'TimeoutNow', from: N1, to: N2, term: term(1) });
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    expect(transport.sent.map((m) => [m.type, m.to])).toEqual([['Append', N2], ['Append', N3]]);
    storage.completeOne();
    await settle();
    expect(transport.sent.map((m) => m.type)).toEqual(['Append', 'Append', 'TimeoutNow']);
    // A Ready that changes the term holds even Appends back until it is durable.
    raft().setRole('leader', N1, 2);
    node.propose(kv('b', '2'), 10_000).catch(() => {});
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    expect(transport.sent).toHaveLength(3);
    storage.completeOne();
    await settle();
    expect(transport.sent.map((m) => m.type)).toEqual(['Append', 'Append', 'TimeoutNow', 'Append', 'Append']);
    storage.autoResolve = true;
    await stopNode(node);
  });

  it('group-commits: proposals made while a save is in flight share the next single save', async () => {
    const { node, storage, transport } = await makeNode();
    const first = node.propose(kv('k0', 'v'), 10_000);
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    const more = Array.from({ length: 50 }, (_, i) => node.propose(kv(`k${i + 1}`, 'v'), 10_000));
    await settle();
    // Never two Ready handlings at once: nothing more is written while the first save is in flight.
    expect(storage.saves).toHaveLength(1);
    storage.completeOne();
    await settle();
    expect(storage.saves).toHaveLength(2);
    expect(storage.saves[1].entries.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    // The messages for the second batch wait for the second save.
    expect(transport.sent).toHaveLength(2);
    storage.completeOne();
    await settle();
    expect(transport.sent).toHaveLength(102);
    for (const p of [first, ...more]) p.catch(() => {});
    storage.autoResolve = true;
    await stopNode(node);
  });

  it('writes a commit-only hard state unsynced and applies without waiting for it (Ready.mustSync false)', async () => {
    const { node, storage, raft, machine } = await makeNode();
    const p = node.propose(kv('x', 'one'), 10_000);
    await settle();
    storage.completeOne();
    await settle();
    expect(storage.saves).toHaveLength(1);
    expect(storage.saves[0].sync).toBeUndefined(); // entries: synced (the default)
    raft().commitTo(1);
    node['scheduleReady']();
    // Applied and answered while the commit index write is still in flight.
    await expect(p).resolves.toEqual({ index: 1, result: null });
    expect(machine.data.get('x')).toBe('one');
    expect(storage.saves).toHaveLength(2);
    expect(storage.saves[1]).toMatchObject({ sync: false, entries: [], hardState: { commit: 1 } });
    expect(storage.inFlight).toHaveLength(1);
    storage.completeOne();
    storage.autoResolve = true;
    await stopNode(node);
  });

  it("applies committed entries and answers while the same Ready's save of newer entries is in flight; a snapshot waits for its save", async () => {
    const { node, storage, raft, machine } = await makeNode();
    const a = node.propose(kv('x', 'one'), 10_000);
    await settle();
    storage.completeOne();
    await settle();
    raft().commitTo(1);
    const b = node.propose(kv('x', 'two'), 10_000); // same Ready: entry 2 to save, entry 1 to apply
    b.catch(() => {}); // the snapshot below covers it
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    expect(storage.inFlight[0].write.entries.map((e) => e.index)).toEqual([2]);
    await expect(a).resolves.toEqual({ index: 1, result: null });
    expect(machine.data.get('x')).toBe('one');
    storage.completeOne();
    await settle();
    // A snapshot from the leader is restored only once stored.
    raft().giveSnapshot({ meta: { index: logIndex(5), term: term(1), conf: { voters: [N1, N2, N3], learners: [] } }, data: new TextEncoder().encode(JSON.stringify([['x', 'five']])) });
    node['scheduleReady']();
    await settle();
    expect(storage.inFlight).toHaveLength(1);
    expect(node.status().appliedIndex).toBe(1);
    storage.completeOne();
    await settle();
    expect(node.status().appliedIndex).toBe(5);
    storage.autoResolve = true;
    await stopNode(node);
  });

  it('a failed unsynced commit write is fatal too', async () => {
    let fatal: Error | null = null;
    const { node, storage, raft } = await makeNode({ onFatal: (err) => (fatal = err) });
    raft().commitTo(0);
    node['scheduleReady']();
    await settle();
    expect(storage.saves.at(-1)?.sync).toBe(false);
    storage.failOne(new Error('disk on fire'));
    await settle();
    expect(fatal).toBeInstanceOf(Error);
    expect(node.failure()?.message).toContain('disk on fire');
  });

  it('resolves a proposal with the state machine result once applied, matching index and term', async () => {
    const { node, storage, raft, machine } = await makeNode();
    storage.autoResolve = true;
    const a = node.propose(kv('x', 'one'), 10_000);
    const b = node.propose(kv('x', 'two'), 10_000);
    await settle();
    raft().commitTo(2);
    node['scheduleReady']();
    await expect(a).resolves.toEqual({ index: 1, result: null });
    await expect(b).resolves.toEqual({ index: 2, result: 'one' });
    expect(machine.data.get('x')).toBe('two');
    expect(node.status().appliedIndex).toBe(2);
    await stopNode(node);
  });

  it('rejects as surely-not-applied when another term overwrote our index', async () => {
    const { node, storage, raft, machine } = await makeNode();
    storage.autoResolve = true;
    const mine = node.propose(kv('x', 'mine'), 10_000);
    await settle();
    // We lose leadership silently between Readies (no softState seen yet), and
    // the next leader's entry at index 1 (term 2) commits instead of ours.
    const r = raft();
    r.term = term(2);
    r.log = [];
    r.append({ type: 'normal', index: logIndex(1), term: term(2), data: kv('x', 'theirs') });
    r.commitTo(1);
    node['scheduleReady']();
    await expect(mine).rejects.toBeInstanceOf(NotLeaderError);
    expect(machine.data.get('x')).toBe('theirs');
    await stopNode(node);
  });

  it('rejects pending proposals as outcome-unknown when leadership is lost', async () => {
    const { node, storage, raft } = await makeNode();
    storage.autoResolve = true;
    const p = node.propose(kv('x', '1'), 10_000);
    await settle();
    raft().setRole('follower', N2, 2);
    node['scheduleReady']();
    await expect(p).rejects.toBeInstanceOf(OutcomeUnknownError);
    await expect(node.propose(kv('y', '1'), 10_000)).rejects.toMatchObject({ code: 'not_leader', leader: N2 });
    await stopNode(node);
  });

  it('times out a proposal as outcome-unknown', async () => {
    const { node, storage, clock } = await makeNode();
    storage.autoResolve = true;
    const timers = clock.pendingTimers; // the ticker's
    const p = node.propose(kv('x', '1'), 5);
    p.catch(() => {});
    await settle();
    expect(clock.pendingTimers).toBe(timers + 1); // the deadline is on the injected clock
    clock.advance(4);
    await settle();
    expect(await Promise.race([p.then(() => 'settled', () => 'settled'), Promise.resolve('pending')])).toBe('pending');
    clock.advance(1); // the deadline, on the injected clock: no real waiting
    await expect(p).rejects.toBeInstanceOf(OutcomeUnknownError);
    await stopNode(node);
  });

  it('tells role listeners about changes, after they happen', async () => {
    const { node, storage, raft } = await makeNode();
    storage.autoResolve = true;
    const seen: unknown[] = [];
    node.onRoleChange((role, leader, t) => seen.push([role, leader, t, node.status().role]));
    raft().setRole('follower', N3, 4);
    node['scheduleReady']();
    await settle();
    expect(seen).toEqual([['follower', N3, 4, 'follower']]);
    await stopNode(node);
  });

  it('a fatal storage error stops the node and fails what waits', async () => {
    const fatal: Error[] = [];
    const { node, storage } = await makeNode({ onFatal: (e) => fatal.push(e) });
    const p = node.propose(kv('x', '1'), 10_000);
    await settle();
    storage.failOne(new Error('disk on fire'));
    await expect(p).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(fatal.map((e) => e.message)).toEqual(['disk on fire']);
    expect(node.failure()?.message).toBe('disk on fire');
  });

  it('an exception from the Raft core (a broken invariant) stops the node at once, logged at fatal, and calls onFatal (exit non-zero)', async () => {
    const fatal: Error[] = [];
    const lines: Array<{ level: number; msg: string; err?: { message: string } }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { node, raft, transport } = await makeNode({ onFatal: (e) => fatal.push(e), logger });
    const p = node.propose(kv('x', '1'), 10_000);
    raft().step = () => {
      throw new RaftInvariantError('two leaders in term 3: n1 and n2');
    };
    const heartbeat = { type: 'Heartbeat', from: N2, to: N1, term: term(3), commit: logIndex(0), readContext: null } as const;
    transport.deliver(heartbeat);
    expect(fatal).toHaveLength(1);
    expect(fatal[0].message).toMatch(/raft core invariant broken: two leaders in term 3/);
    expect(node.failure()).toBe(fatal[0]);
    await expect(p).rejects.toBeInstanceOf(OutcomeUnknownError);
    const line = lines.find((l) => l.level === 60);
    expect(line?.err?.message).toMatch(/two leaders in term 3/);
    // Stopped: nothing more reaches the core.
    const stepped = vi.fn();
    raft().step = stepped;
    transport.deliver(heartbeat);
    expect(stepped).not.toHaveBeenCalled();
    await expect(node.propose(kv('y', '2'), 10_000)).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('a message addressed to another node is dropped, not a broken invariant', async () => {
    const fatal: Error[] = [];
    const { node, raft, transport } = await makeNode({ onFatal: (e) => fatal.push(e) });
    transport.deliver({ type: 'Heartbeat', from: N2, to: N3, term: term(3), commit: logIndex(0), readContext: null });
    expect(raft().stepped).toEqual([]);
    expect(fatal).toEqual([]);
    expect(node.failure()).toBeNull();
  });
});

describe('RaftNode reads', () => {
  it('serves a ReadIndex read only once applied reaches the read index, with unique request ids', async () => {
    const { node, storage, raft } = await makeNode();
    storage.autoResolve = true;
    const w = node.propose(kv('x', '1'), 10_000);
    await settle();
    const r1 = node.readBarrier(10_000);
    const r2 = node.readBarrier(10_000);
    const [id1, id2] = raft().readRequests;
    expect(id1).not.toBe(id2);
    let served = false;
    void r1.then(() => (served = true));
    raft().confirmRead(id1, 1);
    node['scheduleReady']();
    await settle();
    expect(served).toBe(false); // confirmed at 1, applied is 0
    raft().commitTo(1);
    node['scheduleReady']();
    await expect(r1).resolves.toBe(1);
    await w;
    raft().dropRead(id2);
    node['scheduleReady']();
    await expect(r2).rejects.toBeInstanceOf(NotLeaderError);
    await stopNode(node);
  });

  it('refuses reads and proposals on a follower', async () => {
    const { node, storage, raft } = await makeNode();
    storage.autoResolve = true;
    raft().setRole('follower', N2, 2);
    node['scheduleReady']();
    await settle();
    await expect(node.readBarrier(100)).rejects.toBeInstanceOf(NotLeaderError);
    expect(node.leadershipConfirmedRecently()).toBe(false);
    await stopNode(node);
  });

  it('leadership is confirmed recently only within an election timeout of quorum contact', async () => {
    const { node, storage, raft } = await makeNode();
    storage.autoResolve = true;
    raft().ticksSinceQuorumContact = 9;
    expect(node.leadershipConfirmedRecently()).toBe(true);
    raft().ticksSinceQuorumContact = 10;
    expect(node.leadershipConfirmedRecently()).toBe(false);
    await stopNode(node);
  });
});

describe('RaftNode snapshots and membership', () => {
  it('snapshots every N applied entries: durable snapshot first, then core compaction', async () => {
    const { node, storage, raft } = await makeNode({ snapshotEveryEntries: 3, snapshotRetainEntries: 7 });
    storage.autoResolve = true;
    const ps = [1, 2, 3, 4].map((i) => node.propose(kv(`k${i}`, 'v'), 10_000));
    await settle();
    raft().commitTo(4);
    node['scheduleReady']();
    await Promise.all(ps);
    await settle();
    const snapSave = storage.saves.find((s) => s.snapshot);
    expect(snapSave?.snapshot?.meta.index).toBe(4);
    expect(snapSave?.snapshot?.meta.conf.voters).toEqual([N1, N2, N3]);
    expect(decodeMemberContext(snapSave?.snapshot?.meta.memberContext?.[N1])).toEqual({ peerUrl: '127.0.0.1:1', apiUrl: 'http://127.0.0.1:11' });
    expect(raft().compacted).toEqual([{ index: 4, retain: 7 }]);
    // The snapshot's own save drops the covered entries; no separate (empty) compact write.
    expect(storage.compactedTo).toEqual([]);
    await stopNode(node);
  });

  it('restarts from a persisted snapshot: the state machine is restored before any apply', async () => {
    const donor = new KvMachine();
    donor.apply({ index: logIndex(5), term: term(1), data: kv('kept', 'yes') });
    const storage = new ControlledStorage({
      hardState: { term: term(3), vote: null, commit: logIndex(6) },
      snapshot: {
        meta: { index: logIndex(5), term: term(1), conf: { voters: [N1, N2, N3], learners: [] }, memberContext: { n2: encodeMemberContext({ peerUrl: '10.0.0.2:9', apiUrl: 'http://10.0.0.2:8' }) } },
        data: donor.snapshot(),
      },
      entries: [{ type: 'normal', index: logIndex(6), term: term(3), data: kv('after', 'snap') }],
    });
    storage.autoResolve = true;
    const { node, raft, machine, transport } = await makeNode({ storage });
    expect(machine.data.get('kept')).toBe('yes');
    expect(node.status().appliedIndex).toBe(5);
    // --peers wins over the snapshot's (the snapshotting node's) address book; API URLs are still learned from it.
    expect(transport.peers.get(N2)).toBe('127.0.0.1:2');
    expect(node.status().members.find((m) => m.id === N2)?.apiUrl).toBe('http://10.0.0.2:8');
    raft().commitTo(6);
    node['scheduleReady']();
    await settle();
    expect(node.failure()).toBeNull();
    expect(machine.data.get('after')).toBe('snap');
    expect(node.status().appliedIndex).toBe(6);
    await stopNode(node);
  });

  it('restores a snapshot sent by the leader and fails proposals it covers', async () => {
    const { node, storage, raft, machine } = await makeNode();
    storage.autoResolve = true;
    const donor = new KvMachine();
    donor.apply({ index: logIndex(40), term: term(2), data: kv('from', 'leader') });
    raft().setRole('follower', N2, 2);
    raft().giveSnapshot({ meta: { index: logIndex(40), term: term(2), conf: { voters: [N1, N2, N3], learners: [] } }, data: donor.snapshot() });
    node['scheduleReady']();
    await settle();
    expect(storage.saves.some((s) => s.snapshot?.meta.index === 40)).toBe(true);
    expect(machine.data.get('from')).toBe('leader');
    expect(node.status().appliedIndex).toBe(40);
    await stopNode(node);
  });

  it('learns API URLs from the peer handshake and from config entries', async () => {
    const { node, storage, raft, transport } = await makeNode();
    storage.autoResolve = true;
    transport.hello({ clusterId: 'test', nodeId: N2, protocolVersion: 1, apiUrl: 'http://127.0.0.1:12' });
    transport.hello({ clusterId: 'other', nodeId: N3, protocolVersion: 1, apiUrl: 'http://evil:1' });
    raft().setRole('follower', N2, 2);
    node['scheduleReady']();
    await settle();
    expect(node.leaderApiUrl()).toBe('http://127.0.0.1:12');
    expect(node.status().members.find((m) => m.id === N3)?.apiUrl).toBeNull();
    // A config entry carries a new member's addresses.
    const n4 = nodeId('n4');
    raft().append({ type: 'config', index: logIndex(1), term: term(2), change: { kind: 'addLearner', node: n4, context: encodeMemberContext({ peerUrl: '127.0.0.1:4', apiUrl: 'http://127.0.0.1:14' }) } });
    node['scheduleReady']();
    await settle();
    expect(transport.peers.get(n4)).toBe('127.0.0.1:4'); // reachable as soon as appended
    expect(node.status().members.map((m) => m.id)).not.toContain(n4); // but not a member until applied
    raft().commitTo(1);
    node['scheduleReady']();
    await settle();
    expect(node.status().members.find((m) => m.id === n4)).toEqual({ id: n4, peerUrl: '127.0.0.1:4', apiUrl: 'http://127.0.0.1:14', voter: false });
    await stopNode(node);
  });

  it('a hello teaches no address for a node not in the address book, nor an API URL that is not http(s)', async () => {
    const { node, transport } = await makeNode();
    transport.hello({ clusterId: 'test', nodeId: N2, protocolVersion: 1, apiUrl: 'http://127.0.0.1:12' });
    // Strangers, each with a fresh id and a large URL: the address book must not keep one entry per id.
    for (let i = 0; i < 50; i++) {
      transport.hello({ clusterId: 'test', nodeId: nodeId(`stranger-${i}`), protocolVersion: 1, apiUrl: `http://127.0.0.1:1/${'a'.repeat(64 * 1024)}` });
    }
    const book = node['addresses'] as unknown as { book: Map<unknown, unknown> };
    expect(book.book.size).toBe(3);
    expect(node['addresses'].address(nodeId('stranger-0'))).toBeNull();
    // A member's hello with an API URL nobody can build a request from keeps the URL it had.
    transport.hello({ clusterId: 'test', nodeId: N2, protocolVersion: 1, apiUrl: 'not a url' });
    transport.hello({ clusterId: 'test', nodeId: N2, protocolVersion: 1, apiUrl: 'javascript:alert(1)' });
    expect(node.apiUrlOf(N2)).toBe('http://127.0.0.1:12');
    await stopNode(node);
  });

  it('stop() hands leadership to the most caught-up voter and closes storage and transport', async () => {
    const { node, storage, raft, transport } = await makeNode();
    storage.autoResolve = true;
    const stopping = node.stop({ transferTimeoutMs: 50 });
    await settle();
    expect(raft().transfers).toHaveLength(1);
    expect([N2, N3]).toContain(raft().transfers[0]);
    raft().setRole('follower', raft().transfers[0], 2);
    node['scheduleReady'](); // the hand-over shows in the next Ready; the 50 ms bound is never reached (the clock stands still)
    await stopping;
    expect(storage.closed).toBe(true);
    expect(transport.closed).toBe(true);
    await expect(node.propose(kv('x', 'y'), 100)).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('exports its metrics: role, indexes, group commit size, proposal outcomes', async () => {
    const registry = new Registry();
    const { node, storage, raft } = await makeNode({ registry });
    storage.autoResolve = true;
    const ps = [node.propose(kv('a', '1'), 10_000), node.propose(kv('b', '2'), 10_000)];
    await settle();
    raft().commitTo(2);
    node['scheduleReady']();
    await Promise.all(ps);
    await settle();
    const text = await registry.metrics();
    expect(text).toMatch(/lockstep_raft_is_leader 1/);
    expect(text).toMatch(/lockstep_raft_role\{role="leader"\} 1/);
    expect(text).toMatch(/lockstep_raft_role\{role="follower"\} 0/);
    expect(text).toMatch(/lockstep_raft_applied_index 2/);
    expect(text).toMatch(/lockstep_node_entries_per_save_sum 2/);
    expect(text).toMatch(/lockstep_node_proposals_total\{outcome="applied"\} 2/);
    await stopNode(node);
  });
});
