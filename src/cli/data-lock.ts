// One node per data directory. Two `serve` processes on one --data (the
// restart command cluster up printed, run while the node still runs; a
// second `cluster up` on the same --data at other ports) both appended to its
// log and overwrote each other's hard state: corruption nothing downstream
// catches. LevelDB locks its directory itself; the file engine did not. A
// file made with O_EXCL, naming the process and its start time, does it for
// both engines; a file whose process is gone (kill -9, a crash, a reboot) is
// taken over, and the start time tells a reused pid from its first owner.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './command.js';

/** In --data while a node runs on it: `<pid> <start time>`. */
export const DATA_LOCK_FILE = 'serve.pid';

/** A process's start time in clock ticks since boot (/proc/PID/stat, field 22), or '' where /proc cannot say. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process a lock file names still runs (the same process: same pid and start time). */
function holderRuns(text: string): boolean {
  const [pidText, started = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(pid);
  return now === '' || started === '' || now === started;
}

/**
 * Takes `data` for this process until it exits (the file is removed then); a UserError (exit 1)
 * when a running node holds it.
 */
export function lockDataDir(data: string): void {
  const path = join(data, DATA_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    const mine = `${process.pid} ${startTime(process.pid)}`.trim();
    try {
      writeFileSync(path, `${mine}\n`, { flag: 'wx', mode: 0o600 });
      process.once('exit', () => {
        try {
          if (readFileSync(path, 'utf8').trim() === mine) rmSync(path);
        } catch {
          // gone already
        }
      });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UserError(`--data ${data}: cannot write ${DATA_LOCK_FILE} (${code ?? (err as Error).message})`);
    }
    let holder: string;
    try {
      holder = readFileSync(path, 'utf8');
    } catch {
      continue; // removed in between: try again
    }
    if (holderRuns(holder)) {
      const pid = holder.trim().split(' ')[0];
      throw new UserError(`--data ${data} is in use by a running node (pid ${pid}, ${path}): two nodes on one data directory would corrupt its log; stop that one first (a restart command is for a node that has exited)`);
    }
    rmSync(path, { force: true }); // its process is gone
  }
  throw new UserError(`--data ${data}: another node is taking it at this moment (${path})`);
}
