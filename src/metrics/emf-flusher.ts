import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

/** CloudWatch namespace of the Lambda deployment's metrics. */
export const EMF_NAMESPACE = 'gocd-agent-scaler';

type Labels = Record<string, string | number>;

function key(name: string, labels: Labels): string {
  return `${name}|${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')}`;
}

/**
 * The Prometheus figures as CloudWatch Embedded Metric Format lines (one JSON log line per metric and label set),
 * for the Lambda deployment where nothing scrapes `/metrics`. Counters and histogram sums/counts are written as the
 * increase since the last flush (CloudWatch sums them); gauges as their current value. Call `flush()` at the end of
 * every invocation.
 */
export class EmfFlusher {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly registry: Registry,
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Writes the lines for what changed since the previous flush; returns how many it wrote. */
  async flush(): Promise<number> {
    const metrics = (await this.registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
    let written = 0;
    for (const m of metrics) {
      const type = String(m.type);
      for (const v of m.values) {
        const name = (v as { metricName?: string }).metricName ?? m.name;
        if (type === 'histogram' && name.endsWith('_bucket')) continue;
        const labels = { ...(v.labels as Labels) };
        delete labels.le;
        const k = key(name, labels);
        const previous = this.last.get(k) ?? 0;
        this.last.set(k, v.value);
        const cumulative = type === 'counter' || type === 'histogram';
        const value = cumulative ? v.value - previous : v.value;
        if (cumulative && value <= 0) continue;
        const dimensions = Object.keys(labels);
        const unit = name.endsWith('_seconds_sum') ? 'Seconds' : 'Count';
        const doc = {
          _aws: {
            Timestamp: this.now(),
            CloudWatchMetrics: [
              { Namespace: EMF_NAMESPACE, Dimensions: [dimensions], Metrics: [{ Name: name, Unit: unit }] },
            ],
          },
          ...Object.fromEntries(Object.entries(labels).map(([d, x]) => [d, String(x)])),
          [name]: value,
        };
        this.write(`${JSON.stringify(doc)}\n`);
        written++;
      }
    }
    return written;
  }
}
