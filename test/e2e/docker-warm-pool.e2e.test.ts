import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';
import { containerNameFor, LABEL } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { cleanupRun, containerExists, localDocker, runId } from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService } from '../support/profiles.js';
import { dockerAvailable, requireService } from '../support/services.js';

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? '');

const run = runId('e2ew');
const clusterId = run;
const docker = localDocker();
const logger = pino({ level: 'silent' });
const INSTANCE = '5f3a9c01';

describe.skipIf(!ok)('warm pools on the Docker backend (a real engine)', () => {
  let images: TestImages;
  let backend: DockerBackend;
  let service: EdgeService;
  const cluster = { go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId, max_agents: '5' };
  let profile: Record<string, string>;

  beforeAll(async () => {
    images = await ensureTestImages();
    backend = await createDockerBackend({}, logger, { stopSeconds: 1 });
    service = edgeService(backend, { logger });
    profile = { image: images.agent, warm_pool_size: '1' };
  });

  afterAll(async () => {
    await cleanupRun(docker, run, [clusterId]);
  });

  const create = (jobId: number) =>
    service.createAgent({
      autoRegisterKey: 'k',
      job: job(jobId),
      clusterProperties: cluster,
      profileProperties: profile,
    });
  const poolContainers = async () =>
    (
      await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.clusterId}=${clusterId}`, LABEL.pool] },
      })
    ).filter((c) => c.State !== 'exited' && c.State !== 'dead');

  it('fills the pool with labelled containers, gives the next job a pool container without starting one for it, and removes it at job-completion', async () => {
    await service.serverPing([cluster], [], undefined, INSTANCE);
    expect((await create(201)).kind).toBe('launched');
    const [first, ...more] = await poolContainers();
    expect(more).toEqual([]);
    const id = first!.Labels[LABEL.agentId]!;
    expect(parsePoolAgentId(id)?.instance).toBe(INSTANCE);
    expect(first!.Labels[LABEL.jobId]).toBeUndefined();
    expect(first!.State).toBe('running');

    const result = await create(202);
    expect(result.kind === 'warm' && result.agent.agentId).toBe(id);
    expect(await containerExists(docker, containerNameFor(clusterId, 202))).toBe(false);
    expect((await poolContainers()).map((c) => c.Labels[LABEL.agentId])).toHaveLength(2);

    const actions = await service.jobCompleted({ elasticAgentId: id, job: job(202), clusterProperties: cluster });
    expect(actions).toEqual({ disable: [id], delete: [id] });
    expect((await poolContainers()).map((c) => c.Labels[LABEL.agentId])).not.toContain(id);
  }, 120_000);
});
