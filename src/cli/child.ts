// Run a command while a hold lasts (`lockstep lock|elect ... -- CMD`), as
// `etcdctl lock` and `consul lock` do: the child gets SIGTERM when the hold
// is lost (then SIGKILL after a grace period), our own SIGINT/SIGTERM are
// passed on to it, and we exit with its status.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError } from './command.js';

/** After SIGTERM, how long the child has before SIGKILL. */
export const CHILD_KILL_GRACE_MS = 10_000;
/** Exit status when the command could not be started (as in sh). */
export const EXIT_CANNOT_RUN = 127;

export interface ChildRun {
  /** The child's exit status; 128+N when it died of signal N. */
  status: Promise<number>;
  pid: number | undefined;
}

export function runWhileHeld(
  argv: string[],
  env: Record<string, string>,
  /** Fires when the hold is lost: the child gets SIGTERM. */
  held: AbortSignal,
  onLost: () => void,
  killGraceMs: number = CHILD_KILL_GRACE_MS,
): ChildRun {
  const [cmd, ...args] = argv;
  const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  let killTimer: NodeJS.Timeout | null = null;
  const terminate = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), killGraceMs);
  };
  const onHoldLost = (): void => {
    onLost();
    terminate();
  };
  if (held.aborted) onHoldLost();
  else held.addEventListener('abort', onHoldLost, { once: true });
  const forward = (sig: NodeJS.Signals) => (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  const onHup = forward('SIGHUP');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  const status = new Promise<number>((resolve) => {
    const done = (code: number): void => {
      if (killTimer) clearTimeout(killTimer);
      held.removeEventListener('abort', onHoldLost);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`lockstep: cannot run '${cmd}': ${(err as NodeJS.ErrnoException).code ?? err.message}\n`);
      done(EXIT_CANNOT_RUN);
    });
    child.on('exit', (code, signal) => {
      if (code !== null) done(code);
      else done(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  return { status, pid: child.pid };
}

/** An AbortSignal that fires on our own SIGINT/SIGTERM (to stop waiting for a lock); call dispose when done. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const on = (): void => controller.abort(new Error('interrupted'));
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/**
 * `lockstep elect NAME -- CMD [ARGS...]`, `lockstep lock NAME [NAME...] --
 * CMD [ARGS...]`: the NAMEs and the command, or a usage error that shows the
 * corrected command line.
 */
export function namesAndCommand(word: string, positionals: string[], rest: string[], namesMax = 1): { names: string[]; command: string[] } {
  const shape = namesMax > 1 ? 'NAME [NAME...]' : 'NAME';
  if (positionals.length > 1 && rest.length === 0) {
    const several = namesMax > 1 ? ` (several NAMEs go before it: lockstep ${word} ${shape} -- CMD [ARGS...])` : '';
    throw new UsageError(`put the command after --: lockstep ${word} ${positionals[0]} -- ${positionals.slice(1).join(' ')}${several}`);
  }
  if (positionals.length < 1 || positionals.length > namesMax) {
    throw new UsageError(`${word} needs ${namesMax > 1 ? `1..${namesMax} NAMEs` : 'exactly one NAME'}: lockstep ${word} ${shape} -- CMD [ARGS...]`);
  }
  if (rest.length === 0) throw new UsageError(`${word} needs a command after --: lockstep ${word} ${shape} -- CMD [ARGS...]`);
  return { names: positionals, command: rest };
}
