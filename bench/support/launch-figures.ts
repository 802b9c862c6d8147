import { testImagePrereqs } from '../../test/support/docker-images.js';
import { dockerAvailable } from '../../test/support/services.js';
import type { BenchResult } from '../bench-types.js';

/** True (after printing why) when a launch benchmark cannot run here: no engine, or no local agent image. */
export function launchBenchSkipped(): boolean {
  const missing = testImagePrereqs();
  const why = !dockerAvailable()
    ? 'no Docker engine (install docker.io and start dockerd, see .ci/run)'
    : missing && `cannot build the local agent image: ${missing}`;
  if (why) console.log(`  skipped: ${why}`);
  return Boolean(why);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Median (against `targetMedianMs`), p95 and max rows of a launch benchmark's timings (ms). */
export function launchFigures(
  bench: string,
  what: string,
  timings: number[],
  targetMedianMs: number,
  notes: string,
): BenchResult[] {
  const sorted = [...timings].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  return [
    {
      bench,
      metric: `${what}, median`,
      value: Math.round(median),
      unit: 'ms',
      target: `≤ ${targetMedianMs}`,
      pass: median <= targetMedianMs,
      notes,
    },
    { bench, metric: `${what}, p95`, value: Math.round(percentile(sorted, 95)), unit: 'ms', notes },
    { bench, metric: `${what}, max`, value: Math.round(sorted.at(-1) ?? Number.NaN), unit: 'ms', notes },
  ];
}
