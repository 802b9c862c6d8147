import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/bench-types.js';
import {
  mergeResults,
  type ResultsFile,
  renderResultsMarkdown,
  type StoredResult,
  upgradeLegacy,
} from '../../bench/results-file.js';

const FILES = ['docker-launch', 'ecs-reconcile', 'should-assign', 'soak'];
const row = (file: string, bench: string, value: number, at = 'T1', pass?: boolean): StoredResult => ({
  bench,
  metric: 'm',
  value,
  unit: 'ms',
  ...(pass === undefined ? {} : { target: '≤ 1', pass }),
  file,
  at,
  machine: 'M',
});

describe('bench/results/latest.*', () => {
  it('a partial run replaces only the rows of the benchmarks it ran, keeping file order', () => {
    const previous = [
      row('docker-launch', 'docker-launch', 1),
      row('should-assign', 'should-assign-work', 2),
      row('soak', 'soak', 3),
    ];
    const fresh = [
      row('should-assign', 'should-assign-work', 20, 'T2'),
      row('should-assign', 'should-assign-work', 21, 'T2'),
    ];
    const merged = mergeResults(previous, fresh, ['should-assign'], FILES);
    expect(merged.map((r) => [r.file, r.value, r.at])).toEqual([
      ['docker-launch', 1, 'T1'],
      ['should-assign', 20, 'T2'],
      ['should-assign', 21, 'T2'],
      ['soak', 3, 'T1'],
    ]);
  });

  it('a full run replaces everything', () => {
    const merged = mergeResults([row('soak', 'soak', 3)], [row('soak', 'soak', 4, 'T2')], FILES, FILES);
    expect(merged.map((r) => r.value)).toEqual([4]);
  });

  it('rows of an older latest.json are owned by the bench file whose name starts them', () => {
    const legacy = {
      at: 'T0',
      machine: 'old',
      results: [
        { bench: 'should-assign-work', metric: 'm', value: 1, unit: 'x' },
        { bench: 'ecs-reconcile N=100', metric: 'm', value: 2, unit: 'x' },
      ] as BenchResult[],
    };
    expect(upgradeLegacy(legacy, FILES).map((r) => [r.file, r.at, r.machine])).toEqual([
      ['should-assign', 'T0', 'old'],
      ['ecs-reconcile', 'T0', 'old'],
    ]);
  });

  it('the Markdown has one table per run, and counts targets met and missed', () => {
    const md = renderResultsMarkdown([
      row('docker-launch', 'docker-launch', 1, 'T1', true),
      row('soak', 'soak', 2.5, 'T2', false),
    ]);
    expect(md).toContain('Targets met: 1 of 2 (**1 missed**).');
    expect(md).toContain('Run T1 on M\n\n| benchmark | metric | value | target | met |');
    expect(md).toContain('Run T2 on M\n\n| benchmark |');
    expect(md).toContain('| soak | m | 2.50 ms | ≤ 1 | **no** |');
  });

  it('the committed latest.md is what renderResultsMarkdown makes of the committed latest.json, for every bench file', () => {
    const dir = join(import.meta.dirname, '..', '..', 'bench');
    const stems = readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .map((f) => f.replace(/\.bench\.ts$/, ''));
    const file = JSON.parse(readFileSync(join(dir, 'results', 'latest.json'), 'utf8')) as ResultsFile;
    const results = upgradeLegacy(file, stems);
    expect(readFileSync(join(dir, 'results', 'latest.md'), 'utf8')).toBe(renderResultsMarkdown(results));
    expect(new Set(results.map((r) => r.file))).toEqual(new Set(stems));
  });
});
