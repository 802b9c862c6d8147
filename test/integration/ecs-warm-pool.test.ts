import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';
import { parseConfig } from '../../src/config/config-text.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/main/composition.js';
import { VERSION } from '../../src/version.js';
import { ECS_SETUPS, type EcsSetup, fakeClusterOf } from '../support/ecs-setups.js';
import { FakeEcs, type FakeTask } from '../support/fake-ecs/fake-ecs-server.js';
import { job } from '../support/gocd-bodies.js';
import { gocdPoster } from '../support/gocd-inject.js';

// Warm pools through the real service (GoCD requests over HTTP, the process composition, the real ECS SDK) against
// the strict loopback ECS endpoint, for every launch set-up: the pool fills behind the first job, a job of the
// profile launches nothing of its own, a pool agent's job-completion stops its task like a job agent's, and a
// forwarder restart retires the pool agents named after the earlier instance.

const TOKEN = 'warm-pool-forwarder-token-0123456789';
// The service runs on the real clock: the fake's task times must be of now (a pool agent's age decides if it waits).
const t = Date.now();

const tagOf = (task: FakeTask, key: string) => task.tags.find((x) => x.key === key)?.value;

describe.each(ECS_SETUPS)('warm pools on ECS: $name', (setup: EcsSetup) => {
  const fake = new FakeEcs({ now: () => t, clusters: [fakeClusterOf(setup, 'warm')] });
  const cluster = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: `w-${setup.id}`,
    cluster: `warm-${setup.id}`,
    ...setup.props,
  };
  const profile = { image: 'gocd/gocd-agent-debian-12:v25.1.0', warm_pool_size: '2' };
  let app: FastifyInstance;
  let restoreEnv: () => void;

  beforeAll(async () => {
    await fake.start();
    restoreEnv = fake.useAsEnvironment();
    const { config } = parseConfig(`gocd: { forwarderToken: ${TOKEN} }\n`, 'warm', { env: {} });
    const logger = pino({ level: 'silent' });
    app = buildApp({
      config,
      logger,
      version: VERSION,
      ...(await createServices(config, logger, { withDocker: false })),
    });
  });
  afterAll(async () => {
    await app.close();
    await fake.stop();
    restoreEnv();
  });

  const post = gocdPoster(() => app, TOKEN);
  const gocd = async (name: string, body: unknown) => {
    const res = await post(name, body);
    expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
    return res.body;
  };
  const createAgent = (id: number) =>
    gocd('create-agent', {
      auto_register_key: 'ark',
      elastic_agent_profile_properties: profile,
      cluster_profile_properties: cluster,
      environment: 'prod',
      job_identifier: job(id),
    });
  const ping = async (instance: string, agents: unknown[]) =>
    JSON.parse(
      await gocd('server-ping', { all_cluster_profile_properties: [cluster], agents, forwarder_instance: instance }),
    ) as { agent_actions: { disable: string[]; delete: string[] } };
  const live = () => fake.liveTasks(`warm-${setup.id}`);
  const pool = () => live().filter((x) => tagOf(x, 'gocd-agent-scaler:warm-pool') !== undefined);
  const idle = (id: string) => ({ agent_id: id, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' });

  it('fills the pool behind the first job, gives the next job a pool agent without launching for it, and stops that agent at its job-completion', async () => {
    await ping('5f3a9c01', []);
    await createAgent(1);
    expect(live()).toHaveLength(3);
    expect(pool()).toHaveLength(2);
    for (const p of pool()) {
      const id = tagOf(p, 'gocd-agent-scaler:agent-id')!;
      expect(parsePoolAgentId(id)?.instance).toBe('5f3a9c01');
      expect(tagOf(p, 'gocd-agent-scaler:job-id')).toBeUndefined();
      expect(tagOf(p, 'gocd-agent-scaler:pipeline')).toBeUndefined();
      const overrides = p.overrides as { containerOverrides?: { environment?: unknown[] }[] } | undefined;
      expect(overrides?.containerOverrides?.[0]?.environment).toContainEqual({
        name: 'GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID',
        value: id,
      });
    }
    fake.advanceTasks();
    fake.advanceTasks();
    fake.advanceTasks();
    await createAgent(2);
    await createAgent(2); // GoCD's re-send
    expect(live().filter((x) => tagOf(x, 'gocd-agent-scaler:job-id') === '2')).toHaveLength(0);
    expect(pool()).toHaveLength(3); // one refill behind the held agent
    // GoCD gave job 2 to a pool agent (the forwarder decides; the service's own route knows no forwarder claims).
    const takenTask = pool()[0]!;
    const taken = tagOf(takenTask, 'gocd-agent-scaler:agent-id')!;
    const building = { ...idle(taken), agent_state: 'Building', build_state: 'Building' };
    expect((await ping('5f3a9c01', [building])).agent_actions).toEqual({ disable: [], delete: [] });
    const done = JSON.parse(
      await gocd('job-completion', {
        elastic_agent_id: taken,
        cluster_profile_properties: cluster,
        job_identifier: job(2),
        agents: [idle(taken)],
      }),
    );
    expect(done.agent_actions).toEqual({ disable: [taken], delete: [taken] });
    expect(fake.tasks.get(takenTask.taskArn)).toMatchObject({
      desiredStatus: 'STOPPED',
      stoppedReason: 'GoCD job app/7/test/1/build completed',
    });
    expect(pool().map((x) => tagOf(x, 'gocd-agent-scaler:agent-id'))).not.toContain(taken);
  });

  it('a forwarder restart retires the pool agents of its earlier instance and refills with agents of the new one', async () => {
    const old = pool().map((x) => tagOf(x, 'gocd-agent-scaler:agent-id')!);
    expect(old.length).toBeGreaterThan(0);
    const first = await ping('0badc0de', old.map(idle));
    expect(first.agent_actions.disable.sort()).toEqual([...old].sort());
    const fresh = pool().filter(
      (x) => parsePoolAgentId(tagOf(x, 'gocd-agent-scaler:agent-id')!)?.instance === '0badc0de',
    );
    expect(fresh).toHaveLength(2);
    const disabled = old.map((id) => ({ ...idle(id), config_state: 'Disabled' }));
    const second = await ping('0badc0de', disabled);
    expect(second.agent_actions.delete.sort()).toEqual([...old].sort());
    for (const id of old) expect(pool().map((x) => tagOf(x, 'gocd-agent-scaler:agent-id'))).not.toContain(id);
  });
});
