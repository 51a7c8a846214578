import type { CliCommand } from '../command.js';

/** Every subcommand, longest names first so that 'cluster up' wins over a bare word. Add yours here. */
export const commands: CliCommand[] = [];
