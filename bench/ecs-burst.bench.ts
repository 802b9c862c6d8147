import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { agentIdFor } from '../src/agents/agent-id.js';
import { startedByFor } from '../src/backends/ecs/run-task-input.js';
import { parseConfig } from '../src/config/config-text.js';
import { buildApp } from '../src/http/app.js';
import { createServices } from '../src/main/composition.js';
import { VERSION } from '../src/version.js';
import { FakeEcs } from '../test/support/fake-ecs/fake-ecs-server.js';
import { ECS_QUOTAS } from '../test/support/fake-ecs/token-buckets.js';
import { job } from '../test/support/gocd-bodies.js';
import type { BenchResult } from './bench-types.js';

const JOBS = 1_000;
/** Agents of other jobs already running in the cluster: the read side must not grow with them. */
const FLEET = 500;
const TOKEN = 'burst-forwarder-token-0123456789';

/**
 * 1,000 create-agents at once, through the real service (HTTP app, process composition, ECS backend) against the
 * strict loopback ECS endpoint with both of ECS's buckets in force (RunTask/StopTask 100 + 40/s, DescribeTasks/ListTasks
 * 100 + 20/s), in a cluster already running 500 agents. Targets (issue 17): every job exactly one task; ECS reads per
 * job ≤ 0.1 amortised; the last RunTask within 1.25× of the RunTask bucket's own minimum ((1000 − 100) / 40 = 22.5 s).
 */
export async function run(): Promise<BenchResult[]> {
  const fake = await new FakeEcs({ clusters: ['burst'] }).start();
  const restoreEnv = fake.useAsEnvironment();
  const cluster = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: 'burst',
    cluster: 'burst',
    max_agents: String(JOBS + FLEET),
  };
  fake.seedTasks(FLEET, {
    cluster: 'burst',
    startedBy: startedByFor('burst'),
    tags: (i) => [
      { key: 'gocd-agent-scaler:agent-id', value: agentIdFor('burst', 100_000 + i) },
      { key: 'gocd-agent-scaler:job-id', value: String(100_000 + i) },
      { key: 'gocd-agent-scaler:cluster-id', value: 'burst' },
    ],
  });
  const { config } = parseConfig(`gocd: { forwarderToken: ${TOKEN} }\n`, 'bench', { env: {} });
  const logger = pino({ level: 'silent' });
  const services = await createServices(config, logger, { withDocker: false });
  const app = await buildApp({ config, logger, version: VERSION, ...services });
  try {
    fake.resetCounts();
    const started = fake.now();
    const answers = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const sent = performance.now();
        const res = await app.inject({
          method: 'POST',
          url: '/gocd/requests/cd.go.elastic-agent.create-agent',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify({
            auto_register_key: `burst-key-${i}`,
            elastic_agent_profile_properties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
            cluster_profile_properties: cluster,
            environment: 'bench',
            job_identifier: job(i + 1),
          }),
        });
        return { status: res.statusCode, ms: performance.now() - sent };
      }),
    );
    const tasksPerJob = () => {
      const counts = new Map<number, number>();
      for (const t of fake.tasks.values()) {
        const id = Number(t.tags.find((x) => x.key === 'gocd-agent-scaler:job-id')?.value);
        if (id >= 1 && id <= JOBS) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    // Launches ECS throttled past their answer's 20 s deadline run again from the process's retry queue: wait for
    // them (bounded), as GoCD would wait for the agents.
    const atAnswers = tasksPerJob().size;
    const waitUntil = performance.now() + 60_000;
    while (tasksPerJob().size < JOBS && performance.now() < waitUntil) await sleep(100);
    const perJob = tasksPerJob();
    const exactlyOne = [...perJob.values()].filter((n) => n === 1).length;
    const reads = fake.count('ListTasks', 'DescribeTasks');
    const readsPerJob = reads / JOBS;
    const lastRunTaskS = ((fake.lastSuccessAt.get('RunTask') ?? started) - started) / 1000;
    const q = ECS_QUOTAS['cluster-resource-modify'];
    const minimumS = (JOBS - q.burst) / q.refillPerSecond;
    const runTaskCalls = fake.count('RunTask');
    const runTaskThrottled = fake.throttledCalls.get('RunTask') ?? 0;
    const non200 = answers.filter((a) => a.status !== 200).length;
    const maxAnswerS = Math.max(...answers.map((a) => a.ms)) / 1000;
    const bench = `ecs-burst ${JOBS} create-agents`;
    console.log(
      `  ${exactlyOne}/${JOBS} jobs with one task; reads ${reads} (${readsPerJob.toFixed(3)}/job); last RunTask ${lastRunTaskS.toFixed(2)} s (minimum ${minimumS} s); RunTask calls ${runTaskCalls}, throttled ${runTaskThrottled}`,
    );
    return [
      {
        bench,
        metric: 'jobs with exactly one task',
        value: exactlyOne,
        unit: 'jobs',
        target: `= ${JOBS}`,
        pass: exactlyOne === JOBS && perJob.size === JOBS,
        notes: `${JOBS - atAnswers} of them launched after their create-agent was answered (the process's retry queue)`,
      },
      {
        bench,
        metric: `ECS reads per job (ListTasks + DescribeTasks; ${FLEET} agents already running)`,
        value: readsPerJob,
        unit: 'calls/job',
        target: '≤ 0.1',
        pass: readsPerJob <= 0.1,
        notes: `${reads} read calls in all`,
      },
      {
        bench,
        metric: 'last RunTask after the burst began',
        value: lastRunTaskS,
        unit: 's',
        target: `≤ ${(1.25 * minimumS).toFixed(2)} (1.25 × the bucket's ${minimumS} s)`,
        pass: lastRunTaskS <= 1.25 * minimumS,
      },
      {
        bench,
        metric: 'RunTask calls (throttled ones included)',
        value: runTaskCalls,
        unit: 'calls',
        notes: `${runTaskThrottled} throttled by ECS's bucket`,
      },
      {
        bench,
        metric: 'create-agent answers other than 200',
        value: non200,
        unit: 'req',
        target: '0',
        pass: non200 === 0,
      },
      { bench, metric: 'slowest create-agent answer', value: maxAnswerS, unit: 's' },
    ];
  } finally {
    await app.close();
    await fake.stop();
    restoreEnv();
  }
}
