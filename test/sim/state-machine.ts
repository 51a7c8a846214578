// The tiny deterministic state machine each simulated node runs behind the
// node's StateMachine seam (src/node/state-machine.ts): the ordered list of
// applied command ids. Snapshots are its JSON; the configuration a snapshot
// records comes from the Ready handler (src/node/ready-handler.ts), as in the
// real node.

import type { AppliedCommand, Applied, StateMachine } from '../../src/node/state-machine.js';
import type { LogIndex } from '../../src/raft/types.js';
import { logIndex } from '../../src/raft/types.js';
import { violate } from './violation.js';

interface SmState {
  /** The index of the last command applied or restored. */
  appliedIndex: number;
  /** Command ids in applied order. */
  commands: string[];
  /** commandIndexes[k] is the log index at which commands[k] was applied. */
  commandIndexes: number[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SimStateMachine implements StateMachine {
  private state: SmState = { appliedIndex: 0, commands: [], commandIndexes: [] };
  private commandSet = new Set<string>();
  private byIndex = new Map<number, string>();

  constructor(private readonly node: string) {}

  appliedIndex(): LogIndex {
    return logIndex(this.state.appliedIndex);
  }

  has(command: string): boolean {
    return this.commandSet.has(command);
  }

  /** The command applied at `index`, null if none (not applied yet, a no-op or config entry, or before the snapshot). */
  commandAt(index: number): string | null {
    return this.byIndex.get(index) ?? null;
  }

  commands(): readonly string[] {
    return this.state.commands;
  }

  commandIndexes(): readonly number[] {
    return this.state.commandIndexes;
  }

  apply(command: AppliedCommand): Applied {
    if (command.index <= this.state.appliedIndex) {
      violate('applied monotonic', `${this.node} asked to apply index ${command.index} after ${this.state.appliedIndex}`);
    }
    const id = decoder.decode(command.data);
    this.state.appliedIndex = command.index;
    this.state.commands.push(id);
    this.state.commandIndexes.push(command.index);
    this.commandSet.add(id);
    this.byIndex.set(command.index, id);
    return { result: id, events: [] };
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.state));
  }

  restore(data: Uint8Array, index: LogIndex): void {
    const state = JSON.parse(decoder.decode(data)) as SmState;
    if (state.appliedIndex > index) {
      violate('snapshot consistency', `${this.node} got a snapshot whose data is at ${state.appliedIndex} but meta at ${index}`);
    }
    // Entries after the last command up to `index` were no-ops or config changes.
    this.state = { ...state, appliedIndex: index };
    this.commandSet = new Set(state.commands);
    this.byIndex = new Map(state.commandIndexes.map((index, k) => [index, state.commands[k]]));
  }
}
