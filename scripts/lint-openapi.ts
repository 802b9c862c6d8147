import { join } from 'node:path';
import { formatProblems, lint, loadConfig } from '@redocly/openapi-core';

const ROOT = join(import.meta.dirname, '..');

/** Every problem Redocly's linter finds in openapi.yaml, with the settings of redocly.yaml (no network). */
export async function lintOpenApi(): Promise<Awaited<ReturnType<typeof lint>>> {
  const config = await loadConfig({ configPath: join(ROOT, 'redocly.yaml') });
  return lint({ ref: join(ROOT, 'openapi.yaml'), config });
}

if (process.argv[1] === import.meta.filename) {
  const problems = await lintOpenApi();
  if (problems.length > 0) {
    formatProblems(problems, { format: 'stylish', maxProblems: 100, totals: { errors: 0, warnings: 0, ignored: 0 } });
    process.exit(1);
  }
  process.stdout.write('openapi.yaml: no problems (Redocly recommended rules, redocly.yaml)\n');
}
