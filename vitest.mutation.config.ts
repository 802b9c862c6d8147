import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The test run StrykerJS repeats for every mutant (`npm run mutation`): the unit and HTTP tiers only. No e2e or
 * integration test runs under Stryker (they are slow and use the shared Docker engine), and the tests that check
 * repository artefacts rather than behaviour (bench results, release files, the import layers, the audit verdict) are
 * left out: they read files in Stryker's sandbox, where the source is instrumented.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts', 'test/http/**/*.test.ts'],
    exclude: [
      'test/unit/architecture.test.ts',
      'test/unit/audit-verdict.test.ts',
      'test/unit/bench-results.test.ts',
      'test/unit/release-version.test.ts',
    ],
    maxWorkers: 1,
    // The rule modules the service loads lazily, loaded before each file's tests (the file says why).
    setupFiles: [...((base.test?.setupFiles as string[] | undefined) ?? []), 'test/support/mutation-setup.ts'],
  },
});
