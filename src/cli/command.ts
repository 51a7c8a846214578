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

/** A usage error (bad or missing flag): exit status 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** A failure the user can act on (unreachable cluster, bad value): exit status 1. */
export class UserError extends Error {
  readonly code = 'user';
}
