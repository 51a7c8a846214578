// The simulated network. Each message is scheduled for delivery at a step;
// at each step the due messages are delivered in a random order (reordering),
// and the network may drop, duplicate or delay (hold for k steps) any of them.
// Partitions are a set of blocked DIRECTED links, so one-way partitions
// (A hears B but B does not hear A) and bridges are just other link sets.

import type { Message, NodeId } from '../../src/raft/types.js';
import type { Prng } from './prng.js';

/** Fault rates while the nemesis is active; all zero once the network is fair. */
export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  delayProbability: number;
  /** A delayed message is held for 1..maxDelaySteps extra steps. */
  maxDelaySteps: number;
}

export const FAIR_NETWORK: NetworkFaults = {
  dropProbability: 0,
  duplicateProbability: 0,
  delayProbability: 0,
  maxDelaySteps: 0,
};

export const CHAOTIC_NETWORK: NetworkFaults = {
  dropProbability: 0.05,
  duplicateProbability: 0.03,
  delayProbability: 0.1,
  maxDelaySteps: 6,
};

/** A bound on messages in flight: a run that floods the network is a bug in itself. */
export const IN_FLIGHT_MESSAGES_MAX = 20_000;

interface InFlight {
  deliverAtStep: number;
  /** Tie-breaker so that the pre-shuffle order is deterministic. */
  seq: number;
  message: Message;
}

export type DeliveryEvent =
  | { kind: 'deliver'; message: Message }
  | { kind: 'drop'; message: Message; reason: 'random' | 'partition' };

export class SimNetwork {
  private inFlight: InFlight[] = [];
  private blocked = new Set<string>();
  private seq = 0;
  faults: NetworkFaults = CHAOTIC_NETWORK;

  constructor(private readonly rng: Prng) {}

  private static link(from: NodeId, to: NodeId): string {
    return `${from}>${to}`;
  }

  send(message: Message, nowStep: number): void {
    let deliverAtStep = nowStep + 1;
    if (this.faults.delayProbability > 0 && this.rng.chance(this.faults.delayProbability)) {
      deliverAtStep += 1 + this.rng.int(this.faults.maxDelaySteps);
    }
    this.inFlight.push({ deliverAtStep, seq: this.seq++, message });
    if (this.faults.duplicateProbability > 0 && this.rng.chance(this.faults.duplicateProbability)) {
      const extra = this.faults.maxDelaySteps > 0 ? this.rng.int(this.faults.maxDelaySteps + 1) : 0;
      this.inFlight.push({ deliverAtStep: deliverAtStep + extra, seq: this.seq++, message });
    }
    if (this.inFlight.length > IN_FLIGHT_MESSAGES_MAX) {
      throw new Error(`network: more than ${IN_FLIGHT_MESSAGES_MAX} messages in flight`);
    }
  }

  /** Take the messages due at `nowStep`, shuffled, with drops decided. */
  takeDue(nowStep: number): DeliveryEvent[] {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const m of this.inFlight) (m.deliverAtStep <= nowStep ? due : later).push(m);
    this.inFlight = later;
    this.rng.shuffle(due);
    const events: DeliveryEvent[] = [];
    for (const { message } of due) {
      if (this.blocked.has(SimNetwork.link(message.from, message.to))) {
        events.push({ kind: 'drop', message, reason: 'partition' });
      } else if (this.faults.dropProbability > 0 && this.rng.chance(this.faults.dropProbability)) {
        events.push({ kind: 'drop', message, reason: 'random' });
      } else {
        events.push({ kind: 'deliver', message });
      }
    }
    return events;
  }

  /** Block every link from a node in `from` to a node in `to` (one direction). */
  blockOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    for (const a of from) for (const b of to) if (a !== b) this.blocked.add(SimNetwork.link(a, b));
  }

  /** Block both directions between two groups. */
  blockBetween(left: readonly NodeId[], right: readonly NodeId[]): void {
    this.blockOneWay(left, right);
    this.blockOneWay(right, left);
  }

  /** Whether the link from -> to is cut (a partitioned peer's connection would not close: it goes silent). */
  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(SimNetwork.link(from, to));
  }

  heal(): void {
    this.blocked.clear();
  }

  isPartitioned(): boolean {
    return this.blocked.size > 0;
  }

  inFlightCount(): number {
    return this.inFlight.length;
  }
}
