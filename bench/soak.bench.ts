import type { BenchResult } from './bench-types.js';
import { runSoak, type SoakReport } from './support/soak-driver.js';

/**
 * Soak: the real service in its own process under mixed GoCD + registry traffic with a fault schedule
 * (see bench/support/soak-driver.ts). `SOAK_SECONDS` sets the traffic phase (default 300), `SOAK_DRAIN_SECONDS` the
 * longest wait for jobs after the traffic (default 60; claimed triggers are waited for until the service ends them).
 */
export async function run(): Promise<BenchResult[]> {
  const seconds = Number(process.env.SOAK_SECONDS ?? 300);
  const drain = Number(process.env.SOAK_DRAIN_SECONDS ?? 60);
  const report = await runSoak({
    durationMs: seconds * 1000,
    drainMs: drain * 1000,
    log: (line) => console.log(`  soak: ${line}`),
  });
  if (report.violations.length > 0) console.log(`  soak violations:\n    ${report.violations.join('\n    ')}`);
  return soakRows(report);
}

/** The report as benchmark rows: figures, and pass/fail against each invariant. */
export function soakRows(r: SoakReport): BenchResult[] {
  const bench = 'soak';
  const zero = (metric: string, value: number, unit: string, notes?: string): BenchResult => ({
    bench,
    metric,
    value,
    unit,
    target: '0',
    pass: value === 0,
    ...(notes ? { notes } : {}),
  });
  const rssGrowth = r.rss.lastMb - r.rss.warmMb;
  return [
    { bench, metric: 'run length (traffic + drain)', value: r.durationS, unit: 's' },
    {
      bench,
      metric: 'requests sent (GoCD + registry + background should-assign)',
      value: r.requests,
      unit: 'req',
      notes: Object.entries(r.byKind)
        .map(([k, s]) => `${k} ${s.sent}`)
        .join(', '),
    },
    zero('failed requests (network, timeout, unexpected status)', r.errors, 'req'),
    zero('5xx answers', r.status5xx, 'req'),
    { bench, metric: 'jobs created', value: r.jobs.created, unit: 'jobs' },
    zero('jobs never finished', r.jobs.unfinished, 'jobs'),
    { bench, metric: 'tasks launched', value: r.tasks.total, unit: 'tasks' },
    {
      bench,
      metric: 'tasks per job (max)',
      value: r.tasks.maxPerJob,
      unit: 'tasks',
      target: '≤ 1',
      pass: r.tasks.maxPerJob <= 1,
    },
    zero('leaked tasks after the final sweep', r.tasks.leaked, 'tasks'),
    {
      bench,
      metric: 'triggers expected (image, tag, digest) × pipeline',
      value: r.triggers.expected,
      unit: 'triggers',
    },
    {
      bench,
      metric: 'triggers scheduled (GoCD 202)',
      value: r.triggers.scheduled,
      unit: 'triggers',
      target: `= ${r.triggers.expected}`,
      pass: r.triggers.scheduled === r.triggers.expected,
    },
    zero('triggers lost', r.triggers.lost, 'triggers'),
    zero('triggers duplicated', r.triggers.duplicated, 'triggers'),
    zero('wrong should-assign-work answers', r.shouldAssign.wrong, 'answers', `${r.shouldAssign.checked} checked`),
    zero('calls to hosts named in payloads', r.payloadHostCalls, 'calls'),
    zero('service log lines holding a secret', r.service.secretLines, 'lines'),
    {
      bench,
      metric: 'faults injected',
      value: r.faults.ecsThrottled + r.faults.runTaskFailures + r.faults.gocdErrorAnswers + r.faults.redeliveries,
      unit: 'faults',
      notes: `ECS throttled ${r.faults.ecsThrottled}, RunTask failures ${r.faults.runTaskFailures}, GoCD 503/409 ${r.faults.gocdErrorAnswers}, redeliveries ${r.faults.redeliveries}, same-digest re-pushes ${r.faults.repushes}`,
    },
    { bench, metric: 'RSS first sample', value: r.rss.firstMb, unit: 'MB' },
    { bench, metric: 'RSS after warm-up (25% of traffic)', value: r.rss.warmMb, unit: 'MB' },
    { bench, metric: 'RSS last sample', value: r.rss.lastMb, unit: 'MB' },
    { bench, metric: 'RSS max', value: r.rss.maxMb, unit: 'MB', notes: `${r.rss.samples} samples` },
    {
      bench,
      metric: 'RSS growth after warm-up',
      value: rssGrowth,
      unit: 'MB',
      target: `≤ ${r.rss.boundMb}`,
      pass: rssGrowth <= r.rss.boundMb,
    },
    {
      bench,
      metric: 'service error-level log lines (expected under faults)',
      value: r.service.errorLines,
      unit: 'lines',
    },
    zero('service process exited early', r.service.exitedEarly ? 1 : 0, 'exits'),
  ];
}
