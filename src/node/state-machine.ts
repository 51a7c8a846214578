import type { LogIndex, Term } from '../raft/types.js';

/** An applied command, as the state machine sees it. */
export interface AppliedCommand {
  index: LogIndex;
  term: Term;
  data: Uint8Array;
}

/**
 * The replicated state machine behind the node (hashicorp/raft's FSM seam).
 * Must be deterministic: the same commands in the same order give the same
 * state and the same results on every node.
 */
export interface StateMachine<Result = unknown> {
  apply(command: AppliedCommand): Result;
  /** The whole state as bytes, as of the last applied index. */
  snapshot(): Uint8Array;
  /** Replace the whole state (a restored node answers exactly like the one it came from). */
  restore(data: Uint8Array, index: LogIndex): void;
  /** The index of the last command applied or restored. */
  appliedIndex(): LogIndex;
}
