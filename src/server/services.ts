// The per-node services the resource routes share, built once in index.ts.

import type { LeaseDriver } from './lease-driver.js';
import type { LockService } from './lock-service.js';
import type { WatchHub } from './sse.js';

export interface Services {
  locks: LockService;
  leases: LeaseDriver;
  watches: WatchHub;
}
