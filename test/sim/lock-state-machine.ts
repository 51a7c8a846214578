// The simulator's state machine in `machine: 'locks'` runs: the command-id
// list of SimStateMachine (so every Raft check keeps working unchanged) plus a
// real LockMachine (src/locks/machine.ts) fed every committed normal entry,
// exactly as the real node feeds it (src/node/node.ts: normal entries only;
// restore with the Raft snapshot's index). A Raft snapshot carries both
// states: [u32 length of the command-id JSON][that JSON][LockMachine.snapshot()].

import type { ApplyResult, LockEvent, LockProposal } from '../../src/locks/commands.js';
import { decodeProposal } from '../../src/locks/codec.js';
import { LockMachine } from '../../src/locks/machine.js';
import type { Applied, AppliedCommand } from '../../src/node/state-machine.js';
import type { LogIndex } from '../../src/raft/types.js';
import { SimStateMachine } from './state-machine.js';
import { violate } from './violation.js';

const LENGTH_PREFIX_BYTES = 4;

/** What the last applied entry did to the lock machine (null: a no-op or config entry, not fed to it). */
export interface LockApplied {
  /** The entry, decoded (what the checker needs to know who asked for what). */
  proposal: LockProposal;
  result: ApplyResult;
  events: LockEvent[];
}

export class LockSimStateMachine extends SimStateMachine {
  private machine: LockMachine;
  private last: LockApplied | null = null;

  constructor(private readonly nodeName: string) {
    super(nodeName);
    this.machine = new LockMachine();
  }

  locks(): LockMachine {
    return this.machine;
  }

  /** The lock machine's output for the command applied last (the caller knows whether the last entry was one). */
  lastApplied(): LockApplied | null {
    return this.last;
  }

  override apply(command: AppliedCommand): Applied {
    super.apply(command);
    const output = this.machine.apply(command);
    this.last = { proposal: decodeProposal(command.data), ...output };
    return output;
  }

  override snapshot(): Uint8Array {
    const base = super.snapshot();
    const locks = this.machine.snapshot();
    const data = new Uint8Array(LENGTH_PREFIX_BYTES + base.length + locks.length);
    new DataView(data.buffer).setUint32(0, base.length);
    data.set(base, LENGTH_PREFIX_BYTES);
    data.set(locks, LENGTH_PREFIX_BYTES + base.length);
    return data;
  }

  override restore(data: Uint8Array, index: LogIndex): void {
    const { commands, locks } = splitSnapshot(this.nodeName, data);
    super.restore(commands, index);
    this.machine = new LockMachine();
    this.machine.restore(locks, index);
    this.last = null;
  }
}

export function splitSnapshot(node: string, data: Uint8Array): { commands: Uint8Array; locks: Uint8Array } {
  if (data.length < LENGTH_PREFIX_BYTES) violate('snapshot consistency', `${node} got a lock-sim snapshot of ${data.length} bytes`);
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (LENGTH_PREFIX_BYTES + length > data.length) violate('snapshot consistency', `${node} got a truncated lock-sim snapshot`);
  return {
    commands: data.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + length),
    locks: data.subarray(LENGTH_PREFIX_BYTES + length),
  };
}
