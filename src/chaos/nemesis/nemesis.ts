// The nemesis: a seeded schedule of faults against a running chaos cluster.
// Rounds alternate a fault and a quiet period in which the cluster must
// recover; fault kinds come in a shuffled round-robin so that a short run
// still sees every kind asked for; shape, target and timing are drawn from
// the PRNG. Every fault is recorded with its start and heal time.
import type { ChaosCluster } from '../cluster/cluster.js';
import type { FaultKind, FaultRecord } from '../history.js';
import type { Prng } from '../prng.js';
import { NO_FAULT } from '../net/link-proxy.js';
import { attempt } from '../workload/http.js';
import { partitionLinks, PARTITION_SHAPES, type PartitionShape } from './partitions.js';

export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'kill', 'pause', 'clock', 'membership'];

export interface NemesisOptions {
  kinds: readonly FaultKind[];
  electionMs: number;
  faultMsMin: number;
  faultMsMax: number;
  quietMsMin: number;
  quietMsMax: number;
}

interface Active {
  record: FaultRecord;
  heal: () => Promise<void>;
}

/** How long a membership round waits for a leader and a follower up before it transfers instead of replacing. */
export const REPLACE_WAIT_MS = 15_000;
const REPLACE_POLL_MS = 200;
/** How often a node just started is asked whether it answers (its recovery window opens then: finely). */
const UP_POLL_MS = 50;
/** How long a replacement waits for its joiner to answer HTTP before it asks to add it anyway. */
export const JOINER_START_MS = 30_000;
/**
 * How long a removed node may take to learn it was removed (a member refuses it at its next hello,
 * after its election timeout; its /readyz then says so): a few election timeouts.
 */
export const REMOVED_TOLD_MS = 10_000;

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  private stopped = false;
  private wake: (() => void) | null = null;
  private active: Active | null = null;
  private replaceNext = true;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly prng: Prng,
    private readonly options: NemesisOptions,
    private readonly leader: () => string | null,
    private readonly nowMs: () => number,
    private readonly log: (line: string) => void,
  ) {}

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /** Run rounds until stop(); heals whatever is active on the way out. */
  async run(): Promise<void> {
    let order: FaultKind[] = [];
    while (!this.stopped) {
      await this.sleep(this.prng.int(this.options.quietMsMin, this.options.quietMsMax));
      if (this.stopped) break;
      if (order.length === 0) order = this.prng.shuffle(this.options.kinds);
      const kind = order.shift()!;
      const durationMs = this.prng.int(this.options.faultMsMin, this.options.faultMsMax);
      try {
        this.active = await this.inject(kind, durationMs);
      } catch (err) {
        this.log(`nemesis: could not inject ${kind}: ${(err as Error).message}`);
        continue;
      }
      if (this.active) {
        this.faults.push(this.active.record);
        const r = this.active.record;
        const lasting = r.endMs === Infinity ? ` for ${durationMs}ms` : ` (${(r.endMs - r.startMs).toFixed(0)}ms)`;
        this.log(`nemesis: ${kind} ${r.shape} on ${r.targets.join(',')}${lasting} ${JSON.stringify(r.detail ?? {}).slice(0, 160)}`);
        if (this.active.record.endMs === Infinity) await this.sleep(durationMs);
        await this.healActive();
      }
    }
    await this.healActive();
  }

  private async healActive(): Promise<void> {
    const a = this.active;
    this.active = null;
    if (!a) return;
    await a.heal();
    if (a.record.endMs === Infinity) a.record.endMs = this.nowMs();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private record(kind: FaultKind, shape: string, targets: string[], detail: Record<string, unknown> = {}): FaultRecord {
    return { kind, shape, targets, startMs: this.nowMs(), endMs: Infinity, detail };
  }

  private pickTarget(preferLeader: boolean): string {
    const ids = this.cluster.ids().filter((id) => this.cluster.node(id).running);
    const leader = this.leader();
    if (preferLeader && leader && ids.includes(leader)) return leader;
    return this.prng.pick(ids.length ? ids : this.cluster.ids());
  }

  private async inject(kind: FaultKind, durationMs: number): Promise<Active | null> {
    switch (kind) {
      case 'partition':
        return this.partition(durationMs);
      case 'kill':
        return this.kill();
      case 'pause':
        return this.pause(durationMs);
      case 'clock':
        return this.clock();
      case 'membership':
      case 'transfer':
        return this.membership();
    }
  }

  /** Links that work, badly: delayed, slowed or lossy (connection resets) — on the leader's links or everywhere. */
  private degrade(): Active {
    const ids = this.cluster.ids();
    const leader = this.leader() ?? this.prng.pick(ids);
    const everywhere = this.prng.chance(0.3);
    const links = ids.flatMap((a) => ids.filter((b) => b !== a && (everywhere || a === leader || b === leader)).map((b) => [a, b] as const));
    const shape = this.prng.pick(['delay', 'slow', 'lossy'] as const);
    const fault = {
      ...NO_FAULT,
      ...(shape === 'delay' ? { delayMs: this.prng.int(20, Math.max(40, Math.floor(this.options.electionMs / 2))) } : {}),
      ...(shape === 'slow' ? { bytesPerSec: this.prng.pick([20_000, 200_000]) } : {}),
      ...(shape === 'lossy' ? { dropProbability: this.prng.pick([0.01, 0.05, 0.2]) } : {}),
    };
    this.cluster.network.setLinks(links, fault);
    const record = this.record('partition', `${shape}${everywhere ? '-all' : '-leader'}`, everywhere ? ids : [leader], { ...fault, cut: undefined });
    return { record, heal: async () => this.cluster.network.healAll() };
  }

  private partition(durationMs: number): Active {
    if (this.prng.chance(0.25)) return this.degrade();
    const ids = this.cluster.ids();
    let shape: PartitionShape = this.prng.pick(PARTITION_SHAPES);
    let { links, describe } = partitionLinks(shape, ids, this.leader(), this.prng);
    if (links.length === 0) {
      shape = 'halves';
      ({ links, describe } = partitionLinks(shape, ids, this.leader(), this.prng));
    }
    const net = this.cluster.network;
    const style = this.prng.chance(0.8) ? 'blackhole' : 'refuse';
    net.cut(links, style);
    const targets = [...new Set(links.flat())];
    const record = this.record('partition', shape, targets, { links: links.map(([a, b]) => `${a}->${b}`), describe, style });
    let flapping: Promise<void> | null = null;
    let flapStop = false;
    if (shape === 'flapping') {
      flapping = (async () => {
        let cut = true;
        const until = this.nowMs() + durationMs;
        while (!flapStop && this.nowMs() < until) {
          await new Promise((r) => setTimeout(r, this.prng.int(200, 800)));
          if (flapStop) break;
          cut = !cut;
          if (cut) net.cut(links, style);
          else net.healAll();
        }
      })();
    }
    return {
      record,
      heal: async () => {
        flapStop = true;
        await flapping;
        net.healAll();
      },
    };
  }

  private async kill(): Promise<Active> {
    const ids = this.cluster.ids();
    const shape = this.prng.pick(['leader', 'minority', 'all'] as const);
    let targets: string[];
    if (shape === 'leader') targets = [this.pickTarget(true)];
    else if (shape === 'minority') targets = this.prng.shuffle(ids).slice(0, Math.max(1, Math.floor((ids.length - 1) / 2)));
    else targets = [...ids];
    const record = this.record('kill', shape, targets);
    await Promise.all(targets.map((id) => this.cluster.node(id).kill()));
    const downMs = this.prng.int(500, 3000);
    record.detail = { downMs };
    await this.sleep(downMs);
    for (const id of targets) if (!this.cluster.node(id).running) this.cluster.node(id).start();
    // Healed once the restarted processes answer HTTP, not at their spawn: the recovery bound is
    // the cluster's (an election and a commit among running nodes), and a process's own start-up is
    // mostly the machine's — loading modules and compiling the API's schemas, ~0.75 s of CPU per
    // node by --cpu-prof (replaying the log: under 5%), three at once after "kill all", stretched to
    // many seconds at load average 20 on 2 cores (a TLS run failed the 10 s bound by 1 s so, with
    // every safety check passing). The time each took is kept in the record (upMs), as a
    // joiner's is (joinerUp).
    const upMs = await Promise.all(targets.map((id) => this.nodeUp(id)));
    record.detail = { downMs, upMs: Object.fromEntries(targets.map((id, i) => [id, upMs[i]])) };
    record.endMs = this.nowMs();
    return { record, heal: async () => {} };
  }

  private pause(durationMs: number): Active {
    const shape = this.prng.chance(0.7) ? 'leader' : 'random';
    const target = this.pickTarget(shape === 'leader');
    // Longer than an election timeout, so that the others elect anew and the paused node wakes up deposed.
    const pauseMs = Math.max(durationMs, this.prng.int(2, 4) * this.options.electionMs);
    const record = this.record('pause', shape, [target], { pauseMs });
    this.cluster.node(target).pause();
    return {
      record,
      heal: async () => {
        await this.sleep(Math.max(0, pauseMs - (this.nowMs() - record.startMs)));
        this.cluster.node(target).resume();
      },
    };
  }

  private clock(): Active {
    const shape = this.prng.pick(['jump-forward', 'jump-back', 'skew-fast', 'skew-slow'] as const);
    const target = this.pickTarget(this.prng.chance(0.6));
    const clocks = this.cluster.clocks;
    let detail: Record<string, unknown>;
    if (shape === 'jump-forward' || shape === 'jump-back') {
      const jumpMs = (shape === 'jump-forward' ? 1 : -1) * this.prng.int(2000, 15000);
      clocks.jump(target, jumpMs);
      detail = { jumpMs };
    } else {
      const rate = shape === 'skew-fast' ? this.prng.pick([1.5, 2, 3]) : this.prng.pick([0.25, 0.5]);
      clocks.skew(target, rate);
      detail = { rate };
    }
    return { record: this.record('clock', shape, [target], detail), heal: async () => clocks.heal(target) };
  }

  /**
   * Membership rounds alternate a member replacement and a leadership
   * transfer, replacement first: a run with one membership round still
   * replaces a member (the fault-coverage check fails a run that did not).
   * A replacement needs a leader and a follower up: the round waits for them
   * up to REPLACE_WAIT_MS (the fault before may have just healed, a loaded
   * machine elects slowly), then transfers and leaves the replacement to the
   * next round.
   */
  private async membership(): Promise<Active> {
    if (!this.replaceNext) {
      this.replaceNext = true;
      return this.transferLeadership(this.leader());
    }
    const untilMs = this.nowMs() + REPLACE_WAIT_MS;
    for (;;) {
      const leader = this.leader();
      const followers = this.cluster.ids().filter((id) => id !== leader && this.cluster.node(id).running);
      if (leader && followers.length > 0) {
        // A replacement that threw or did not complete is tried again next round.
        this.replaceNext = true;
        const active = await this.replaceFollower(leader, this.prng.pick(followers));
        this.replaceNext = active.record.detail?.added !== 'ok';
        return active;
      }
      if (this.stopped || this.nowMs() >= untilMs) return this.transferLeadership(leader);
      await this.sleep(REPLACE_POLL_MS);
    }
  }

  /** Leadership transfer under load (POST /v1/cluster/leadership). */
  private async transferLeadership(leader: string | null): Promise<Active> {
    const ids = this.cluster.ids();
    const to = this.prng.pick(ids.filter((id) => id !== leader));
    const via = leader ? this.cluster.node(leader).apiUrl : this.cluster.node(this.prng.pick(ids)).apiUrl;
    const record = this.record('membership', 'transfer-leadership', [to], { from: leader });
    const a = await attempt('POST', `${via}/v1/cluster/leadership`, { to }, { timeoutMs: 5000, through: this.cluster.fetch });
    record.detail = { ...record.detail, status: a.kind === 'answer' ? a.status : a.error };
    record.endMs = this.nowMs();
    return { record, heal: async () => {} };
  }

  /**
   * Ask any running node (it forwards to the leader), a few times, until one
   * answers 2xx or the change is seen in force: an attempt whose answer was
   * lost may have applied, and its retry then answers 400 "already a member"
   * or 404 "no member" (the API's membership changes are not idempotent).
   * With no node running nobody can answer (nothing restarts one during a
   * round): the round gives up at once instead of waiting out its bound.
   */
  private async ask(method: 'POST' | 'DELETE', path: string, body: unknown, untilMs: number, inForce: () => Promise<boolean>): Promise<string> {
    let last = 'not tried';
    while (this.nowMs() < untilMs) {
      const running = this.cluster.ids().filter((id) => this.cluster.node(id).running);
      if (running.length === 0) return `${last}; then no node running`;
      const target = this.cluster.node(this.prng.pick(running));
      const a = await attempt(method, target.apiUrl + path, body, { timeoutMs: 5000, through: this.cluster.fetch });
      if (a.kind === 'answer' && a.status < 300) return 'ok';
      last = a.kind === 'answer' ? `${a.status} ${JSON.stringify(a.body).slice(0, 120)}` : a.error;
      if (await inForce()) return 'ok';
      await new Promise((r) => setTimeout(r, 300));
    }
    return last;
  }

  /**
   * Until a node just started (a joiner, a killed node restarted) answers HTTP
   * (any status), it exited, or JOINER_START_MS passed: the add's bound and a
   * kill's recovery count from there, not from the spawn (a loaded machine
   * took 12 s to start one). Says how long it waited, or why it stopped.
   */
  private async nodeUp(id: string): Promise<string> {
    const from = this.nowMs();
    while (this.nowMs() - from < JOINER_START_MS) {
      const node = this.cluster.nodes.get(id);
      if (!node?.running) return 'not running';
      const a = await attempt('GET', `${node.apiUrl}/v1/cluster`, undefined, { timeoutMs: 2000, through: this.cluster.fetch });
      if (a.kind === 'answer') return `${(this.nowMs() - from).toFixed(0)}ms`;
      await new Promise((r) => setTimeout(r, UP_POLL_MS));
    }
    return `not answering after ${JOINER_START_MS}ms`;
  }

  /** Until the removed node's /readyz says it was removed (how long that took), it stopped, or REMOVED_TOLD_MS passed. */
  private async removedTold(id: string): Promise<string> {
    const from = this.nowMs();
    let last = 'not asked';
    while (this.nowMs() - from < REMOVED_TOLD_MS) {
      const node = this.cluster.nodes.get(id);
      if (!node?.running) return 'not running';
      const a = await attempt('GET', `${node.apiUrl}/readyz`, undefined, { timeoutMs: 2000, through: this.cluster.fetch });
      const message = a.kind === 'answer' ? String((a.body as { error?: { message?: unknown } } | null)?.error?.message ?? a.status) : a.error;
      if (/removed from the cluster/.test(message)) return `ok after ${(this.nowMs() - from).toFixed(0)}ms`;
      last = message.slice(0, 120);
      await new Promise((r) => setTimeout(r, REPLACE_POLL_MS));
    }
    return `not told within ${REMOVED_TOLD_MS}ms (readyz: ${last})`;
  }

  /** A member as the current leader sees it (its configuration is in force on append), or null if no leader answers. */
  private async memberOf(id: string): Promise<'absent' | 'learner' | 'voter' | null> {
    const leader = this.leader();
    if (leader === null || !this.cluster.nodes.has(leader)) return null;
    const a = await attempt('GET', `${this.cluster.node(leader).apiUrl}/v1/cluster`, undefined, { timeoutMs: 2000, through: this.cluster.fetch });
    if (a.kind !== 'answer' || a.status !== 200) return null;
    const member = (a.body as { members?: Array<{ id: string; voter: boolean }> }).members?.find((m) => m.id === id);
    return member === undefined ? 'absent' : member.voter ? 'voter' : 'learner';
  }

  /**
   * Membership change under load: remove a follower, wipe it, and add a
   * fresh node under a new id in its place (a node that lost its disk
   * rejoins under a new id: docs/safety.md #10). One change at a time.
   * Whatever happens on the way, the round returns its record of what it did
   * (a member removed and nobody told would leave the checks silent about
   * it); a step that threw is in detail.error.
   */
  private async replaceFollower(leader: string, victim: string): Promise<Active> {
    const record = this.record('membership', 'replace-follower', [victim], { leader });
    const done = (): Active => {
      record.endMs = this.nowMs();
      return { record, heal: async () => {} };
    };
    try {
      const removed = await this.ask('DELETE', `/v1/cluster/members/${victim}`, undefined, this.nowMs() + 15_000, async () => (await this.memberOf(victim)) === 'absent');
      record.detail = { ...record.detail, removed };
      if (removed !== 'ok') return done();
      // Still running, the removed node must learn it was removed (docs/safety.md #10), before it is wiped.
      record.detail = { ...record.detail, told: await this.removedTold(victim) };
      await this.cluster.dropNode(victim);
      const joiner = this.cluster.freshId();
      const { node, peerUrl } = await this.cluster.startJoiner(joiner);
      record.targets = [victim, joiner];
      record.detail = { ...record.detail, joiner, peerUrl, joinerUp: await this.nodeUp(joiner) };
      const added = await this.ask('POST', '/v1/cluster/members', { id: joiner, apiUrl: node.apiUrl, peerUrl, voter: true }, this.nowMs() + 20_000, async () => (await this.memberOf(joiner)) === 'voter');
      record.detail = { ...record.detail, added };
    } catch (err) {
      record.detail = { ...record.detail, error: (err as Error).message };
    }
    return done();
  }

  /** Bring everything back: partitions healed, paused nodes resumed, killed nodes restarted, clocks at normal speed. */
  async healEverything(): Promise<void> {
    await this.healActive();
    this.cluster.network.healAll();
    this.cluster.clocks.healAll();
    for (const id of this.cluster.ids()) {
      const n = this.cluster.node(id);
      n.resume();
      if (!n.running) n.start();
    }
  }
}
