import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { EcsBackend } from '../src/backends/ecs/ecs-backend.js';
import { cleanupRun, localDocker, runId } from '../test/support/docker-engine.js';
import { ensureTestImages } from '../test/support/docker-images.js';
import { startLocalEcs } from '../test/support/fake-ecs/local-ecs.js';
import { job } from '../test/support/gocd-bodies.js';
import { edgeService, ecsCluster as parseClusterProfile } from '../test/support/profiles.js';
import type { BenchResult } from './bench-types.js';
import { launchBenchSkipped, launchFigures } from './support/launch-figures.js';

const LAUNCHES = 20;
const TARGET_MEDIAN_MS = 1500;
const POLL_MS = 20;
const RUN = runId('benche');

/**
 * create-agent → ECS-mode agent running on the local engine: the whole service path (AgentService.createAgent →
 * EcsBackend: task definition, RunTask with the real SDK) against the loopback ECS endpoint, whose runtime starts the
 * task on the local Docker engine as the ECS agent would; timed until DescribeTasks reports the task RUNNING (polled
 * every 20 ms). Mode none, local image, one agent at a time (each stopped, untimed, before the next launch).
 */
export async function run(): Promise<BenchResult[]> {
  if (launchBenchSkipped()) return [];
  const logger = pino({ level: 'silent' });
  const docker = localDocker();
  const images = await ensureTestImages();
  const ecs = await startLocalEcs(docker, RUN, { clusters: [`${RUN}-c`] });
  const backend = new EcsBackend(ecs.client, { logger });
  const service = edgeService(backend, { logger });
  // max_agents above the launch count: each agent is stopped through the backend, not the service, so the service's
  // recent-launch memory (2 minutes) still counts it.
  const clusterProperties = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: RUN,
    cluster: `${RUN}-c`,
    max_agents: '60',
  };
  const cluster = parseClusterProfile(clusterProperties);

  const timings: number[] = [];
  try {
    for (let i = 0; i <= LAUNCHES; i++) {
      const started = performance.now();
      const result = await service.createAgent({
        autoRegisterKey: `bench-${i}`,
        job: job(9100 + i),
        clusterProperties,
        profileProperties: { image: images.agent },
      });
      if (result.kind !== 'launched') throw new Error(`launch ${i}: ${JSON.stringify(result)}`);
      for (;;) {
        const { tasks } = await ecs.client.send(
          new DescribeTasksCommand({ cluster: cluster.cluster, tasks: [result.agent.ref] }),
        );
        const status = tasks?.[0]?.lastStatus;
        if (status === 'RUNNING') break;
        if (status === 'STOPPED') throw new Error(`launch ${i}: ${tasks?.[0]?.stoppedReason}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const elapsed = performance.now() - started;
      if (i > 0) timings.push(elapsed); // launch 0 registers the task definition and warms the clients
      await backend.stop(cluster, [result.agent], 'benchmark');
      await ecs.runtime.settled();
    }
  } finally {
    await ecs.stop();
    await cleanupRun(docker, RUN, []);
  }
  const notes = `${LAUNCHES} launches after 1 warm-up, mode none, local image, tasks run by the fake ECS endpoint's local-engine runtime`;
  return launchFigures(
    'ecs-launch',
    'create-agent → ECS task RUNNING on the local engine',
    timings,
    TARGET_MEDIAN_MS,
    notes,
  );
}
