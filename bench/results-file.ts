import type { BenchResult } from './bench-types.js';

/** A figure as bench/results/latest.json keeps it: which bench file produced it, when, and on what machine. */
export interface StoredResult extends BenchResult {
  file: string;
  at: string;
  machine: string;
}

/** bench/results/latest.json. */
export interface ResultsFile {
  /** When the newest figures were measured. */
  at: string;
  machine: string;
  results: StoredResult[];
}

/**
 * Figures of an older latest.json (before rows named their file): the file is the bench file whose name starts the
 * row's `bench` (`should-assign` → `should-assign-work`), the run is the file's.
 */
export function upgradeLegacy(
  file: { at?: string; machine?: string; results?: readonly BenchResult[] },
  files: readonly string[],
): StoredResult[] {
  return (file.results ?? []).map((r): StoredResult => {
    const stored = r as Partial<StoredResult>;
    const owner =
      stored.file ?? [...files].sort((a, b) => b.length - a.length).find((f) => r.bench.startsWith(f)) ?? r.bench;
    return { ...r, file: owner, at: stored.at ?? file.at ?? '', machine: stored.machine ?? file.machine ?? '' };
  });
}

/**
 * The figures after a run of `ran` (bench file names without `.bench.ts`): those files' rows are replaced by the
 * fresh ones, every other file keeps its last figures. Rows stay in file order, then in the order measured.
 */
export function mergeResults(
  previous: readonly StoredResult[],
  fresh: readonly StoredResult[],
  ran: readonly string[],
  files: readonly string[],
): StoredResult[] {
  const kept = previous.filter((r) => !ran.includes(r.file));
  const all = [...kept, ...fresh];
  const order = (f: string) => (files.includes(f) ? files.indexOf(f) : files.length);
  return all
    .map((r, i) => ({ r, i }))
    .sort((a, b) => order(a.r.file) - order(b.r.file) || a.i - b.i)
    .map(({ r }) => r);
}

function formatValue(r: BenchResult): string {
  return `${Number.isInteger(r.value) ? r.value : r.value.toFixed(2)} ${r.unit}`;
}

/** The Markdown table of some figures. */
export function markdownTable(results: readonly BenchResult[]): string {
  return [
    '| benchmark | metric | value | target | met |',
    '| --- | --- | ---: | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.bench} | ${r.metric} | ${formatValue(r)} | ${r.target ?? ''} | ${
          r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'
        } |`,
    ),
  ].join('\n');
}

/** bench/results/latest.md: one table per run the figures come from, newest figures of every benchmark. */
export function renderResultsMarkdown(results: readonly StoredResult[]): string {
  const runs = new Map<string, StoredResult[]>();
  for (const r of results) {
    const key = `Run ${r.at} on ${r.machine}`;
    runs.set(key, [...(runs.get(key) ?? []), r]);
  }
  const sections = [...runs].map(([heading, rows]) => `${heading}\n\n${markdownTable(rows)}\n`);
  const failed = results.filter((r) => r.pass === false).length;
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`bench/run.ts`); `npm run bench -- <name>` replaces only that benchmark’s rows.',
    'Ratios are measured within one run; the machine is shared, so absolute figures move with its load.',
    `Targets met: ${results.filter((r) => r.pass === true).length} of ${results.filter((r) => r.pass !== undefined).length}${failed ? ` (**${failed} missed**)` : ''}.`,
    '',
    ...sections,
  ].join('\n');
}
