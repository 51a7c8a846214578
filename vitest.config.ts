import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes on loopback ports; files run in
    // parallel workers, so each file picks its own port range.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
