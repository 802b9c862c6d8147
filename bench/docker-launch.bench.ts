import { pino } from 'pino';
import { createDockerBackend } from '../src/backends/docker/docker-backend.js';
import { cleanupRun, dockerClusterProps, localDocker, runId } from '../test/support/docker-engine.js';
import { ensureTestImages } from '../test/support/docker-images.js';
import { job } from '../test/support/gocd-bodies.js';
import { edgeService, dockerCluster as parseClusterProfile } from '../test/support/profiles.js';
import type { BenchResult } from './bench-types.js';
import { launchBenchSkipped, launchFigures } from './support/launch-figures.js';

const LAUNCHES = 20;
const TARGET_MEDIAN_MS = 1500;
const CLUSTER_ID = runId('bench');

/**
 * create-agent → agent container running, on the local engine with a local image (no pull): the whole service path
 * (AgentService.createAgent: parse profiles, list the cluster's agents, launch), timed until the engine reports the
 * container running. Each agent is stopped (untimed) before the next launch, so every launch starts from one agent.
 */
export async function run(): Promise<BenchResult[]> {
  if (launchBenchSkipped()) return [];
  const logger = pino({ level: 'silent' });
  const docker = localDocker();
  const images = await ensureTestImages();
  const backend = await createDockerBackend({}, logger, { stopSeconds: 1 });
  const service = edgeService(backend, { logger });
  const clusterProperties = dockerClusterProps(CLUSTER_ID);
  const cluster = parseClusterProfile(clusterProperties);
  await cleanupRun(docker, CLUSTER_ID, [CLUSTER_ID]);

  const timings: number[] = [];
  try {
    for (let i = 0; i <= LAUNCHES; i++) {
      const started = performance.now();
      const result = await service.createAgent({
        autoRegisterKey: `bench-${i}`,
        job: job(9000 + i),
        clusterProperties,
        profileProperties: { image: images.agent },
      });
      if (result.kind !== 'launched') throw new Error(`launch ${i}: ${JSON.stringify(result)}`);
      const info = await docker.getContainer(result.agent.ref).inspect();
      const elapsed = performance.now() - started;
      if (!info.State.Running) throw new Error(`launch ${i}: container ${info.Name} is ${info.State.Status}`);
      if (i > 0) timings.push(elapsed); // launch 0 warms the image cache and the client
      await backend.stop(cluster, [result.agent], 'benchmark');
    }
  } finally {
    await cleanupRun(docker, CLUSTER_ID, [CLUSTER_ID]);
  }
  const notes = `${LAUNCHES} launches after 1 warm-up, mode none, local image ${images.agent}`;
  return launchFigures('docker-launch', 'create-agent → container running', timings, TARGET_MEDIAN_MS, notes);
}
