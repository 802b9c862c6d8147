import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/latency-histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30];
const LABELS = ['method', 'route', 'status'] as const;
const options = (registry: Registry) => ({
  name: 'test_latency_seconds',
  help: 'latency',
  labelNames: LABELS,
  buckets: BUCKETS,
  registers: [registry],
});

/** The same observations through prom-client's Histogram and through LatencyHistogram. */
function both() {
  const reference = new Registry();
  const ours = new Registry();
  const h = new Histogram(options(reference));
  const l = new LatencyHistogram(options(ours));
  return {
    reference,
    ours,
    latency: l,
    observe(labels: [string, string, string], seconds: number) {
      h.observe({ method: labels[0], route: labels[1], status: labels[2] }, seconds);
      l.labels(...labels).observe(seconds);
    },
  };
}

const withoutExemplars = (json: unknown) =>
  JSON.parse(JSON.stringify(json, (key, value) => (key === 'exemplar' ? undefined : value))) as unknown;

describe('LatencyHistogram', () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom<[string, string, string]>(
              ['POST', '/gocd/requests/:requestName', '200'],
              ['POST', '/gocd/requests/:requestName', '401'],
              ['GET', 'unmatched', '404'],
            ),
            fc.oneof(fc.constantFrom(...BUCKETS, 0, 31), fc.double({ min: 0, max: 40, noNaN: true })),
          ),
          { maxLength: 60 },
        ),
        async (observations) => {
          const t = both();
          for (const [labels, seconds] of observations) t.observe(labels, seconds);
          expect(await t.ours.metrics()).toBe(await t.reference.metrics());
          // The JSON form (what the EMF flusher reads) too, but for prom-client's exemplar slots, which we never fill.
          expect(withoutExemplars(await t.ours.getMetricsAsJSON())).toEqual(
            withoutExemplars(await t.reference.getMetricsAsJSON()),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hands out one series per label set, and resetMetrics zeroes it without detaching it', async () => {
    const t = both();
    const series = t.latency.labels('POST', '/x', '200');
    expect(t.latency.labels('POST', '/x', '200')).toBe(series);
    series.observe(0.003);
    t.ours.resetMetrics();
    expect(await t.ours.metrics()).toContain('test_latency_seconds_count{method="POST",route="/x",status="200"} 0');
    series.observe(0.003);
    expect(await t.ours.metrics()).toContain('test_latency_seconds_count{method="POST",route="/x",status="200"} 1');
  });

  it('refuses a wrong number of label values', () => {
    expect(() => both().latency.labels('POST', '/x')).toThrow(/expected 3 label values, got 2/);
  });
});
