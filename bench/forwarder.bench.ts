import { job } from '../test/support/gocd-bodies.js';
import { cmd, ensureBuilt, forwarderToolsAvailable, runHost } from '../test/support/gocd-host.js';
import { inCI } from '../test/support/services.js';
import { createTestApp } from '../test/support/test-app.js';
import type { BenchResult } from './bench-types.js';

const N = 2000;
const EA = 'cd.go.elastic-agent.';

/**
 * The forwarder jar as GoCD calls it (the host harness, one GoCD thread), against the real service on loopback with
 * the in-memory backend: per-call latency of should-assign-work (answered inside the plugin) and of create-agent
 * (forwarded; a new job each call, so each one launches an agent and tells the job's console through the accessor).
 */
export async function run(): Promise<BenchResult[]> {
  if (!inCI && !forwarderToolsAvailable()) return [];
  ensureBuilt();
  const t = await createTestApp({ logLevel: 'info' });
  try {
    const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const cluster = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'bench', max_agents: '1000000' };
    const create = {
      auto_register_key: 'bench-key',
      elastic_agent_profile_properties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
      cluster_profile_properties: cluster,
      job_identifier: { ...job(0), job_id: '__SEQ__' },
    };
    const assign = {
      agent: { agent_id: 'ea-7-0a1b2c3d', agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' },
      environment: 'prod',
      job_identifier: job(7),
      elastic_agent_profile_properties: { image: 'i' },
      cluster_profile_properties: cluster,
    };
    const out = await runHost(
      [cmd.bench(N * 5, `${EA}should-assign-work`, assign), cmd.bench(N, `${EA}create-agent`, create)],
      {
        via: 'env',
        url,
        token: t.token,
        timeoutMs: 600_000,
      },
    );
    const [sa, ca] = out.benches;
    if (!sa || !ca || sa.non200 > 0 || ca.non200 > 0)
      throw new Error(`forwarder bench failed: ${JSON.stringify(out.benches)}`);
    const launched = t.backend.agents.length;
    const row = (metric: string, micros: number, notes: string): BenchResult => ({
      bench: 'forwarder',
      metric,
      value: Math.round(micros) / 1000,
      unit: 'ms',
      notes,
    });
    const saNotes = `${sa.n} calls after ${sa.n / 10} warm-up, in the plugin (no network)`;
    const caNotes = `${ca.n} calls after ${ca.n / 10} warm-up, ${launched} agents launched, one console line each`;
    return [
      row('should-assign-work p50', sa.p50, saNotes),
      row('should-assign-work p99', sa.p99, saNotes),
      row('create-agent p50 (forwarded to the service on loopback)', ca.p50, caNotes),
      row('create-agent p99 (forwarded to the service on loopback)', ca.p99, caNotes),
      row('create-agent max', ca.max, caNotes),
    ];
  } finally {
    await t.close();
  }
}
