// SIGHUP and `lockstep serve`. A node re-reads its certificate files on
// SIGHUP; one without TLS has nothing to reload. Either way a SIGHUP (a user
// reloading, a terminal hanging up, a broad `pkill -HUP` on a shared machine)
// must never stop a node, and Node's default action for SIGHUP is to exit.
// So a serve process catches it from its first moment: main.ts holds SIGHUPs
// before it loads any command (loading the server's modules takes from half
// a second to several seconds on a loaded machine, and a chaos run restarts
// nodes all the time), and runServe takes over with the node's own handler.
// Before main.ts runs at all (Node's own start-up, tens of milliseconds)
// nothing in JavaScript can catch it.

let heldHangups = 0;
const countHangup = (): void => {
  heldHangups += 1;
};

/** Catches SIGHUPs until takeOverHangups: they are counted, nothing else (no files are read yet). */
export function holdHangups(): void {
  process.on('SIGHUP', countHangup);
}

/** Installs the node's SIGHUP handler in place of holdHangups'; returns how many SIGHUPs were held. */
export function takeOverHangups(handler: () => void): number {
  process.on('SIGHUP', handler);
  process.off('SIGHUP', countHangup);
  const held = heldHangups;
  heldHangups = 0;
  return held;
}
