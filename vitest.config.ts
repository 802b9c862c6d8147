import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // e2e suites share one Docker engine and one registry port range; keep files parallel but bounded.
    maxWorkers: 2,
    // The fuzz tests' memory checks read heapUsed after global.gc(); without --expose-gc that call does nothing, and
    // Node 24's collector leaves enough garbage uncollected to look like 128 MB of growth.
    execArgv: ['--expose-gc'],
    reporters: ['default'],
    setupFiles: ['test/support/setup.ts'],
  },
});
