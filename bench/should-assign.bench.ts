import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { agentIdFor } from '../src/agents/agent-id.js';
import type { BenchResult } from './bench-types.js';

/** should-assign-work over HTTP vs a bare Fastify route, same run, alternating rounds (target ≥ 0.8×). */
export async function run(): Promise<BenchResult[]> {
  const child = fork(join(import.meta.dirname, 'support', 'should-assign-servers.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { bare, real, token } = JSON.parse(line.toString()) as { bare: number; real: number; token: string };
  const body = JSON.stringify({
    agent: { agent_id: agentIdFor('bench', 100), agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' },
    elastic_agent_profile_properties: { image: 'i' },
    cluster_profile_properties: { go_server_url: 'https://g/go' },
    job_identifier: {
      pipeline_name: 'p',
      pipeline_counter: 1,
      stage_name: 's',
      stage_counter: '1',
      job_name: 'j',
      job_id: 100,
    },
  });
  const headers = { 'content-type': 'application/json' };
  const load = (url: string, extra: Record<string, string> = {}) =>
    autocannon({ url, method: 'POST', connections: 10, duration: 4, headers: { ...headers, ...extra }, body });
  await load(`http://127.0.0.1:${bare}/hello`); // warm-up
  await load(`http://127.0.0.1:${real}/gocd/requests/cd.go.elastic-agent.should-assign-work`, {
    authorization: `Bearer ${token}`,
  });
  const bareRps: number[] = [];
  const realRps: number[] = [];
  const realP99: number[] = [];
  for (let round = 0; round < 3; round++) {
    bareRps.push((await load(`http://127.0.0.1:${bare}/hello`)).requests.average);
    const r = await load(`http://127.0.0.1:${real}/gocd/requests/cd.go.elastic-agent.should-assign-work`, {
      authorization: `Bearer ${token}`,
    });
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`should-assign-work answered ${r.non2xx} non-2xx, ${r.errors} errors`);
    realRps.push(r.requests.average);
    realP99.push(r.latency.p99);
  }
  child.send('stop');
  await once(child, 'exit');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ratio = mean(realRps) / mean(bareRps);
  return [
    {
      bench: 'should-assign-work',
      metric: 'bare Fastify route req/s',
      value: Math.round(mean(bareRps)),
      unit: 'req/s',
    },
    {
      bench: 'should-assign-work',
      metric: 'should-assign-work req/s (auth + schema + rule)',
      value: Math.round(mean(realRps)),
      unit: 'req/s',
    },
    {
      bench: 'should-assign-work',
      metric: 'ratio to bare route',
      value: ratio,
      unit: '×',
      target: '≥ 0.8',
      pass: ratio >= 0.8,
    },
    { bench: 'should-assign-work', metric: 'p99 latency', value: mean(realP99), unit: 'ms' },
  ];
}
