// The order of one Ready's steps: the one place that says it. The node's
// ReadyHandler (src/node/ready-handler.ts, also what the simulator drives)
// and the core's test network (test/raft/network.ts, synchronous) both walk
// this list, so the order they prove is the order that ships:
//   - the core's `messages` (a leader's Appends and Heartbeats) go at once;
//   - hard state, entries and snapshot are written in ONE write; a Ready whose
//     only durable change is the commit index (mustSync false) is written
//     unsynced and not waited for;
//   - with a synced write and no snapshot, committed entries are applied while
//     the write is in flight: they are durable on a quorum already (etcd
//     applies in parallel with its WAL); a snapshot is restored only once stored;
//   - `messagesAfterPersist` go only once the write is durable (#4);
//   - then the Ready is advanced.
// Stop points sit where a crash (simulator) or a stop (node) may cut it short.
import type { Ready } from '../raft/types.js';

/** Where handling a Ready may be cut short (a crash in the simulator, a stop in the node). */
export type StopPoint = 'before-persist' | 'after-persist' | 'after-send';
export const STOP_POINTS: readonly StopPoint[] = ['before-persist', 'after-persist', 'after-send'];

export type ReadyStep =
  | { kind: 'send'; messages: 'now' | 'after-persist' }
  /** Start the write of hardState, entries and snapshot (synced when rd.mustSync). */
  | { kind: 'persist' }
  /** The write started by 'persist' is durable. */
  | { kind: 'await-persist' }
  /** Restore rd.snapshot (if any), apply rd.committedEntries in order, serve rd.readStates / droppedReads. */
  | { kind: 'apply' }
  | { kind: 'stop'; point: StopPoint }
  | { kind: 'advance' };

export function readyOrder(rd: Ready): ReadyStep[] {
  const writes = rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
  const synced = writes && rd.mustSync;
  const applyEarly = synced && rd.snapshot === null;
  const steps: ReadyStep[] = [{ kind: 'send', messages: 'now' }, { kind: 'stop', point: 'before-persist' }];
  if (writes) steps.push({ kind: 'persist' });
  if (applyEarly) steps.push({ kind: 'apply' });
  if (synced) steps.push({ kind: 'await-persist' });
  steps.push({ kind: 'stop', point: 'after-persist' }, { kind: 'send', messages: 'after-persist' }, { kind: 'stop', point: 'after-send' });
  if (!applyEarly) steps.push({ kind: 'apply' });
  steps.push({ kind: 'advance' });
  return steps;
}
