import { ECSClient } from '@aws-sdk/client-ecs';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentBackend, AgentRecord, LaunchRequest, StopReport } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { PLUGIN_ID } from '../../src/agents/agent-service.js';
import { jobPath } from '../../src/agents/job.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { cleanupRun, dockerClusterProps, localDocker, runId } from '../support/docker-engine.js';
import { ensureTestImages, testImagePrereqs } from '../support/docker-images.js';
import { ECS_SETUPS, type EcsSetup, fakeClusterOf, SMALL_TASK } from '../support/ecs-setups.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { startLocalEcs } from '../support/fake-ecs/local-ecs.js';
import { job } from '../support/gocd-bodies.js';
import { parseClusterProfile, parseElasticProfile } from '../support/profiles.js';
import { dockerAvailable, requireService } from '../support/services.js';

/**
 * One backend under contract: `start` brings up whatever it needs and returns the backend, a cluster profile per
 * cluster id, the image agents use, and a cleanup that removes everything it made (run even when a test fails).
 */
interface BackendUnderTest {
  name: string;
  /** False skips this entry (after requireService printed why; under CI=true requireService throws instead). */
  available: () => boolean;
  start(): Promise<{
    backend: AgentBackend;
    cluster: (id: string) => ClusterProfile;
    image: string;
    cleanup: () => Promise<void>;
  }>;
}

const logger = pino({ level: 'silent' });
/** Two cluster ids per entry; each entry uses its own so parallel files and entries never collide. */
const RUN = runId('ctr');
const ids = (prefix: string) => [`${prefix}${RUN}a`, `${prefix}${RUN}b`] as const;

const DOCKER: BackendUnderTest = {
  name: 'Docker backend on a real engine',
  available: () =>
    requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
    requireService(
      'busybox-static and docker.io binaries',
      testImagePrereqs() === undefined,
      String(testImagePrereqs()),
    ),
  async start() {
    const clusterIds = ids('d');
    const docker: Docker = localDocker();
    const images = await ensureTestImages();
    const cleanup = () => cleanupRun(docker, RUN, clusterIds);
    await cleanup();
    return {
      backend: await createDockerBackend({}, logger, { stopSeconds: 1 }),
      cluster: (id) => parseClusterProfile(dockerClusterProps(id)),
      image: images.agent,
      cleanup,
    };
  },
};

/** The ECS backend against the strict loopback endpoint (real SDK, ECS JSON protocol), for one launch set-up. */
const ecsEntry = (setup: EcsSetup): BackendUnderTest => ({
  name: `ECS backend against the strict loopback ECS endpoint: ${setup.name}`,
  available: () => true,
  async start() {
    const fake = await new FakeEcs({ clusters: [fakeClusterOf(setup, 'contract')] }).start();
    return {
      backend: new EcsBackend(new ECSClient({ ...fake.clientConfig(), maxAttempts: 2 }), {
        logger,
        missingRetryDelaysMs: [50, 100],
      }),
      cluster: (id) =>
        parseClusterProfile({
          go_server_url: 'https://gocd.example.com/go',
          cluster_id: id,
          cluster: `contract-${setup.id}`,
          ...setup.props,
        }),
      image: 'gocd/gocd-agent-debian-12:v25.1.0',
      cleanup: () => fake.stop(),
    };
  },
});

const ECS_ON_ENGINE: BackendUnderTest = {
  name: 'ECS backend whose tasks the loopback ECS endpoint runs on the local engine (as the ECS agent would)',
  available: DOCKER.available,
  async start() {
    const docker: Docker = localDocker();
    const images = await ensureTestImages();
    const ecs = await startLocalEcs(docker, RUN, { clusters: [`${RUN}-local`] });
    return {
      backend: new EcsBackend(ecs.client, { logger, missingRetryDelaysMs: [50, 100] }),
      cluster: (id) =>
        parseClusterProfile({ go_server_url: 'https://gocd.example.com/go', cluster_id: id, cluster: `${RUN}-local` }),
      image: images.agent,
      cleanup: async () => {
        await ecs.stop();
        await cleanupRun(docker, RUN, []);
      },
    };
  },
};

/**
 * ADD BACKENDS HERE: every AgentBackend implementation must pass this suite. An entry needs no real cloud: ECS runs
 * against the fake endpoint in every launch set-up, Docker against the local engine (skipped with a printed reason
 * where there is none).
 */
const BACKENDS: BackendUnderTest[] = [DOCKER, ...ECS_SETUPS.map(ecsEntry), ECS_ON_ENGINE];

describe.each(BACKENDS)('AgentBackend contract: $name', (entry) => {
  const ok = entry.available();
  describe.skipIf(!ok)('port properties', () => {
    let backend: AgentBackend;
    let clusterOf: (id: string) => ClusterProfile;
    let image: string;
    let cleanup: (() => Promise<void>) | undefined;
    const [A, B] = ids(entry === DOCKER ? 'd' : entry === ECS_ON_ENGINE ? 'l' : 'e');
    let launchedHere: { cluster: ClusterProfile; agent: AgentRecord }[] = [];

    beforeAll(async () => {
      const started = await entry.start();
      ({ backend, image, cleanup } = started);
      clusterOf = started.cluster;
    });
    afterEach(async () => {
      // Stop what each test launched through the port itself; the entry's cleanup below is the safety net.
      for (const { cluster, agent } of launchedHere) await backend.stop(cluster, [agent], 'contract test cleanup');
      launchedHere = [];
    });
    afterAll(async () => cleanup?.());

    function request(clusterId: string, jobId: number): LaunchRequest {
      const cluster = clusterOf(clusterId);
      const agentId = agentIdFor(clusterId, jobId);
      return {
        agentId,
        job: job(jobId),
        cluster,
        profile: parseElasticProfile({ image, ...SMALL_TASK }),
        jobEnv: {
          GO_EA_SERVER_URL: cluster.goServerUrl,
          GO_EA_AUTO_REGISTER_KEY: `key-${Math.random().toString(36).slice(2)}`,
          GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: agentId,
          GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID: PLUGIN_ID,
        },
      };
    }

    async function launch(clusterId: string, jobId: number): Promise<AgentRecord> {
      const outcome = await backend.launch(request(clusterId, jobId));
      if (outcome.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(outcome)}`);
      launchedHere.push({ cluster: clusterOf(clusterId), agent: outcome.agent });
      return outcome.agent;
    }

    it('a launched agent is listed with its agent id, job id, cluster id and pipeline', async () => {
      const agent = await launch(A, 501);
      expect(agent).toMatchObject({
        agentId: agentIdFor(A, 501),
        jobId: 501,
        clusterId: A,
        pipeline: jobPath(job(501)),
      });
      const listed = await backend.list(clusterOf(A));
      expect(listed).toEqual([
        expect.objectContaining({
          agentId: agentIdFor(A, 501),
          jobId: 501,
          clusterId: A,
          pipeline: jobPath(job(501)),
          ref: agent.ref,
        }),
      ]);
      expect(['pending', 'running']).toContain(listed[0]?.status);
      expect(listed[0]?.createdAt).toBeInstanceOf(Date);
    });

    it('a second launch for the same job answers existing and the job still has one agent', async () => {
      const agent = await launch(A, 502);
      const again = await backend.launch(request(A, 502));
      expect(again).toMatchObject({ kind: 'existing', agent: { agentId: agentIdFor(A, 502), ref: agent.ref } });
      expect((await backend.list(clusterOf(A))).filter((a) => a.jobId === 502)).toHaveLength(1);
    });

    it('a stopped agent is no longer listed', async () => {
      const agent = await launch(A, 503);
      await backend.stop(clusterOf(A), [agent], 'contract: stop');
      expect((await backend.list(clusterOf(A))).map((a) => a.agentId)).not.toContain(agent.agentId);
    });

    it('stopping an already-stopped or an unknown agent is not an error', async () => {
      const agent = await launch(A, 504);
      await backend.stop(clusterOf(A), [agent], 'contract: first stop');
      // Nothing to stop: no error, and no container counted as removed (a report, when the backend gives one, is empty).
      const nothingRemoved = (report: StopReport | undefined) =>
        report === undefined || Object.keys(report.childrenRemoved).length === 0;
      await expect(backend.stop(clusterOf(A), [agent], 'contract: second stop')).resolves.toSatisfy(nothingRemoved);
      const unknown: AgentRecord = { ...agent, agentId: agentIdFor(A, 599), jobId: 599 };
      await expect(backend.stop(clusterOf(A), [unknown], 'contract: unknown')).resolves.toSatisfy(nothingRemoved);
    });

    it("two clusters' agents are kept apart, even for the same job id", async () => {
      const inA = await launch(A, 505);
      const inB = await launch(B, 505);
      expect(inA.ref).not.toBe(inB.ref);
      expect((await backend.list(clusterOf(A))).map((a) => a.agentId)).toEqual([agentIdFor(A, 505)]);
      expect((await backend.list(clusterOf(B))).map((a) => a.agentId)).toEqual([agentIdFor(B, 505)]);
      await backend.stop(clusterOf(B), [inB], 'contract: stop B');
      expect((await backend.list(clusterOf(A))).map((a) => a.agentId)).toEqual([agentIdFor(A, 505)]);
      expect(await backend.list(clusterOf(B))).toEqual([]);
    });

    it('inspect describes a launched agent and answers undefined for an unknown one', async () => {
      const agent = await launch(A, 506);
      const details = await backend.inspect(clusterOf(A), agent.agentId);
      expect(details?.agent).toMatchObject({ agentId: agent.agentId, jobId: 506, clusterId: A });
      expect(details?.containers.length).toBeGreaterThan(0);
      expect(JSON.stringify(details)).not.toMatch(/key-[a-z0-9]+/);
      expect(await backend.inspect(clusterOf(A), agentIdFor(A, 598))).toBeUndefined();
    });
  });
});
