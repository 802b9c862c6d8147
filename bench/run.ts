import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchResult } from './bench-types.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

/** Runs every `bench/*.bench.ts` (or those named on the command line), then writes JSON and a Markdown table. */
async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const results: BenchResult[] = [];
  for (const file of files) {
    console.log(`# ${file}`);
    const mod = (await import(join(here, file))) as BenchModule;
    const started = Date.now();
    const rows = await mod.run();
    console.log(`  ${rows.length} figures in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    results.push(...rows);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const table = [
    '| benchmark | metric | value | target | met |',
    '| --- | --- | ---: | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.bench} | ${r.metric} | ${Number.isInteger(r.value) ? r.value : r.value.toFixed(2)} ${r.unit} | ${r.target ?? ''} | ${
          r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'
        } |`,
    ),
  ].join('\n');
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify({ at, machine, results }, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), `Run ${at} on ${machine}\n\n${table}\n`);
  console.log(`\nRun ${at} on ${machine}\n\n${table}`);
  if (results.some((r) => r.pass === false)) process.exitCode = 1;
}

await main();
