/** One measured figure of a benchmark. */
export interface BenchResult {
  /** Benchmark group, e.g. `docker-launch`. */
  bench: string;
  /** What was measured, e.g. `median launch ms`. */
  metric: string;
  value: number;
  unit: string;
  /** The target in words, e.g. `≤ 1500`, when the design sets one. */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  pass?: boolean;
  notes?: string;
}

/** A benchmark module (`bench/*.bench.ts`) exports `run`; it may skip (return []) with a printed reason. */
export type BenchModule = { run: () => Promise<BenchResult[]> };
