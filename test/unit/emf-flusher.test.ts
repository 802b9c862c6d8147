import { describe, expect, it } from 'vitest';
import { EMF_NAMESPACE, EmfFlusher } from '../../src/metrics/emf-flusher.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';

describe('CloudWatch Embedded Metric Format lines (Lambda)', () => {
  it('writes counter increases since the last flush, with labels as dimensions', async () => {
    const metrics = new PrometheusMetrics();
    const lines: string[] = [];
    const emf = new EmfFlusher(
      metrics.registry,
      (l) => lines.push(l),
      () => 1_700_000_000_000,
    );
    metrics.createAgent('ci', 'none', 'launched');
    metrics.createAgent('ci', 'none', 'launched');
    metrics.triggers.inc({ outcome: 'scheduled' });
    await emf.flush();
    const docs = lines.map(
      (l) =>
        JSON.parse(l) as Record<string, unknown> & {
          _aws: {
            Timestamp: number;
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          };
        },
    );
    const launch = docs.find((d) => 'gocd_agent_scaler_create_agent_total' in d)!;
    expect(launch).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: EMF_NAMESPACE,
            Dimensions: [['cluster_id', 'docker_mode', 'outcome']],
            Metrics: [{ Name: 'gocd_agent_scaler_create_agent_total', Unit: 'Count' }],
          },
        ],
      },
      cluster_id: 'ci',
      docker_mode: 'none',
      outcome: 'launched',
      gocd_agent_scaler_create_agent_total: 2,
    });
    expect(docs.find((d) => 'gocd_agent_scaler_triggers_total' in d)).toMatchObject({
      outcome: 'scheduled',
      gocd_agent_scaler_triggers_total: 1,
    });

    lines.length = 0;
    metrics.createAgent('ci', 'none', 'launched');
    await emf.flush();
    expect(lines.map((l) => JSON.parse(l)).filter((d) => 'gocd_agent_scaler_create_agent_total' in d)).toEqual([
      expect.objectContaining({ gocd_agent_scaler_create_agent_total: 1 }),
    ]);
    expect(lines.some((l) => l.includes('triggers_total'))).toBe(false);
  });

  it('writes histogram sums and counts, never buckets, and each line is one JSON document', async () => {
    const metrics = new PrometheusMetrics();
    const lines: string[] = [];
    metrics.httpDuration.labels('POST', '/gocd/requests/:requestName', '200').observe(0.004);
    await new EmfFlusher(metrics.registry, (l) => lines.push(l)).flush();
    const names = lines.map((l) => Object.keys(JSON.parse(l)).find((k) => k.startsWith('gocd_agent_scaler_http')));
    expect(names.sort()).toEqual([
      'gocd_agent_scaler_http_request_duration_seconds_count',
      'gocd_agent_scaler_http_request_duration_seconds_sum',
    ]);
    for (const l of lines) expect(l.endsWith('\n') && !l.slice(0, -1).includes('\n')).toBe(true);
  });
});
