import { DescribeTasksCommand, type ECSClient, paginateListTasks } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { agentIdFor } from '../src/agents/agent-id.js';
import { createEcsBackend } from '../src/backends/ecs/ecs-backend.js';
import { createEcsClient } from '../src/backends/ecs/ecs-clients.js';
import { startedByFor } from '../src/backends/ecs/run-task-input.js';
import { FakeEcs } from '../test/support/fake-ecs/fake-ecs-server.js';
import { ecsCluster as parseClusterProfile } from '../test/support/profiles.js';
import type { BenchResult } from './bench-types.js';

const LATENCY_MS = 20;
const SIZES = [100, 1_000, 5_000];
/** Calls in flight at once, for both approaches (the backend's default DescribeTasks concurrency). */
const CONCURRENCY = 4;

/** The naive read side: every page of ListTasks, then one DescribeTasks per task (same concurrency). */
async function naiveList(client: ECSClient, cluster: string, startedBy: string): Promise<number> {
  const arns: string[] = [];
  for await (const page of paginateListTasks({ client, pageSize: 100 }, { cluster, startedBy })) {
    arns.push(...(page.taskArns ?? []));
  }
  let next = 0;
  let described = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < arns.length) {
        const arn = arns[next++]!;
        const res = await client.send(new DescribeTasksCommand({ cluster, tasks: [arn], include: ['TAGS'] }));
        described += res.tasks?.length ?? 0;
      }
    }),
  );
  return described;
}

/**
 * server-ping's read side (`list`) over N agent tasks on the loopback fake ECS endpoint with 20 ms per call: ECS
 * read calls (target ≤ 2·⌈N/100⌉) and wall time, beside one DescribeTasks per task.
 */
export async function run(): Promise<BenchResult[]> {
  const fake = await new FakeEcs({
    latencyMs: LATENCY_MS,
    throttling: false,
    clusters: SIZES.map((n) => `bench-${n}`),
  }).start();
  const saved = Object.fromEntries(Object.keys(fake.env()).map((k) => [k, process.env[k]]));
  Object.assign(process.env, fake.env());
  const results: BenchResult[] = [];
  try {
    for (const n of SIZES) {
      const cluster = parseClusterProfile({
        go_server_url: 'https://gocd.example.com/go',
        cluster_id: `bench-${n}`,
        cluster: `bench-${n}`,
      });
      fake.seedTasks(n, {
        cluster: cluster.cluster!,
        startedBy: startedByFor(cluster.clusterId),
        tags: (i) => [
          { key: 'gocd-agent-scaler:agent-id', value: agentIdFor(cluster.clusterId, i) },
          { key: 'gocd-agent-scaler:job-id', value: String(i) },
          { key: 'gocd-agent-scaler:cluster-id', value: cluster.clusterId },
          { key: 'gocd-agent-scaler:pipeline', value: `p/${i}/s/1/j` },
        ],
      });
      const client = createEcsClient(cluster);
      const backend = createEcsBackend(client, { logger: pino({ level: 'silent' }), concurrency: CONCURRENCY });
      const target = 2 * Math.ceil(n / 100);

      fake.resetCounts();
      let started = performance.now();
      const agents = await backend.list(cluster);
      const batchedMs = performance.now() - started;
      const batchedCalls = fake.count('ListTasks', 'DescribeTasks');
      if (agents.length !== n) throw new Error(`listed ${agents.length} of ${n} agents`);

      fake.resetCounts();
      started = performance.now();
      const described = await naiveList(client, cluster.cluster!, startedByFor(cluster.clusterId));
      const naiveMs = performance.now() - started;
      const naiveCalls = fake.count('ListTasks', 'DescribeTasks');
      client.destroy();
      if (described !== n) throw new Error(`naive listing described ${described} of ${n} tasks`);

      const bench = `ecs-reconcile N=${n}`;
      results.push(
        {
          bench,
          metric: 'list(): ECS read calls (ListTasks + DescribeTasks)',
          value: batchedCalls,
          unit: 'calls',
          target: `≤ ${target}`,
          pass: batchedCalls <= target,
        },
        { bench, metric: `list(): wall time (${LATENCY_MS} ms per call)`, value: Math.round(batchedMs), unit: 'ms' },
        {
          bench,
          metric: 'naive, one DescribeTasks per task: read calls',
          value: naiveCalls,
          unit: 'calls',
          notes: `at ECS's sustained read refill of 20 calls/s (shared by the account) that is ${(naiveCalls / 20).toFixed(0)} s of budget vs ${(batchedCalls / 20).toFixed(1)} s`,
        },
        {
          bench,
          metric: `naive: wall time (${CONCURRENCY} calls in flight)`,
          value: Math.round(naiveMs),
          unit: 'ms',
        },
      );
      console.log(
        `  N=${n}: batched ${batchedCalls} calls / ${Math.round(batchedMs)} ms; naive ${naiveCalls} calls / ${Math.round(naiveMs)} ms`,
      );
    }
  } finally {
    await fake.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return results;
}
