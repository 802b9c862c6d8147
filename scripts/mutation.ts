// `npm run mutation [-- <stryker options>]`: StrykerJS over the rule modules (stryker.config.mjs), then each module's
// score against its threshold (scripts/mutation-scores.ts). A full run (no --mutate) records the scores and the run
// time in bench/results/mutation.md; a run over some files (`-- --mutate src/agents/agent-id.ts`) only prints them.
// `npm run mutation -- --from <report.json>… --seconds <n>` records the reports of runs made in parts (each its own
// Stryker config over some of the modules, e.g. run side by side) instead of running Stryker.
// Exit code 1 when Stryker fails or any module is below its threshold.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type MutationReport, mergeReports, moduleScores, renderMutationMarkdown } from './mutation-scores.js';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const readReport = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8')) as MutationReport;

let report: MutationReport;
let seconds: number;
let record: boolean;
let strykerFailed = false;
let parts: number | undefined;
if (args[0] === '--from') {
  const files = args.slice(1).filter((a, i, all) => a !== '--seconds' && all[i - 1] !== '--seconds');
  const given = args.indexOf('--seconds');
  seconds = given >= 0 ? Number(args[given + 1]) : Number.NaN;
  if (files.length === 0 || !Number.isFinite(seconds)) {
    console.error('usage: npm run mutation -- --from <report.json>… --seconds <total run time>');
    process.exit(2);
  }
  report = mergeReports(files.map(readReport));
  record = true;
  parts = files.length;
} else {
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', ...args], { cwd: root, stdio: 'inherit' });
  seconds = (Date.now() - started) / 1000;
  if (run.status !== 0 && run.status !== 1) {
    console.error(`stryker run failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
  strykerFailed = run.status !== 0;
  report = readReport('reports/mutation/mutation.json');
  record = !args.some((a) => a === '--mutate' || a.startsWith('--mutate=') || a === '-m');
}

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
  parts,
});
console.log(`\n${markdown}`);
if (record) {
  writeFileSync(join(root, 'bench/results/mutation.md'), markdown);
  console.log('written to bench/results/mutation.md');
}
const below = scores.filter((s) => !s.met);
for (const s of below) console.error(`below threshold: ${s.file} ${s.score.toFixed(1)}% < ${s.threshold}%`);
if (strykerFailed || below.length > 0) process.exitCode = 1;
