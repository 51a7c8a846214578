// Real Raft core + RaftNode + MemoryStorage over an in-memory network, time
// driven by hand (manual ticks): elections, replication, crash and restart,
// snapshot catch-up, membership changes and leadership transfer.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/node/clock.js';
import { RaftNode } from '../../src/node/node.js';
import { Raft } from '../../src/raft/raft.js';
import { nodeId, type NodeId } from '../../src/raft/types.js';
import { MemoryDisk, MemoryStorage } from '../../src/storage/memory-storage.js';
import type { RaftStorage, StorageWrite } from '../../src/storage/api.js';
import { KvMachine, kv, settle, silentLogger, whileAdvancing } from './support/fakes.js';
import { LoopbackNetwork } from './support/loopback.js';

interface Member {
  node: RaftNode;
  machine: KvMachine;
  storage: MemoryStorage;
  gate: GatedStorage;
}

/** MemoryStorage whose saves can be held back: while closed, a save does not resolve. */
class GatedStorage implements RaftStorage {
  open = true;
  saves: StorageWrite[] = [];
  private held: (() => void)[] = [];
  constructor(readonly inner: MemoryStorage) {}
  load() {
    return this.inner.load();
  }
  async save(write: StorageWrite): Promise<void> {
    this.saves.push(write);
    if (!this.open) await new Promise<void>((r) => this.held.push(r));
    return this.inner.save(write);
  }
  get heldCount(): number {
    return this.held.length;
  }
  release(): void {
    this.open = true;
    for (const r of this.held.splice(0)) r();
  }
  compact(upTo: Parameters<RaftStorage['compact']>[0]) {
    return this.inner.compact(upTo);
  }
  close() {
    return this.inner.close();
  }
}

const TICK_MS = 10;

class Cluster {
  /** Every node's clock: it moves one tick per run() round, so timeouts fire in ticks, never on real time. */
  readonly clock = new ManualClock();
  readonly net = new LoopbackNetwork();
  readonly disks = new Map<NodeId, MemoryDisk>();
  readonly live = new Map<NodeId, Member>();
  private seed = 1;
  constructor(
    readonly ids: NodeId[],
    readonly snapshotEveryEntries = 1_000_000,
  ) {}

  async start(id: NodeId, initial: NodeId[] = this.ids): Promise<Member> {
    const disk = this.disks.get(id) ?? new MemoryDisk();
    this.disks.set(id, disk);
    const storage = new MemoryStorage(disk);
    const gate = new GatedStorage(storage);
    const machine = new KvMachine();
    const node = new RaftNode({
      id,
      clusterId: 'test',
      members: initial.map((m) => ({ id: m, peerUrl: `mem://${m}` })),
      apiUrl: `http://${id}`,
      tickMs: TICK_MS,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      storage: gate,
      transport: this.net.transport(id, `http://${id}`),
      stateMachine: machine,
      logger: silentLogger,
      clock: this.clock,
      snapshotEveryEntries: this.snapshotEveryEntries,
      snapshotRetainEntries: 10,
      randomSeed: this.seed++,
      manualTicks: true,
      createRaft: (config, persisted) => new Raft(config, persisted),
    });
    await node.start();
    const m = { node, machine, storage, gate };
    this.live.set(id, m);
    this.net.setDown(id, false);
    return m;
  }

  /** kill -9: unsynced writes are lost, nothing is flushed, nobody is told. */
  crash(id: NodeId): void {
    const m = this.live.get(id);
    if (!m) return;
    this.net.setDown(id, true);
    m.storage.crash();
    void whileAdvancing(this.clock, m.node.stop({ transferTimeoutMs: 1, drainTimeoutMs: 1 })).catch(() => {});
    this.live.delete(id);
  }

  async run(ticks: number, until?: () => boolean): Promise<boolean> {
    for (let i = 0; i < ticks; i++) {
      if (until?.()) return true;
      for (const m of this.live.values()) m.node.tickNow(1);
      this.clock.advance(TICK_MS);
      await settle(4);
    }
    return until ? until() : true;
  }

  leader(): Member | null {
    for (const m of this.live.values()) if (m.node.status().role === 'leader') return m;
    return null;
  }

  async waitLeader(): Promise<Member> {
    const ok = await this.run(500, () => this.leader() !== null);
    if (!ok) throw new Error('no leader elected within 500 ticks');
    return this.leader()!;
  }

  async stopAll(): Promise<void> {
    for (const m of this.live.values()) await whileAdvancing(this.clock, m.node.stop({ transferTimeoutMs: 1, drainTimeoutMs: 1 })).catch(() => {});
    this.live.clear();
  }
}

const ids = (n: number): NodeId[] => Array.from({ length: n }, (_, i) => nodeId(`n${i + 1}`));
let cluster: Cluster | null = null;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

/** Propose while driving ticks, so the proposal can commit. */
async function put(c: Cluster, leader: Member, key: string, value: string) {
  const p = leader.node.propose(kv(key, value), 60_000);
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await c.run(200, () => done);
  return p;
}

describe('in-process cluster (real Raft, MemoryStorage, loopback network)', () => {
  it('elects one leader in a 3-node and a 5-node cluster, and every node agrees on it', async () => {
    for (const n of [3, 5]) {
      const c = new Cluster(ids(n));
      cluster = c;
      for (const id of c.ids) await c.start(id);
      const leader = await c.waitLeader();
      await c.run(20);
      const views = [...c.live.values()].map((m) => m.node.status().leader);
      expect(new Set(views)).toEqual(new Set([leader.node.id]));
      expect([...c.live.values()].filter((m) => m.node.status().role === 'leader')).toHaveLength(1);
      expect(leader.node.leadershipConfirmedRecently()).toBe(true);
      // API URLs learned through the peer channel.
      for (const m of c.live.values()) expect(m.node.leaderApiUrl()).toBe(`http://${leader.node.id}`);
      await c.stopAll();
    }
  });

  it('replicates proposals, answers with the apply result, and serves ReadIndex reads', async () => {
    const c = (cluster = new Cluster(ids(3)));
    for (const id of c.ids) await c.start(id);
    const leader = await c.waitLeader();
    expect(await put(c, leader, 'a', '1')).toMatchObject({ result: null });
    const second = await put(c, leader, 'a', '2');
    expect(second.result).toBe('1');
    await c.run(10);
    for (const m of c.live.values()) expect(m.machine.data.get('a')).toBe('2');
    const read = leader.node.readBarrier(60_000);
    let done = false;
    void read.then(() => (done = true));
    await c.run(50, () => done);
    expect(await read).toBeGreaterThanOrEqual(second.index);
    const follower = [...c.live.values()].find((m) => m !== leader)!;
    await expect(follower.node.propose(kv('x', 'y'), 1000)).rejects.toMatchObject({ code: 'not_leader', leader: leader.node.id });
  });

  it('keeps every acknowledged write across a leader crash and its restart', async () => {
    const c = (cluster = new Cluster(ids(3)));
    for (const id of c.ids) await c.start(id);
    let leader = await c.waitLeader();
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      await put(c, leader, `k${i}`, `v${i}`);
      acked.push(`k${i}`);
    }
    const oldId = leader.node.id;
    c.crash(oldId);
    leader = await c.waitLeader();
    expect(leader.node.id).not.toBe(oldId);
    for (let i = 20; i < 30; i++) {
      await put(c, leader, `k${i}`, `v${i}`);
      acked.push(`k${i}`);
    }
    const back = await c.start(oldId);
    await c.run(200, () => back.node.status().appliedIndex >= leader.node.status().appliedIndex);
    for (const m of c.live.values()) for (const k of acked) expect(m.machine.data.get(k), `${m.node.id} ${k}`).toBeDefined();
  });

  it('loses nothing acknowledged when every node crashes at once', async () => {
    const c = (cluster = new Cluster(ids(3)));
    for (const id of c.ids) await c.start(id);
    const leader = await c.waitLeader();
    const acked: string[] = [];
    for (let i = 0; i < 15; i++) {
      await put(c, leader, `k${i}`, `v${i}`);
      acked.push(`k${i}`);
    }
    for (const id of c.ids) c.crash(id);
    for (const id of c.ids) await c.start(id);
    const newLeader = await c.waitLeader();
    await put(c, newLeader, 'after', 'restart');
    await c.run(30);
    for (const m of c.live.values()) for (const k of acked) expect(m.machine.data.get(k), `${m.node.id} ${k}`).toBe(`v${k.slice(1)}`);
  });

  it('a follower that was down while the log was compacted catches up through a snapshot', async () => {
    const c = (cluster = new Cluster(ids(3), 20));
    for (const id of c.ids) await c.start(id);
    const leader = await c.waitLeader();
    const lagger = c.ids.find((id) => id !== leader.node.id)!;
    c.crash(lagger);
    for (let batch = 0; batch < 10; batch++) {
      const ps = Array.from({ length: 20 }, (_, i) => leader.node.propose(kv(`k${batch * 20 + i}`, 'v'), 60_000));
      let done = 0;
      for (const p of ps) void p.then(() => done++);
      await c.run(200, () => done === ps.length);
    }
    expect(leader.node.stats.snapshotsTaken).toBeGreaterThan(0);
    const back = await c.start(lagger);
    const target = leader.node.status().appliedIndex;
    await c.run(300, () => back.node.status().appliedIndex >= target);
    expect(back.node.stats.snapshotsRestored).toBe(1);
    expect(back.machine.data.size).toBe(200);
    expect(back.machine.data.get('k0')).toBe('v');
  });

  it('adds a member (learner, catch-up, voter), transfers leadership to it, and removes another', async () => {
    const c = (cluster = new Cluster(ids(3)));
    for (const id of c.ids) await c.start(id);
    const leader = await c.waitLeader();
    await put(c, leader, 'before', 'join');
    const n4 = nodeId('n4');
    // A joiner is started with the cluster's initial voters (not itself), as
    // etcd's --initial-cluster: the config entries in the log add it.
    await c.start(n4, c.ids);
    const adding = leader.node.addMember({ id: n4, peerUrl: `mem://n4`, apiUrl: 'http://n4', voter: true }, 60_000);
    let added = false;
    void adding.then(() => (added = true));
    await c.run(300, () => added);
    await adding;
    expect(leader.node.status().conf.voters).toContain(n4);
    await c.run(20);
    expect(c.live.get(n4)!.machine.data.get('before')).toBe('join');

    const transfer = leader.node.transferLeadership(n4, 60_000);
    let moved = false;
    void transfer.then(() => (moved = true));
    await c.run(300, () => moved);
    expect(await transfer).toBe(n4);
    const newLeader = c.live.get(n4)!;
    await c.run(300, () => newLeader.node.status().role === 'leader');
    const victim = c.ids.find((id) => id !== leader.node.id)!;
    const removing = newLeader.node.removeMember(victim, 60_000);
    let removed = false;
    void removing.then(() => (removed = true));
    await c.run(300, () => removed);
    await removing;
    expect(newLeader.node.status().conf.voters).not.toContain(victim);
  });

  it("with the real core: the leader's Appends leave before its own save, but its copy counts toward commit only once saved; proposals made meanwhile share one save", async () => {
    const c = (cluster = new Cluster(ids(3)));
    for (const id of c.ids) await c.start(id);
    const leader = await c.waitLeader();
    await put(c, leader, 'warm', 'up');
    await c.run(5);
    await settle(20); // let every message in flight land
    // With one follower down, a commit needs the leader's own copy (docs/safety.md #4).
    const [down, up] = c.ids.filter((id) => id !== leader.node.id);
    c.crash(down);
    leader.gate.open = false;
    const savesBefore = leader.gate.saves.length;
    const first = leader.node.propose(kv('g0', 'v'), 60_000);
    await settle(4);
    expect(leader.gate.heldCount).toBe(1);
    const rest = Array.from({ length: 30 }, (_, i) => leader.node.propose(kv(`g${i + 1}`, 'v'), 60_000));
    let done = 0;
    for (const p of [first, ...rest]) void p.then(() => done++);
    await settle(20);
    const firstIndex = leader.gate.saves[savesBefore].entries[0].index;
    // The Append went out during the save and the live follower acknowledged it...
    expect(leader.node.status().progress?.[up]?.matchIndex).toBe(firstIndex);
    // ...but one durable copy is not a majority of three: nothing committed or answered.
    expect(leader.node.status().commitIndex).toBeLessThan(firstIndex);
    expect(done).toBe(0);
    expect(leader.gate.saves.length).toBe(savesBefore + 1); // one Ready at a time
    leader.gate.release();
    await c.run(100, () => done === 31);
    expect(done).toBe(31);
    const next = leader.gate.saves[savesBefore + 1];
    expect(next.entries.map((e) => e.index)).toEqual(Array.from({ length: 30 }, (_, i) => firstIndex + 1 + i));
  });
});
