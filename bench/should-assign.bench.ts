import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { BenchResult } from './bench-types.js';
import { shouldAssignBody } from './support/should-assign-body.js';

const ROUNDS = 21;

/** should-assign-work over HTTP vs a bare Fastify route, same run, alternating rounds (target ≥ 0.8×). */
export async function run(): Promise<BenchResult[]> {
  const child = fork(join(import.meta.dirname, 'support', 'should-assign-servers.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { bare, real, token } = JSON.parse(line.toString()) as { bare: number; real: number; token: string };
  const body = shouldAssignBody('bench', 100);
  const headers = { 'content-type': 'application/json' };
  const load = (url: string, extra: Record<string, string> = {}) =>
    autocannon({ url, method: 'POST', connections: 10, duration: 1, headers: { ...headers, ...extra }, body });
  const bareRound = async () => (await load(`http://127.0.0.1:${bare}/hello`)).requests.average;
  const realRound = async () => {
    const r = await load(`http://127.0.0.1:${real}/gocd/requests/cd.go.elastic-agent.should-assign-work`, {
      authorization: `Bearer ${token}`,
    });
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`should-assign-work answered ${r.non2xx} non-2xx, ${r.errors} errors`);
    return r;
  };
  await bareRound(); // warm-up
  await realRound();
  // Paired rounds (bare and ours back to back, the order alternating so a drift in load favours neither) and the
  // median of the per-round ratios: the machine is shared, and a load change between rounds would otherwise swing a
  // ratio of averages.
  const bareRps: number[] = [];
  const realRps: number[] = [];
  const realP99: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let b: number;
    let r: Awaited<ReturnType<typeof realRound>>;
    if (round % 2 === 0) {
      b = await bareRound();
      r = await realRound();
    } else {
      r = await realRound();
      b = await bareRound();
    }
    bareRps.push(b);
    realRps.push(r.requests.average);
    realP99.push(r.latency.p99);
    ratios.push(r.requests.average / b);
  }
  child.send('stop');
  await once(child, 'exit');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = median(ratios);
  return [
    {
      bench: 'should-assign-work',
      metric: 'bare Fastify route req/s',
      value: Math.round(median(bareRps)),
      unit: 'req/s',
    },
    {
      bench: 'should-assign-work',
      metric: 'should-assign-work req/s (auth + schema + rule)',
      value: Math.round(median(realRps)),
      unit: 'req/s',
    },
    {
      bench: 'should-assign-work',
      metric: `ratio to bare route (median of ${ROUNDS} paired rounds)`,
      value: ratio,
      unit: '×',
      target: '≥ 0.8',
      pass: ratio >= 0.8,
    },
    { bench: 'should-assign-work', metric: 'p99 latency', value: median(realP99), unit: 'ms' },
  ];
}
