import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule } from './bench-types.js';
import {
  markdownTable,
  mergeResults,
  type ResultsFile,
  renderResultsMarkdown,
  type StoredResult,
  upgradeLegacy,
} from './results-file.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

/**
 * Runs every `bench/*.bench.ts` (or those named on the command line), prints this run's table, and updates
 * bench/results/latest.json and latest.md: the benchmarks that ran replace their rows, the others keep theirs.
 */
async function main(): Promise<void> {
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const files = all.filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const at = new Date().toISOString();
  const fresh: StoredResult[] = [];
  for (const file of files) {
    console.log(`# ${file}`);
    const mod = (await import(join(here, file))) as BenchModule;
    const started = Date.now();
    const rows = await mod.run();
    console.log(`  ${rows.length} figures in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    fresh.push(...rows.map((r) => ({ ...r, file: file.replace(/\.bench\.ts$/, ''), at, machine })));
  }
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const stems = all.map((f) => f.replace(/\.bench\.ts$/, ''));
  const jsonFile = join(outDir, 'latest.json');
  const previous = existsSync(jsonFile)
    ? upgradeLegacy(JSON.parse(readFileSync(jsonFile, 'utf8')) as Partial<ResultsFile>, stems)
    : [];
  // A benchmark that ran but skipped (no figures) keeps its last figures rather than vanishing from the table.
  const ran = [...new Set(fresh.map((r) => r.file))];
  const results = mergeResults(previous, fresh, ran, stems);
  const file: ResultsFile = { at, machine, results };
  writeFileSync(jsonFile, `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), renderResultsMarkdown(results));
  console.log(`\nRun ${at} on ${machine}\n\n${markdownTable(fresh)}`);
  if (fresh.some((r) => r.pass === false)) process.exitCode = 1;
}

await main();
