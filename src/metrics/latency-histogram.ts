import type { MetricValueWithName, Registry } from 'prom-client';

/** One label set's observations: a count per bucket (not cumulative), their sum and their number. */
export interface LatencySeries {
  observe(seconds: number): void;
}

interface SeriesState extends LatencySeries {
  readonly labels: Record<string, string>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export interface LatencyHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A Prometheus histogram for per-request latency, registered in a prom-client registry like any other metric and
 * exposed in the same format as prom-client's `Histogram` (cumulative `_bucket` with `le`, `+Inf`, `_sum`, `_count`).
 *
 * It exists for one reason: prom-client's `observe` validates and hashes the label set on every call, about a
 * microsecond per request, a measurable share of a should-assign-work answer. Here the label set is resolved once
 * (`labels()`, kept by the caller) and `observe` is a bucket increment.
 */
export class LatencyHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, SeriesState>();

  constructor(options: LatencyHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The series of these label values (in `labelNames` order), created on first use. */
  labels(...values: string[]): LatencySeries {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = JSON.stringify(values);
    let state = this.series.get(key);
    if (!state) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!]));
      state = this.newSeries(labels);
      this.series.set(key, state);
    }
    return state;
  }

  /** prom-client's registry contract: the metric's current values. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValueWithName<string>[] } {
    const values: MetricValueWithName<string>[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's registry contract (`resetMetrics`): every series back to zero (series handed out stay live). */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  private newSeries(labels: Record<string, string>): SeriesState {
    const bounds = this.bounds;
    const state: SeriesState = {
      labels,
      counts: new Float64Array(bounds.length),
      sum: 0,
      count: 0,
      observe(seconds: number): void {
        if (!Number.isFinite(seconds)) return;
        state.sum += seconds;
        state.count += 1;
        for (let i = 0; i < bounds.length; i++) {
          if (seconds <= bounds[i]!) {
            state.counts[i]! += 1;
            return;
          }
        }
      },
    };
    return state;
  }
}
