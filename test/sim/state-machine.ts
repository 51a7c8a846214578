// The tiny deterministic state machine each simulated node runs: the ordered
// list of applied command ids, plus the membership as of the applied index
// (so that snapshots carry the right ConfState). Snapshots are its JSON.

import type { ConfState, Entry, NodeId, Snapshot } from '../../src/raft/types.js';
import { logIndex, term } from '../../src/raft/types.js';
import { commandId } from './fingerprint.js';
import { violate } from './violation.js';

interface SmState {
  appliedIndex: number;
  appliedTerm: number;
  /** Command ids in applied order. */
  commands: string[];
  /** commandIndexes[k] is the log index at which commands[k] was applied. */
  commandIndexes: number[];
  conf: ConfState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SimStateMachine {
  private state: SmState;
  private commandSet = new Set<string>();

  constructor(
    private readonly node: string,
    initialVoters: readonly NodeId[],
  ) {
    this.state = {
      appliedIndex: 0,
      appliedTerm: 0,
      commands: [],
      commandIndexes: [],
      conf: { voters: [...initialVoters], learners: [] },
    };
  }

  appliedIndex(): number {
    return this.state.appliedIndex;
  }

  has(command: string): boolean {
    return this.commandSet.has(command);
  }

  commands(): readonly string[] {
    return this.state.commands;
  }

  commandIndexes(): readonly number[] {
    return this.state.commandIndexes;
  }

  conf(): ConfState {
    return this.state.conf;
  }

  apply(e: Entry): void {
    if (e.index !== this.state.appliedIndex + 1) {
      violate('applied monotonic', `${this.node} asked to apply index ${e.index} after ${this.state.appliedIndex}`);
    }
    this.state.appliedIndex = e.index;
    this.state.appliedTerm = e.term;
    const id = commandId(e);
    if (id !== null) {
      this.state.commands.push(id);
      this.state.commandIndexes.push(e.index);
      this.commandSet.add(id);
    } else if (e.type === 'config') {
      this.state.conf = applyConfChange(this.state.conf, e.change.kind, e.change.node);
    }
  }

  snapshot(): Snapshot {
    return {
      meta: {
        index: logIndex(this.state.appliedIndex),
        term: term(this.state.appliedTerm),
        conf: { voters: [...this.state.conf.voters], learners: [...this.state.conf.learners] },
      },
      data: encoder.encode(JSON.stringify(this.state)),
    };
  }

  restore(snapshot: Snapshot): void {
    const state = JSON.parse(decoder.decode(snapshot.data)) as SmState;
    if (state.appliedIndex !== snapshot.meta.index) {
      violate('snapshot consistency', `${this.node} got a snapshot whose data is at ${state.appliedIndex} but meta at ${snapshot.meta.index}`);
    }
    this.state = state;
    this.commandSet = new Set(state.commands);
  }
}

export function applyConfChange(conf: ConfState, kind: 'addVoter' | 'addLearner' | 'removeNode', node: NodeId): ConfState {
  const voters = conf.voters.filter((v) => v !== node);
  const learners = conf.learners.filter((l) => l !== node);
  // Mirrors the core (src/raft/membership.ts): adding a voter as a learner is a no-op.
  if (kind === 'addVoter') voters.push(node);
  if (kind === 'addLearner') {
    if (conf.voters.includes(node)) return conf;
    learners.push(node);
  }
  return { voters, learners };
}
