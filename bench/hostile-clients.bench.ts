import type { BenchResult } from './bench-types.js';
import { runHostileClients, type SlowReport } from './support/hostile-clients.js';

/**
 * Hostile clients (SECURITY.md §10, issue 16): 150 slow unauthenticated bodies to a body-signed webhook, then
 * create-agent with 100 huge and 20,000 distinct invalid cluster ids, against the real service process.
 * `HOSTILE_SERVICE_ROOT` runs another checkout (e.g. the code before a change); `HOSTILE_SLOW_SECONDS` sets how long
 * the slow senders keep going (default 70).
 */
export async function run(): Promise<BenchResult[]> {
  const bench = 'hostile-clients';
  const r = await runHostileClients({
    root: process.env.HOSTILE_SERVICE_ROOT,
    slowSeconds: Number(process.env.HOSTILE_SLOW_SECONDS ?? 70),
    log: (line) => console.log(`  hostile: ${line}`),
  });
  const slowRows = (s: SlowReport): BenchResult[] => {
    const what = `${s.clients} slow unauthenticated ${s.announcedBytes / 1000} KB bodies`;
    return [
      { bench, metric: `RSS before ${what}`, value: s.rssBeforeMb, unit: 'MB' },
      {
        bench,
        metric: `peak RSS under ${what}`,
        value: s.rssPeakMb,
        unit: 'MB',
        target: '≤ before + 32',
        pass: s.rssPeakMb <= s.rssBeforeMb + 32,
        notes: `answers ${JSON.stringify(s.answers)}`,
      },
      { bench, metric: `${what}: connections open after ${s.seconds / 2} s`, value: s.openAtHalf, unit: 'conn' },
      {
        bench,
        metric: `${what}: connections open after ${s.seconds} s`,
        value: s.openAtEnd,
        unit: 'conn',
        target: '0',
        pass: s.openAtEnd === 0,
      },
    ];
  };
  return [
    ...slowRows(r.slow),
    ...slowRows(r.slowUnderLimit),
    {
      bench,
      metric: `/metrics size after ${r.hugeIds.requests} create-agent with a ${r.hugeIds.idBytes / 1000} KB cluster_id`,
      value: r.hugeIds.metricsBytes,
      unit: 'B',
      target: '≤ 64 KiB',
      pass: r.hugeIds.metricsBytes <= 65_536,
    },
    { bench, metric: 'RSS after the huge ids', value: r.hugeIds.rssAfterMb, unit: 'MB' },
    {
      bench,
      metric: `/metrics size after ${r.distinctIds.requests} distinct invalid cluster ids`,
      value: r.distinctIds.metricsBytes,
      unit: 'B',
      target: '≤ 64 KiB',
      pass: r.distinctIds.metricsBytes <= 65_536,
      notes: `${r.distinctIds.createAgentSeries} create-agent series`,
    },
    { bench, metric: 'RSS after the distinct ids', value: r.distinctIds.rssAfterMb, unit: 'MB' },
  ];
}
