// Signals and `lockstep serve` while it loads.
//
// SIGHUP: a node re-reads its certificate files on SIGHUP; one without TLS
// has nothing to reload. Either way a SIGHUP (a user reloading, a terminal
// hanging up, a broad `pkill -HUP` on a shared machine) must never stop a
// node, and Node's default action for SIGHUP is to exit.
//
// SIGTERM and SIGINT: a node stops and exits 0 (cli.md), but Node's default
// action ends a process that has no handler yet by the signal itself
// (status 143 or 130, nothing flushed), and serve installs its own only once
// it serves.
//
// So a serve process catches all three from its first moment: main.ts holds
// them before it loads any command (loading the server's modules takes from
// half a second to several seconds on a loaded machine, a chaos run restarts
// nodes all the time, and a service manager may stop a node that is still
// starting), and runServe takes over with the node's own handlers. Before
// main.ts runs at all (Node's own start-up, tens of milliseconds) nothing in
// JavaScript can catch them.

let heldHangups = 0;
const countHangup = (): void => {
  heldHangups += 1;
};

let heldStop: NodeJS.Signals | null = null;
const noteStop = (signal: NodeJS.Signals): void => {
  heldStop ??= signal;
};

/** Catches SIGHUP, SIGTERM and SIGINT until the takeOver calls: SIGHUPs are counted, the first stop signal is remembered, nothing else happens. */
export function holdServeSignals(): void {
  process.on('SIGHUP', countHangup);
  process.on('SIGTERM', noteStop);
  process.on('SIGINT', noteStop);
}

/** Installs the node's SIGHUP handler in place of holdServeSignals'; returns how many SIGHUPs were held. */
export function takeOverHangups(handler: () => void): number {
  process.on('SIGHUP', handler);
  process.off('SIGHUP', countHangup);
  const held = heldHangups;
  heldHangups = 0;
  return held;
}

/** The stop signal held so far (the node should stop before starting anything), or null. */
export function heldStopSignal(): NodeJS.Signals | null {
  return heldStop;
}

/**
 * Installs the node's SIGTERM and SIGINT handler (once each) in place of holdServeSignals';
 * returns the stop signal held until now, which the caller acts on at once, or null.
 */
export function takeOverStops(handler: (signal: NodeJS.Signals) => void): NodeJS.Signals | null {
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
  process.off('SIGTERM', noteStop);
  process.off('SIGINT', noteStop);
  const held = heldStop;
  heldStop = null;
  return held;
}
