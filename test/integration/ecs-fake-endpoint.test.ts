import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { createEcsClient } from '../../src/backends/ecs/ecs-clients.js';
import type { EcsClusterProfile, EcsLaunchRequest } from '../../src/backends/ecs/ecs-profiles.js';
import { startedByFor } from '../../src/backends/ecs/run-task-input.js';
import { taskDefinitionFamily } from '../../src/backends/ecs/task-definition.js';
import { createBackendProvider } from '../../src/main/composition.js';
import { ECS_SETUPS, type EcsSetup, fakeClusterOf } from '../support/ecs-setups.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { useFakeEcs } from '../support/fake-ecs/use-fake-ecs.js';
import { job } from '../support/gocd-bodies.js';
import {
  type EdgeService,
  ecsCluster as parseClusterProfile,
  ecsProfile as parseElasticProfile,
  profiles,
  viaEdge,
} from '../support/profiles.js';

// The real ECSClient (signing, retries, idempotency tokens, paginators) against the strict loopback ECS endpoint
// (service-model validation, linked-field rules, ECS's throttling buckets), reached the way operators configure it:
// AWS_ENDPOINT_URL_ECS plus the standard credential and region variables, for every launch set-up (EC2 bridge and
// awsvpc, Fargate, Fargate Spot through its capacity provider, EXTERNAL). Clients use the production retry
// configuration (createEcsClient's defaults).
const logger = pino({ level: 'silent' });
describe.each(ECS_SETUPS)('ECS backend against the strict loopback ECS endpoint: $name', (setup: EcsSetup) => {
  const ecsCluster = `ci-${setup.id}`;
  const clusterId = `f-${setup.id}`;
  const props = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: clusterId,
    cluster: ecsCluster,
    max_agents: '100',
    allow_privileged: 'true',
    allow_socket_mount: 'true',
    ...setup.props,
  };
  const cluster = parseClusterProfile(props);
  const PROFILE = { image: 'agent:1' };
  // One endpoint per set-up: its own account and Region, so ECS's throttling buckets are its own too.
  const fake = new FakeEcs({ clusters: [fakeClusterOf(setup, 'ci'), fakeClusterOf(setup, 'big')] });
  useFakeEcs(fake);
  beforeEach(() => {
    fake.throttleRate = 0;
    fake.latencyMs = 0;
    fake.hideNewTasks(0);
  });

  function newBackend(): EcsBackend {
    return new EcsBackend(createEcsClient(cluster), { logger, missingRetryDelaysMs: [50, 100] });
  }

  function service(backend = newBackend(), activity = new ActivityLog()): EdgeService {
    return viaEdge(new AgentService({ profiles, backends: { forCluster: async () => backend }, activity, logger }));
  }

  function launchRequest(jobId: number, key: string, profileProps: Record<string, string> = PROFILE): EcsLaunchRequest {
    return {
      agentId: agentIdFor(clusterId, jobId),
      job: job(jobId),
      cluster,
      profile: parseElasticProfile(profileProps),
      jobEnv: { GO_EA_AUTO_REGISTER_KEY: key, GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: agentIdFor(clusterId, jobId) },
    };
  }

  const tasksOfJob = (jobId: number) =>
    fake
      .liveTasks(ecsCluster)
      .filter((t) => t.tags.some((x) => x.key === 'gocd-agent-scaler:job-id' && x.value === String(jobId)));

  it('reaches the endpoint through AWS_ENDPOINT_URL_ECS, signed, with no endpoint in code', async () => {
    fake.resetCounts();
    await newBackend().list(cluster);
    expect(fake.served('ListTasks')).toBe(1);
    // The provider the service uses builds one backend (one client) per (region, role), the same way.
    const provider = createBackendProvider(logger, profiles, false);
    expect(await provider.forCluster(cluster)).toBe(await provider.forCluster({ ...cluster, clusterId: 'other' }));
    const otherRegion: EcsClusterProfile = { ...cluster, region: 'eu-west-1' };
    expect(await provider.forCluster(cluster)).not.toBe(await provider.forCluster(otherRegion));
    await (await provider.forCluster(cluster)).list(cluster);
    expect(fake.served('ListTasks')).toBe(2);
  });

  it(`runs tasks as the set-up says: ${JSON.stringify(setup.expect)}`, async () => {
    expect((await newBackend().launch(launchRequest(90, 'k'))).kind).toBe('launched');
    const [task] = tasksOfJob(90);
    if (setup.expect.launchType) expect(task!.launchType).toBe(setup.expect.launchType);
    else expect(task!.launchType).toBeUndefined();
    expect(task!.capacityProviderName).toBe(setup.expect.capacityProviderName);
    const [definition] = fake.revisions(taskDefinitionFamily(cluster, parseElasticProfile(PROFILE)));
    expect(definition!.networkMode).toBe(setup.expect.networkMode);
    // Every request passed the service-model validation (the endpoint refuses the rest).
    expect(fake.modelValidation).toBe(true);
  });

  it('registers and runs a task definition ECS accepts for each docker mode, reused across jobs and restarts', async () => {
    for (const [i, mode] of setup.dockerModes.entries()) {
      const profileProps = { image: 'agent:1', docker_mode: mode };
      const outcome = await newBackend().launch(launchRequest(100 + i, 'k', profileProps));
      expect(outcome.kind, mode).toBe('launched');
      // A second job and a fresh backend (a restart, a new Lambda container) reuse the registered revision.
      expect((await newBackend().launch(launchRequest(110 + i, 'k', profileProps))).kind).toBe('launched');
      const family = taskDefinitionFamily(cluster, parseElasticProfile(profileProps));
      expect(fake.revisions(family), mode).toHaveLength(1);
    }
    if (setup.dockerModes.includes('socket')) {
      const [socketTask] = tasksOfJob(103);
      expect(socketTask!.group).toBe('gocd-agent-scaler-socket');
      expect(socketTask!.containers.map((c) => c.name)).toEqual(['agent', 'janitor']);
      expect(tasksOfJob(102)[0]!.containers.map((c) => c.name)).toEqual(['agent', 'dind']);
    }
  });

  it('lists a new task as pending until ECS reports it RUNNING', async () => {
    const backend = newBackend();
    await backend.launch(launchRequest(150, 'k'));
    const [t] = tasksOfJob(150);
    expect(t!.lastStatus).toBe('PROVISIONING');
    expect((await backend.list(cluster)).find((a) => a.jobId === 150)?.status).toBe('pending');
    while (fake.advanceTasks((x) => x.taskArn === t!.taskArn) > 0);
    expect((await backend.list(cluster)).find((a) => a.jobId === 150)).toMatchObject({
      status: 'running',
      startedAt: expect.any(Date),
    });
  });

  it('50 concurrent launches for one job (a fresh auto-register key each) start exactly one task', async () => {
    const backend = newBackend();
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => backend.launch(launchRequest(500, `k${i}`))),
    );
    expect(tasksOfJob(500)).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'launched')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'existing')).toHaveLength(49);
    // …and from 5 separate processes (no shared memory), still one.
    const separate = await Promise.all(
      Array.from({ length: 5 }, (_, i) => newBackend().launch(launchRequest(501, `p${i}`))),
    );
    expect(tasksOfJob(501)).toHaveLength(1);
    expect(separate.filter((o) => o.kind === 'launched')).toHaveLength(1);
  });

  it('with 30% ThrottlingException on every call, 20 jobs each get exactly one agent and nothing leaks', async () => {
    fake.throttleRate = 0.3;
    fake.resetCounts();
    const agents = service();
    const jobs = Array.from({ length: 20 }, (_, i) => 600 + i);
    // GoCD re-sends create-agent for a starving job (every 2 minutes, from several threads); here: rounds of
    // concurrent re-sends (3 per job, each with its own key) until every job has an agent, bounded.
    let rounds = 0;
    for (; rounds < 5 && jobs.some((j) => tasksOfJob(j).length === 0); rounds++) {
      await Promise.all(
        jobs.flatMap((j) =>
          [0, 1, 2].map((k) =>
            agents.createAgent({
              autoRegisterKey: `key-${j}-${rounds}-${k}`,
              job: job(j),
              clusterProperties: props,
              profileProperties: PROFILE,
            }),
          ),
        ),
      );
    }
    expect(fake.throttled).toBeGreaterThan(5);
    for (const j of jobs) expect(tasksOfJob(j), `job ${j}`).toHaveLength(1);
    // Every task ECS started carries its job's tags, so a listing finds them all: none leaked untracked.
    const started = fake.liveTasks(ecsCluster).filter((t) => t.clientToken && jobs.includes(jobOf(t.tags)));
    expect(started).toHaveLength(20);
    fake.throttleRate = 0;
    const listed = await newBackend().list(cluster);
    expect(listed.filter((a) => (a.jobId ?? -1) >= 600 && (a.jobId ?? -1) < 620)).toHaveLength(20);
  }, 120_000);

  it('a RESOURCE:MEMORY failure launches nothing and is reported; a later create-agent launches', async () => {
    const activity = new ActivityLog();
    const agents = service(newBackend(), activity);
    fake.failNextRunTask({ reason: 'RESOURCE:MEMORY', detail: 'no instance has 2048 MiB' });
    const first = await agents.createAgent({
      autoRegisterKey: 'a',
      job: job(700),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    expect(first).toMatchObject({ kind: 'failed', reason: 'RESOURCE:MEMORY' });
    expect(tasksOfJob(700)).toHaveLength(0);
    expect(activity.waitingJobs()[0]?.reason).toContain('RESOURCE:MEMORY');
    // The next create-agent (another key): attempt 0's token → Conflict with no task → attempt 1 launches.
    const second = await agents.createAgent({
      autoRegisterKey: 'b',
      job: job(700),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    expect(second.kind).toBe('launched');
    expect(tasksOfJob(700)).toHaveLength(1);
  });

  it('a task ECS does not yet describe right after RunTask (MISSING) is not launched twice, even by another process', async () => {
    fake.hideNewTasks(2);
    const first = await newBackend().launch(launchRequest(800, 'one'));
    fake.hideNewTasks(0);
    // Another process: no memory of the launch; its re-describe after a short delay finds the task.
    const second = await newBackend().launch(launchRequest(800, 'two'));
    expect(first.kind).toBe('launched');
    expect(second.kind).toBe('existing');
    expect(tasksOfJob(800)).toHaveLength(1);
  });

  it('lists 1,000 tasks with at most 2·⌈N/100⌉ read calls', async () => {
    const bigId = `b-${setup.id}`;
    const big = parseClusterProfile({ ...props, cluster_id: bigId, cluster: `big-${setup.id}` });
    fake.seedTasks(1000, {
      cluster: `big-${setup.id}`,
      startedBy: startedByFor(bigId),
      tags: (i) => [
        { key: 'gocd-agent-scaler:agent-id', value: agentIdFor(bigId, i) },
        { key: 'gocd-agent-scaler:job-id', value: String(i) },
        { key: 'gocd-agent-scaler:cluster-id', value: bigId },
      ],
    });
    fake.resetCounts();
    const listed = await new EcsBackend(createEcsClient(big), { logger }).list(big);
    expect(listed).toHaveLength(1000);
    expect(new Set(listed.map((a) => a.agentId)).size).toBe(1000);
    expect(fake.served('ListTasks')).toBe(10);
    expect(fake.served('DescribeTasks')).toBe(10);
    expect(fake.served()).toBe(20);
  });

  it('a throttled listing that runs out of retries fails as a whole instead of returning fewer agents', async () => {
    fake.throttleRate = 1;
    fake.throttleOps = ['DescribeTasks'];
    fake.resetCounts();
    try {
      // Two attempts per call keep the test short; production clients make six.
      const backend = new EcsBackend(createEcsClient(cluster, { maxAttempts: 2 }), { logger });
      await expect(backend.list(cluster)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
      expect(fake.count('DescribeTasks')).toBeGreaterThanOrEqual(2);
    } finally {
      fake.throttleOps = undefined;
    }
  });

  it('a task stopped behind our back (spot interruption) leaves the listing, and server-ping deletes its Building agent', async () => {
    const backend = newBackend();
    const agents = service(backend);
    await agents.createAgent({
      autoRegisterKey: 'k',
      job: job(900),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    const [t] = tasksOfJob(900);
    expect((await backend.list(cluster)).some((a) => a.jobId === 900)).toBe(true);
    fake.stopOutOfBand(t!.taskArn);
    expect((await backend.list(cluster)).some((a) => a.jobId === 900)).toBe(false);
    const id = agentIdFor(clusterId, 900);
    const actions = await agents.serverPing(
      [props],
      [{ agent_id: id, agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' }],
    );
    expect(actions.delete).toContain(id);
  });

  it('job-completion stops the task with a reason naming the job; StopTask removes its tags', async () => {
    const agents = service();
    await agents.createAgent({
      autoRegisterKey: 'k',
      job: job(950),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    const [t] = tasksOfJob(950);
    const actions = await agents.jobCompleted({
      elasticAgentId: agentIdFor(clusterId, 950),
      job: job(950),
      clusterProperties: props,
    });
    expect(actions).toEqual({ disable: [agentIdFor(clusterId, 950)], delete: [agentIdFor(clusterId, 950)] });
    // StopTask answers while the task is STOPPING; it reaches STOPPED once its containers are down.
    expect(fake.tasks.get(t!.taskArn)).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'STOPPING' });
    fake.finishStops();
    expect(fake.tasks.get(t!.taskArn)).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'GoCD job app/7/test/1/build completed',
      tags: [],
    });
    // Stopping it again (a repeated job-completion) is not an error.
    await newBackend().stop(
      cluster,
      [
        {
          agentId: 'x',
          jobId: 950,
          clusterId,
          pipeline: '',
          ref: t!.taskArn,
          status: 'stopped',
          createdAt: new Date(),
        },
      ],
      'again',
    );
  });
});

function jobOf(tags: { key: string; value: string }[]): number {
  return Number(tags.find((t) => t.key === 'gocd-agent-scaler:job-id')?.value);
}
