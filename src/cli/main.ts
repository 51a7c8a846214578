#!/usr/bin/env node
import { commands } from './commands/index.js';
import { UsageError, UserError } from './command.js';

function topHelp(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`);
  return ['usage: lockstep <command> [flags]', '', 'commands:', ...lines, '', "Run 'lockstep <command> --help' for a command's flags."].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  // Match the longest command name made of the leading words ('cluster up', 'members add').
  const sorted = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of sorted) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) {
      const rest = argv.slice(words.length);
      if (rest.includes('--help') || rest.includes('-h')) {
        // `lock NAME -- CMD --help` passes --help to CMD, not to us.
        const dashDash = rest.indexOf('--');
        const helpAt = Math.max(rest.indexOf('--help'), rest.indexOf('-h'));
        if (dashDash === -1 || helpAt < dashDash) {
          console.log(command.usage);
          return 0;
        }
      }
      return command.run(rest);
    }
  }
  console.error(`lockstep: unknown command '${argv.join(' ')}'\n\n${topHelp()}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`lockstep: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof UserError) {
      console.error(`lockstep: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
