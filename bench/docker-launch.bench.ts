import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ActivityLog } from '../src/agents/activity-log.js';
import { AgentService } from '../src/agents/agent-service.js';
import { parseClusterProfile } from '../src/agents/profiles.js';
import { createDockerBackend } from '../src/backends/docker/docker-backend.js';
import { cleanupRun, localDocker } from '../test/support/docker-engine.js';
import { ensureTestImages, testImagePrereqs } from '../test/support/docker-images.js';
import { job } from '../test/support/gocd-bodies.js';
import { dockerAvailable } from '../test/support/services.js';
import type { BenchResult } from './bench-types.js';

const LAUNCHES = 20;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * create-agent → agent container running, on the local engine with a local image: the whole AgentService path
 * (profile parsing, listing, launch: inspect image, create, start, inspect). 20 launches after one warm-up; each
 * agent is stopped by job-completion (reported separately, outside the target) before the next, so every launch
 * sees the same engine.
 */
export async function run(): Promise<BenchResult[]> {
  if (!dockerAvailable()) {
    console.log('  skipped: no Docker engine (install docker.io and start dockerd, see .ci/run)');
    return [];
  }
  const missing = testImagePrereqs();
  if (missing) {
    console.log(`  skipped: cannot build the local agent image: ${missing}`);
    return [];
  }
  const images = await ensureTestImages();
  const clusterId = `bench${randomBytes(3).toString('hex')}`;
  const clusterProperties = { go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId };
  const cluster = parseClusterProfile(clusterProperties);
  const logger = pino({ level: 'silent' });
  const backend = await createDockerBackend(cluster, logger, { stopSeconds: 1 });
  const service = new AgentService({
    backends: { forCluster: async () => backend },
    activity: new ActivityLog(),
    logger,
  });
  const docker = localDocker();
  const launchMs: number[] = [];
  const stopMs: number[] = [];
  try {
    for (let i = 0; i <= LAUNCHES; i++) {
      const started = performance.now();
      const result = await service.createAgent({
        autoRegisterKey: 'bench',
        job: job(1000 + i),
        clusterProperties,
        profileProperties: { image: images.agent },
      });
      const elapsed = performance.now() - started;
      if (result.kind !== 'launched') throw new Error(`launch ${i}: ${JSON.stringify(result)}`);
      const state = (await docker.getContainer(result.agent.ref).inspect()).State;
      if (!state.Running) throw new Error(`launch ${i}: container is ${state.Status}, not running`);
      const stopStarted = performance.now();
      await service.jobCompleted({ elasticAgentId: result.agent.agentId, job: job(1000 + i), clusterProperties });
      if (i > 0) {
        launchMs.push(elapsed);
        stopMs.push(performance.now() - stopStarted);
      }
    }
  } finally {
    await cleanupRun(docker, 'none', [clusterId]);
  }
  launchMs.sort((a, b) => a - b);
  stopMs.sort((a, b) => a - b);
  const median = quantile(launchMs, 0.5);
  const notes = `${LAUNCHES} launches, local image ${images.agent}, docker_mode none`;
  return [
    {
      bench: 'docker-launch',
      metric: 'create-agent → container running, median',
      value: Math.round(median),
      unit: 'ms',
      target: '≤ 1500',
      pass: median <= 1500,
      notes,
    },
    {
      bench: 'docker-launch',
      metric: 'create-agent → container running, p95',
      value: Math.round(quantile(launchMs, 0.95)),
      unit: 'ms',
      notes,
    },
    {
      bench: 'docker-launch',
      metric: 'job-completion → container removed, median',
      value: Math.round(quantile(stopMs, 0.5)),
      unit: 'ms',
      notes,
    },
  ];
}
