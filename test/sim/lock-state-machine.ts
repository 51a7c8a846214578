// The simulator's state machine in `machine: 'locks'` runs: the command-id
// list of SimStateMachine (so every Raft check keeps working unchanged) plus a
// real LockMachine (src/locks/machine.ts) fed every committed normal entry,
// exactly as the real node feeds it (src/node/node.ts: normal entries only;
// restore with the Raft snapshot's index). A Raft snapshot carries both
// states: [u32 length of the command-id JSON][that JSON][LockMachine.snapshot()].

import type { ApplyResult, LockEvent, LockProposal } from '../../src/locks/commands.js';
import { decodeProposal } from '../../src/locks/codec.js';
import { LockMachine } from '../../src/locks/machine.js';
import type { Entry, NodeId, Snapshot } from '../../src/raft/types.js';
import { logIndex } from '../../src/raft/types.js';
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

  constructor(
    private readonly nodeName: string,
    initialVoters: readonly NodeId[],
  ) {
    super(nodeName, initialVoters);
    this.machine = new LockMachine();
  }

  locks(): LockMachine {
    return this.machine;
  }

  /** The lock machine's output for the entry applied last. */
  lastApplied(): LockApplied | null {
    return this.last;
  }

  override apply(e: Entry): void {
    super.apply(e);
    this.last = null;
    if (e.type !== 'normal') return;
    const output = this.machine.apply({ index: e.index, term: e.term, data: e.data });
    this.last = { proposal: decodeProposal(e.data), ...output };
  }

  override snapshot(): Snapshot {
    const base = super.snapshot();
    const locks = this.machine.snapshot();
    const data = new Uint8Array(LENGTH_PREFIX_BYTES + base.data.length + locks.length);
    new DataView(data.buffer).setUint32(0, base.data.length);
    data.set(base.data, LENGTH_PREFIX_BYTES);
    data.set(locks, LENGTH_PREFIX_BYTES + base.data.length);
    return { meta: base.meta, data };
  }

  override restore(snapshot: Snapshot): void {
    const { commands, locks } = splitSnapshot(this.nodeName, snapshot.data);
    super.restore({ meta: snapshot.meta, data: commands });
    this.machine = new LockMachine();
    this.machine.restore(locks, logIndex(snapshot.meta.index));
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
