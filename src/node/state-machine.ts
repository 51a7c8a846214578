import type { LogIndex, Term } from '../raft/types.js';

/** An applied command, as the state machine sees it. */
export interface AppliedCommand {
  index: LogIndex;
  term: Term;
  data: Uint8Array;
}

/**
 * What applying one command yields (hashicorp/raft fsm.go: Apply returns the
 * response): the proposer's answer, and what changed, in order, for whoever
 * hands it on. The machine calls nobody: it returns them with the result.
 */
export interface Applied<Result = unknown, Event = unknown> {
  result: Result;
  events: Event[];
  /** Set when the command could not be used: answered as an error and a no-op on every replica; the node logs it. */
  unusable?: string;
}

/**
 * The replicated state machine behind the node (hashicorp/raft's FSM seam).
 * Must be deterministic: the same commands in the same order give the same
 * state, results and events on every node.
 */
export interface StateMachine<Result = unknown, Event = unknown> {
  apply(command: AppliedCommand): Applied<Result, Event>;
  /** The whole state as bytes, as of the last applied index. */
  snapshot(): Uint8Array;
  /** Replace the whole state (a restored node answers exactly like the one it came from). */
  restore(data: Uint8Array, index: LogIndex): void;
  /**
   * Why `data` (a peer's snapshot at `index`) would not restore, or null if it would. Called before
   * the core accepts the snapshot, so a member's undecodable snapshot is refused instead of
   * stopping this node when it is restored. Optional: without it, every snapshot is taken as is.
   */
  checkSnapshot?(data: Uint8Array, index: LogIndex): string | null;
  /** The index of the last command applied or restored. */
  appliedIndex(): LogIndex;
}
