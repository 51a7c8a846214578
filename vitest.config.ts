import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the SDK from its source, as tsconfig.json's paths do for tsc
    // and tsx; the built package (packages/client/dist) is what the real-process
    // tests' CLI and the packed tarballs use.
    alias: { 'lockstep-client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes on loopback ports; files run in
    // parallel workers, so each file picks its own port range.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
