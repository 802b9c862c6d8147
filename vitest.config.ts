import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // e2e suites share one Docker engine and one registry port range; keep files parallel but bounded.
    maxWorkers: 2,
    reporters: ['default'],
    setupFiles: ['test/support/setup.ts'],
  },
});
