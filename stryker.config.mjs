// @ts-check
/**
 * StrykerJS over the rules that decide launches, reaping and triggers (issue 22). `npm run mutation` runs it through
 * scripts/mutation.ts, which checks each module's score against its own threshold (MUTATION_MODULES there) and writes
 * bench/results/mutation.md. Equivalent mutants are marked in the source with `// Stryker disable … : <reason>`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  // forks, not threads: the suite's workers run with --expose-gc, which worker threads refuse.
  vitest: { configFile: 'vitest.mutation.config.ts', pool: 'forks' },
  coverageAnalysis: 'perTest',
  // vitest does not type-check, so no file needs Stryker's @ts-nocheck (which would make the generated files stale).
  disableTypeChecks: false,
  // Shared 2-core machine: one vitest worker at a time.
  concurrency: 1,
  // Mutants that only run while a module loads (its property rows, payload shapes, AWS's capability and Fargate-size
  // tables) would each rerun the whole suite: hours on this machine. They are left out of the score; the rules read
  // from those tables are tested, and the regexes the rules use live inside the functions, so they are mutated.
  ignoreStatic: true,
  mutate: [
    'src/agents/reconcile-plan.ts',
    'src/agents/agent-id.ts',
    'src/agents/profiles.ts',
    'src/agents/policy.ts',
    'src/backends/ecs/ecs-profile-rules.ts',
    'src/backends/ecs/ecs-profiles.ts',
    'src/backends/docker/docker-profiles.ts',
    'src/registry/subscriptions.ts',
    'src/registry/material-env.ts',
    'src/registry/parsers/*.ts',
    'src/registry/dedupe-keys.ts',
    'src/registry/delivery.ts',
    'src/registry/registry-auth.ts',
    'src/http/auth.ts',
    'src/security/secrets.ts',
  ],
  thresholds: { high: 90, low: 85, break: 85 },
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  timeoutMS: 10000,
};
