import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { jobPath } from '../../src/agents/job.js';
import { type ClusterProfile, parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { createEcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { createEcsClient } from '../../src/backends/ecs/ecs-clients.js';
import type { AgentBackend, LaunchRequest } from '../../src/backends/port.js';
import { cleanupRun, localDocker, runId } from '../support/docker-engine.js';
import { ensureTestImages, testImagePrereqs } from '../support/docker-images.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { job } from '../support/gocd-bodies.js';
import { dockerAvailable, requireService } from '../support/services.js';

/**
 * One backend under contract. `setup` builds the backend and whatever it needs (a real engine, a fake endpoint),
 * and returns cluster-profile properties for a given cluster id, elastic-profile properties that launch on it, and
 * a teardown that removes everything the suite created.
 */
interface ContractSubject {
  name: string;
  /** True when the suite can run here; call requireService inside so a skip is loud (and a failure under CI). */
  available: () => boolean;
  setup: () => Promise<{
    backend: AgentBackend;
    clusterProperties: (clusterId: string) => Record<string, string>;
    profileProperties: Record<string, string>;
    teardown: () => Promise<void>;
  }>;
}

const contractRun = runId('ctr');

/** The Docker backend against the local engine, with the locally built fake-agent image. */
const dockerSubject: ContractSubject = {
  name: 'Docker backend on a real engine',
  available: () =>
    requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
    requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? ''),
  setup: async () => {
    const images = await ensureTestImages();
    const backend = await createDockerBackend({}, pino({ level: 'silent' }), { stopSeconds: 1 });
    return {
      backend,
      clusterProperties: (clusterId) => ({ go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId }),
      profileProperties: { image: images.agent },
      teardown: () => cleanupRun(localDocker(), contractRun, [`${contractRun}a`, `${contractRun}b`]),
    };
  },
};

// ───────────────────────────────────────────────────────────────────────────────────────────────────────────────
// BACKENDS UNDER CONTRACT. Append an entry per backend (e.g. ECS against aws-sdk-client-mock or the loopback fake
// ECS endpoint in test/support/fake-ecs/). Cluster ids must come from the `clusterId` argument: the suite uses two
// to prove clusters are kept apart.
// ───────────────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The ECS backend with the real SDK (signing, retries, tokens, paging) against the loopback fake ECS endpoint,
 * reached through AWS_ENDPOINT_URL_ECS like an operator's override. Both cluster profiles share one ECS cluster, so
 * keeping them apart rests on `startedBy` and the tags.
 */
const ecsSubject: ContractSubject = {
  name: 'ECS backend on the loopback fake ECS endpoint',
  available: () => true,
  setup: async () => {
    const fake = await new FakeEcs().start();
    const saved = Object.fromEntries(Object.keys(fake.env()).map((k) => [k, process.env[k]]));
    Object.assign(process.env, fake.env());
    const client = createEcsClient({});
    const backend = createEcsBackend(client, { logger: pino({ level: 'silent' }) });
    return {
      backend,
      clusterProperties: (clusterId) => ({
        go_server_url: 'https://gocd.example.com/go',
        cluster_id: clusterId,
        cluster: 'contract',
      }),
      profileProperties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
      teardown: async () => {
        client.destroy();
        await fake.stop();
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      },
    };
  },
};

const CONTRACT_SUBJECTS: ContractSubject[] = [dockerSubject, ecsSubject];

describe.each(CONTRACT_SUBJECTS)('AgentBackend contract: $name', (subject) => {
  const ok = subject.available();
  const ids = { a: `${contractRun}a`, b: `${contractRun}b` };
  let ctx: Awaited<ReturnType<ContractSubject['setup']>>;
  let clusterA: ClusterProfile;
  let clusterB: ClusterProfile;

  function request(cluster: ClusterProfile, jobId: number): LaunchRequest {
    const agentId = agentIdFor(cluster.clusterId, jobId);
    return {
      agentId,
      job: job(jobId),
      cluster,
      profile: parseElasticProfile(ctx.profileProperties),
      jobEnv: {
        GO_EA_SERVER_URL: cluster.goServerUrl,
        GO_EA_AUTO_REGISTER_KEY: `key-${Math.random()}`,
        GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: agentId,
        GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID: 'gocd-agent-scaler',
      },
    };
  }

  async function launched(cluster: ClusterProfile, jobId: number) {
    const outcome = await ctx.backend.launch(request(cluster, jobId));
    if (outcome.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(outcome)}`);
    return outcome.agent;
  }

  /** Agents of a cluster that are not on their way out (a backend may list a stopping agent as `stopping`). */
  async function liveIds(cluster: ClusterProfile): Promise<string[]> {
    return (await ctx.backend.list(cluster)).filter((a) => a.status !== 'stopping').map((a) => a.agentId);
  }

  beforeAll(async () => {
    if (!ok) return;
    ctx = await subject.setup();
    clusterA = parseClusterProfile(ctx.clusterProperties(ids.a));
    clusterB = parseClusterProfile(ctx.clusterProperties(ids.b));
  });

  afterAll(async () => {
    if (ok) await ctx?.teardown();
  });

  it.skipIf(!ok)('a launched agent is listed with its agent id, job id, cluster id and pipeline', async () => {
    const agent = await launched(clusterA, 1);
    const expected = {
      agentId: agentIdFor(ids.a, 1),
      jobId: 1,
      clusterId: ids.a,
      pipeline: jobPath(job(1)),
    };
    expect(agent).toMatchObject(expected);
    const listed = (await ctx.backend.list(clusterA)).filter((a) => a.agentId === expected.agentId);
    expect(listed).toEqual([expect.objectContaining({ ...expected, ref: agent.ref })]);
    expect(['pending', 'running']).toContain(listed[0]?.status);
    expect(listed[0]?.createdAt).toBeInstanceOf(Date);
  });

  it.skipIf(!ok)('a second launch for the same job answers existing and starts nothing', async () => {
    const first = await launched(clusterA, 2);
    const again = await ctx.backend.launch(request(clusterA, 2));
    expect(again).toMatchObject({ kind: 'existing', agent: { agentId: first.agentId, ref: first.ref } });
    expect((await liveIds(clusterA)).filter((id) => id === first.agentId)).toHaveLength(1);
  });

  it.skipIf(!ok)('a stopped agent is no longer listed as pending or running', async () => {
    const agent = await launched(clusterA, 3);
    await ctx.backend.stop(clusterA, [agent], 'contract: stop');
    expect(await liveIds(clusterA)).not.toContain(agent.agentId);
  });

  it.skipIf(!ok)('stopping an already stopped or an unknown agent is not an error', async () => {
    const agent = await launched(clusterA, 4);
    await ctx.backend.stop(clusterA, [agent], 'contract: first');
    await expect(ctx.backend.stop(clusterA, [agent], 'contract: again')).resolves.toBeUndefined();
    const unknown = { ...agent, agentId: agentIdFor(ids.a, 999), jobId: 999, ref: 'unknown-ref' };
    await expect(ctx.backend.stop(clusterA, [unknown], 'contract: unknown')).resolves.toBeUndefined();
  });

  it.skipIf(!ok)('two clusters` agents are kept apart, even for the same job id', async () => {
    const a = await launched(clusterA, 5);
    const b = await launched(clusterB, 5);
    expect(a.agentId).not.toBe(b.agentId);
    const listA = await ctx.backend.list(clusterA);
    const listB = await ctx.backend.list(clusterB);
    expect(listA.every((x) => x.clusterId === ids.a)).toBe(true);
    expect(listB.map((x) => x.agentId)).toEqual([b.agentId]);
    await ctx.backend.stop(clusterB, [b], 'contract: one cluster');
    expect(await liveIds(clusterA)).toContain(a.agentId);
  });

  it.skipIf(!ok)(
    'inspect describes a launched agent with its auto-register key masked, and nothing for an unknown one',
    async () => {
      const agent = await launched(clusterA, 6);
      const details = await ctx.backend.inspect(clusterA, agent.agentId);
      expect(details?.agent).toMatchObject({ agentId: agent.agentId, jobId: 6, clusterId: ids.a });
      expect(details?.containers.length).toBeGreaterThan(0);
      const key = details?.environment.GO_EA_AUTO_REGISTER_KEY;
      if (key !== undefined) expect(key).not.toMatch(/^key-/);
      expect(await ctx.backend.inspect(clusterA, agentIdFor(ids.a, 998))).toBeUndefined();
    },
  );
});
