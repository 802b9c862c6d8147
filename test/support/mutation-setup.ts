// Loaded before every test file of a mutation run (vitest.mutation.config.ts), after Stryker's own setup file.
//
// The service loads some rule modules lazily: the registry parsers on the first delivery (src/registry/delivery.ts),
// the CLI's commands (and through them the profile catalog) when the command runs (src/main/cli.ts). In a test file
// that reaches them only that way, the modules' load-time code (property rows, rule tables, payload shapes) first
// runs inside whichever test made the first delivery or ran the command, so Stryker counts their mutants as covered
// by that one test, which does not look at them, instead of as static mutants (ignored: stryker.config.mjs says why).
// Importing them here makes every test file load them before its first test, as the plain suite's static imports do.
import '../../src/registry/parsers/registry-parsers.js';
import '../../src/main/doctor-command.js';
import '../../src/main/rerun-command.js';
import '../../src/main/composition.js';
