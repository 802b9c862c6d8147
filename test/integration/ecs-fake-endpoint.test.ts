import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { createEcsClient } from '../../src/backends/ecs/ecs-clients.js';
import { startedByFor } from '../../src/backends/ecs/run-task-input.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { job } from '../support/gocd-bodies.js';

// The real ECSClient (retries, idempotency tokens, paginators) against the loopback ECS endpoint, reached the way
// operators would: through AWS_ENDPOINT_URL_ECS and the standard credential/region variables.
const logger = pino({ level: 'silent' });
const fake = new FakeEcs();
const saved: Record<string, string | undefined> = {};
const props = {
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'fake',
  cluster: 'ci-agents',
  max_agents: '100',
};
const cluster = parseClusterProfile(props);
const PROFILE = { image: 'agent:1' };

beforeAll(async () => {
  await fake.start();
  const env = {
    AWS_ENDPOINT_URL_ECS: fake.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fake.stop();
});
beforeEach(() => {
  fake.throttleRate = 0;
  fake.latencyMs = 0;
});

function newBackend(retryMode?: 'standard' | 'adaptive'): EcsBackend {
  return new EcsBackend(createEcsClient(cluster, { retryMode }), { logger, missingRetryDelaysMs: [50, 100] });
}

function service(backend = newBackend()): AgentService {
  return new AgentService({ backends: { forCluster: async () => backend }, activity: new ActivityLog(), logger });
}

const tasksOfJob = (jobId: number) =>
  fake
    .liveTasks('ci-agents')
    .filter((t) => t.tags.some((x) => x.key === 'gocd-agent-scaler:job-id' && x.value === String(jobId)));

describe('ECS backend against the loopback ECS endpoint', () => {
  it('reaches the endpoint through AWS_ENDPOINT_URL_ECS (no endpoint in code)', async () => {
    fake.resetCounts();
    await newBackend().list(cluster);
    expect(fake.count('ListTasks')).toBe(1);
  });

  it('50 concurrent launches for one job (a fresh auto-register key each) start exactly one task', async () => {
    const backend = newBackend();
    const profile = parseElasticProfile(PROFILE);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        backend.launch({
          agentId: agentIdFor('fake', 500),
          job: job(500),
          cluster,
          profile,
          jobEnv: { GO_EA_AUTO_REGISTER_KEY: `k${i}` },
        }),
      ),
    );
    expect(tasksOfJob(500)).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'launched')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'existing')).toHaveLength(49);
  });

  it('with 30% ThrottlingException on every call, every job still gets exactly one agent and nothing leaks', async () => {
    fake.throttleRate = 0.3;
    fake.resetCounts();
    // Standard retries here: under a fixed 30% random throttle the adaptive limiter (the production default, used by
    // the other tests) slows the client to ~1.5 calls/s; what is under test is correctness, not pace.
    const agents = service(newBackend('standard'));
    const jobs = Array.from({ length: 20 }, (_, i) => 600 + i);
    // GoCD re-sends create-agent for a starving job (every 2 minutes) from 5 threads; here: rounds of concurrent
    // re-sends until every job has an agent, bounded.
    for (let round = 0; round < 6 && jobs.some((j) => tasksOfJob(j).length === 0); round++) {
      await Promise.all(
        jobs.flatMap((j) =>
          [0, 1].map(() =>
            agents.createAgent({
              autoRegisterKey: `key-${j}-${Math.random()}`,
              job: job(j),
              clusterProperties: props,
              profileProperties: PROFILE,
            }),
          ),
        ),
      );
    }
    expect(fake.throttled).toBeGreaterThan(10);
    for (const j of jobs) expect(tasksOfJob(j), `job ${j}`).toHaveLength(1);
    fake.throttleRate = 0;
    const listed = await newBackend().list(cluster);
    expect(listed.filter((a) => a.jobId >= 600 && a.jobId < 620)).toHaveLength(20);
  }, 120_000);

  it('a RESOURCE:MEMORY failure launches nothing and is reported; a later create-agent launches', async () => {
    const activity = new ActivityLog();
    const agents = new AgentService({ backends: { forCluster: async () => newBackend() }, activity, logger });
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
    // The next create-agent (another key): token of attempt 0 → Conflict with no task → attempt 1 launches.
    const second = await agents.createAgent({
      autoRegisterKey: 'b',
      job: job(700),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    expect(second.kind).toBe('launched');
    expect(tasksOfJob(700)).toHaveLength(1);
  });

  it('a task ECS does not yet describe right after RunTask (MISSING) is not launched twice', async () => {
    const backend = newBackend();
    const profile = parseElasticProfile(PROFILE);
    fake.hideNewTasks(2);
    const first = await backend.launch({
      agentId: agentIdFor('fake', 800),
      job: job(800),
      cluster,
      profile,
      jobEnv: { GO_EA_AUTO_REGISTER_KEY: 'one' },
    });
    fake.hideNewTasks(0);
    const second = await backend.launch({
      agentId: agentIdFor('fake', 800),
      job: job(800),
      cluster,
      profile,
      jobEnv: { GO_EA_AUTO_REGISTER_KEY: 'two' },
    });
    expect(first.kind).toBe('launched');
    expect(second.kind).toBe('existing');
    expect(tasksOfJob(800)).toHaveLength(1);
  });

  it('lists 1,000 tasks with at most 2·⌈N/100⌉ read calls', async () => {
    const big = parseClusterProfile({ ...props, cluster_id: 'big', cluster: 'big-cluster' });
    fake.seedTasks(1000, {
      cluster: 'big-cluster',
      startedBy: startedByFor('big'),
      tags: (i) => [
        { key: 'gocd-agent-scaler:agent-id', value: agentIdFor('big', i) },
        { key: 'gocd-agent-scaler:job-id', value: String(i) },
        { key: 'gocd-agent-scaler:cluster-id', value: 'big' },
      ],
    });
    fake.resetCounts();
    const listed = await new EcsBackend(createEcsClient(big), { logger }).list(big);
    expect(listed).toHaveLength(1000);
    expect(fake.count('ListTasks', 'DescribeTasks')).toBeLessThanOrEqual(20);
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
    fake.stopOutOfBand(t!.taskArn);
    expect((await backend.list(cluster)).some((a) => a.jobId === 900)).toBe(false);
    const id = agentIdFor('fake', 900);
    const actions = await agents.serverPing(
      [props],
      [{ agent_id: id, agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' }],
    );
    expect(actions.delete).toContain(id);
  });

  it('job-completion stops the task; StopTask removes its tags', async () => {
    const agents = service();
    await agents.createAgent({
      autoRegisterKey: 'k',
      job: job(950),
      clusterProperties: props,
      profileProperties: PROFILE,
    });
    const [t] = tasksOfJob(950);
    const actions = await agents.jobCompleted({
      elasticAgentId: agentIdFor('fake', 950),
      job: job(950),
      clusterProperties: props,
    });
    expect(actions).toEqual({ disable: [agentIdFor('fake', 950)], delete: [agentIdFor('fake', 950)] });
    expect(fake.tasks.get(t!.taskArn)).toMatchObject({
      lastStatus: 'STOPPED',
      stoppedReason: 'GoCD job app/7/test/1/build completed',
      tags: [],
    });
  });
});
