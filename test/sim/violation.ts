// A safety or liveness property failed. The simulator stops the run at the
// first violation and reports the property, the step and the seed.

export type Property =
  | 'election safety'
  | 'log matching'
  | 'leader completeness'
  | 'state machine safety'
  | 'leader append-only'
  | 'commit monotonic'
  | 'applied monotonic'
  | 'acknowledged not lost'
  /** A proposal is answered only once its node applied it (the answer is the state machine's result). */
  | 'acknowledged after apply'
  | 'linearizable read'
  | 'snapshot consistency'
  | 'liveness'
  /** A removed node id was added again (docs/safety.md #10). */
  | 'node ids are forever'
  /** 'locks' runs: lock-checker.ts (exclusion, fencing order, FIFO, ended sessions, replica agreement). */
  | 'lock safety'
  /** The storage twin (MemoryStorage, src/storage/log-shape.ts) refused a write Raft never makes: term or commit back, a vote changed, a committed entry replaced. */
  | 'storage invariant'
  | 'core assertion';

export class InvariantViolation extends Error {
  constructor(
    readonly property: Property,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

export function violate(property: Property, detail: string): never {
  throw new InvariantViolation(property, detail);
}
