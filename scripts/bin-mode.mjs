#!/usr/bin/env node
// tsc writes dist/cli/main.js without the execute bit. `npx lockstep` and a
// package manager's bin link run that file directly, so the build sets the bit
// itself rather than relying on which npm version happens to fix it up.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
