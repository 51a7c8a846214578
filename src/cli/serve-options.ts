// What `lockstep serve` reads besides its flags' names, shared with those who
// start it (cluster up, src/harness): kept here so that a launcher need not
// load the whole server to know them.

/** pino's levels, plus silent. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Set by `cluster up` on the nodes it spawns with an IPC channel: the node
 * stops (as on SIGTERM) when that channel closes, i.e. when `cluster up` died
 * even by SIGKILL, so no node outlives it holding its ports.
 */
export const PARENT_WATCH_ENV = 'LOCKSTEP_STOP_WITH_PARENT';
/** Env switch for test-only routes (bulk proposals for the catch-up test and the benchmark). */
export const TEST_HOOKS_ENV = 'LOCKSTEP_TEST_HOOKS';
