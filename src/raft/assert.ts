// Assertions that stay on (TigerBeetle style): an invariant violation in the
// Raft core is a bug that could lose committed data, so crash loudly.

export class RaftInvariantError extends Error {
  readonly code = 'raft_invariant';
}

export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(typeof message === 'string' ? message : message());
  }
}
