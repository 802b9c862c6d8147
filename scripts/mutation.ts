// `npm run mutation [-- <stryker options>]`: StrykerJS over the rule modules (stryker.config.mjs), then each module's
// score against its threshold (scripts/mutation-scores.ts). A full run (no --mutate) records the scores and the run
// time in bench/results/mutation.md; a run over some files (`-- --mutate src/agents/agent-id.ts`) only prints them.
// Exit code 1 when Stryker fails or any module is below its threshold.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type MutationReport, moduleScores, renderMutationMarkdown } from './mutation-scores.js';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const started = Date.now();
const run = spawnSync('npx', ['stryker', 'run', ...args], { cwd: root, stdio: 'inherit' });
const seconds = (Date.now() - started) / 1000;
if (run.status !== 0 && run.status !== 1) {
  console.error(`stryker run failed (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(join(root, 'reports/mutation/mutation.json'), 'utf8')) as MutationReport;
const scores = moduleScores(report);
const stryker = (
  JSON.parse(readFileSync(join(root, 'node_modules/@stryker-mutator/core/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const markdown = renderMutationMarkdown(scores, {
  at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
  seconds,
  stryker,
});
console.log(`\n${markdown}`);
if (!args.includes('--mutate') && !args.some((a) => a.startsWith('--mutate='))) {
  writeFileSync(join(root, 'bench/results/mutation.md'), markdown);
  console.log('written to bench/results/mutation.md');
}
const below = scores.filter((s) => !s.met);
for (const s of below) console.error(`below threshold: ${s.file} ${s.score.toFixed(1)}% < ${s.threshold}%`);
if (run.status !== 0 || below.length > 0) process.exitCode = 1;
