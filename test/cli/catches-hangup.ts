// Whether a process has its SIGHUP handler yet, read from outside: the
// moment main.ts holds a serve process's signals (src/cli/hangup.ts), before
// the node has loaded.
import { readFileSync } from 'node:fs';

/**
 * Whether the process catches SIGHUP (bit 0 of SigCgt in /proc/PID/status); null once it is gone.
 * main.ts holds SIGHUP, SIGTERM and SIGINT at the same moment; SIGHUP is the one to look at, as
 * Node itself catches SIGTERM and SIGINT from its start (to reset the terminal, then dies of them).
 */
export function catchesHangup(pid: number): boolean | null {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return mask !== null && (BigInt(`0x${mask[1]}`) & 1n) === 1n;
  } catch {
    return null;
  }
}
