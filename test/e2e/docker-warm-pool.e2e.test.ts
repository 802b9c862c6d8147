import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';
import { containerNameFor, LABEL } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { cleanupRun, containerExists, dockerCli, localDocker, runId } from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService } from '../support/profiles.js';
import { freePort, RegistryProcess } from '../support/registry-process.js';
import { dockerAvailable, registryBinary, requireService } from '../support/services.js';

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

  it("a push that moves the pool's image tag: the refill pulls the new image instead of reusing the local copy", async (ctx) => {
    const binary = registryBinary();
    if (!requireService('docker-registry', binary !== undefined, 'apt-get install docker-registry (see .ci/run)')) {
      ctx.skip();
      return;
    }
    const registry = await new RegistryProcess({ binary: binary!, port: await freePort() }).start();
    const ref = `${registry.host}/pool-${run}/agent:1`;
    try {
      await dockerCli(['tag', images.agent, ref]);
      await dockerCli(['push', ref], 120_000);
      const pooled = { go_server_url: 'https://gocd.example.com/go', cluster_id: `${clusterId}r`, max_agents: '5' };
      // A command of its own: the second image (busybox) has none.
      const p = { image: ref, warm_pool_size: '1', command: 'sleep\n600' };
      await service.serverPing([pooled], [], undefined, INSTANCE);
      await service.createAgent({
        autoRegisterKey: 'k',
        job: job(301),
        clusterProperties: pooled,
        profileProperties: p,
      });
      const imageOf = async () => {
        const live = await docker.listContainers({
          all: true,
          filters: { label: [`${LABEL.clusterId}=${clusterId}r`, LABEL.pool] },
        });
        return live.map((c) => ({ id: c.Labels[LABEL.agentId]!, image: c.ImageID }));
      };
      const [first] = await imageOf();
      const v1 = (await docker.getImage(images.agent).inspect()).Id;
      expect(first?.image).toBe(v1);
      // The tag moves to another image in the registry; the engine's local copy still names the old one.
      await dockerCli(['tag', images.busybox, ref]);
      await dockerCli(['push', ref], 120_000);
      await dockerCli(['tag', images.agent, ref]);
      const v2 = (await docker.getImage(images.busybox).inspect()).Id;
      service.agents.imagePushed(ref, 'sha256:moved');
      const idle = { agent_id: first!.id, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' };
      const actions = await service.serverPing([pooled], [idle], undefined, INSTANCE);
      expect(actions.disable).toEqual([first!.id]);
      const refilled = (await imageOf()).filter((c) => c.id !== first!.id);
      expect(refilled.map((c) => c.image)).toEqual([v2]);
    } finally {
      await cleanupRun(docker, run, [`${clusterId}r`]);
      // Only this run's references: the tag, and the digest references the pushes and the pull left.
      const repo = ref.slice(0, ref.lastIndexOf(':'));
      const refs = await dockerCli(['images', '--digests', '--format', '{{.Repository}}@{{.Digest}}', repo]);
      for (const r of [ref, ...refs.split('\n').filter((x) => x.includes('@sha256:'))]) {
        await dockerCli(['rmi', r]).catch(() => undefined);
      }
      await registry.stop();
    }
  }, 240_000);
});
