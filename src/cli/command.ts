/** One `lockstep` subcommand. Each lives in src/cli/commands/<name>.ts and is listed in commands/index.ts. */
export interface CliCommand {
  /** e.g. 'serve', 'cluster up', 'members add'. */
  name: string;
  summary: string;
  /** Full --help text. */
  usage: string;
  /** Returns the process exit status: 0 ok, 1 failure the user caused or an unreachable cluster, 2 usage error. */
  run(argv: string[]): Promise<number>;
}

/** A usage error (unknown command or flag, missing argument or required flag): exit status 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** A failure the user can act on (unreachable cluster, bad value): exit status 1. */
export class UserError extends Error {
  readonly code = 'user';
}

/**
 * A flag given with a value it cannot take (not a number, out of range, not
 * one of the choices, not host:port): exit status 1, cli.md's "a failure the
 * user caused (bad flag ...)"; a flag that does not exist is a UsageError (2).
 */
export class FlagValueError extends UserError {}
