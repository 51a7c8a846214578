// The lock layer's public surface for src/server and the node wiring.
export * from './commands.js';
export { encodeProposal, decodeProposal } from './codec.js';
export { LockMachine, type ApplyOutput } from './machine.js';
export { LeaseTable, type DueWork, type LeaseSource } from './leases.js';
export { FULL_TTL, type Deadlines } from './views.js';
export type { AcquiredBody, ElectionView, HolderView, LockListItem, LockView, NotAcquiredBody, SessionView, WaiterView } from './views.js';
export { errorOutcome, sessionNotFound, type MachineErrorCode } from './outcomes.js';
export * from './limits.js';
