// The work that ends an event-loop turn, in one fixed order: socket writes
// first, then disk syncs (issue 12).
//
// Some work runs once per turn, after every I/O callback of the turn has added
// to it: a peer link writes the frames of many requests as one buffer, a node
// answers a member's forwarded calls in one write, the file log syncs the saves
// of one turn with one fdatasync (group commit). Each used to run from its own
// setImmediate, and setImmediates run in the order they were scheduled. A
// Ready's save (scheduled before its entries are applied) thus ran its blocking
// fdatasync before the answers that the same Ready's apply produced, and
// before the calls that requests read meanwhile queued to the leader: every
// one of them waited out the sync, ~0.15-0.3 ms on the test machine. Here the
// turn's writes all go, then its syncs run.
//
// Safety does not rest on this order: whatever must wait until a write is
// durable (a vote, an acknowledgement) is handed to the transport only once
// the save has resolved (src/node/ready-order.ts); what goes before the sync
// here is what could already go before it.
//
// Work added while a turn's end runs (a write that schedules a write) goes to
// the next turn's end. A step that throws does not keep the others from
// running; its error is rethrown on its own, as an uncaught error, as its own
// setImmediate would have.

export type TurnEndStage = 'send' | 'sync';

const sends: Array<() => void> = [];
const syncs: Array<() => void> = [];
let scheduled = false;

/** Runs `step` at the end of this event-loop turn: every 'send' step of the turn before every 'sync' step. */
export function atTurnEnd(stage: TurnEndStage, step: () => void): void {
  (stage === 'send' ? sends : syncs).push(step);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runTurnEnd);
}

function runTurnEnd(): void {
  scheduled = false;
  const steps = [...sends.splice(0), ...syncs.splice(0)];
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
