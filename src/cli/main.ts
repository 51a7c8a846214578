#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, UserError, type CliCommand } from './command.js';
import { holdServeSignals } from './hangup.js';

// A serve process must survive SIGHUP, and stop with status 0 on SIGTERM/SIGINT, while its
// modules load (src/cli/hangup.ts): held from here, and the commands (the whole server) loaded only after.
if (process.argv[2] === 'serve') holdServeSignals();
const { commands } = await import('./commands/index.js');

function topHelp(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`);
  return ['usage: lockstep <command> [flags]', '', 'commands:', ...lines, '', "Run 'lockstep <command> --help' for a command's flags."].join('\n');
}

/** The subcommands of a group word ('members' → members add, members remove), or [] if it is not one. */
function group(word: string): CliCommand[] {
  return commands.filter((c) => c.name.includes(' ') && c.name.split(' ')[0] === word);
}

function groupHelp(word: string, members: CliCommand[]): string {
  const lines = members.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`);
  return [`usage: lockstep ${word} <${members.map((c) => c.name.split(' ').slice(1).join(' ')).join('|')}> [flags]`, '', ...lines, '', `Run 'lockstep ${word} <command> --help' for its flags.`].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  // Asked-for help goes to stdout with status 0; a missing command is a usage error: stderr, status 2.
  if (argv.length === 0) {
    console.error(`lockstep: no command given\n\n${topHelp()}`);
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    console.log(topHelp());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    console.log(`lockstep ${version()}`);
    return 0;
  }
  // `lockstep help lock`, `lockstep help members add`: that command's --help.
  if (argv[0] === 'help') return main([...argv.slice(1), '--help']);
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
  // A group word alone or with --help ('lockstep members --help'): list its subcommands.
  const sub = group(argv[0]);
  if (sub.length > 0) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(groupHelp(argv[0], sub));
      return 0;
    }
    const what = argv.length > 1 ? `unknown command '${argv.slice(0, 2).join(' ')}'` : `'${argv[0]}' needs a subcommand`;
    console.error(`lockstep: ${what}\n\n${groupHelp(argv[0], sub)}`);
    return 2;
  }
  console.error(`lockstep: unknown command '${argv[0]}'\n\n${topHelp()}`);
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
