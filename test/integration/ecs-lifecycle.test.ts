import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { parseConfig } from '../../src/config/config-text.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/main/composition.js';
import { VERSION } from '../../src/version.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { ECS_SETUPS, type EcsSetup, fakeClusterOf } from '../support/ecs-setups.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { job } from '../support/gocd-bodies.js';

// A job's whole life through the real service (GoCD requests over HTTP, the process composition, the DynamoDB store
// on dynalite) against the strict loopback ECS endpoint, for every launch set-up: create-agent → PROVISIONING →
// RUNNING → should-assign-work → job-completion → STOPPING → STOPPED → MISSING after ECS's retention; and a
// create-agent for the finished job, re-sent after a restart once ECS forgot the client token (24 h), launches
// nothing: the job-completed mark is in the store.

const TOKEN = 'lifecycle-forwarder-token-0123456789';
let t = Date.parse('2026-12-01T00:00:00Z');
let db: Dynalite;
const saved: Record<string, string | undefined> = {};

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k];
    process.env[k] = v;
  }
}

beforeAll(async () => {
  db = await startDynalite();
  await db.createStoreTable('lifecycle');
  setEnv({ AWS_ENDPOINT_URL_DYNAMODB: db.endpoint });
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await db.close();
});

/** A fresh service process: its own memory, the shared store and ECS. */
async function startService(): Promise<FastifyInstance> {
  const { config } = parseConfig(
    `gocd: { forwarderToken: ${TOKEN} }\nstore: { type: dynamodb, tableName: lifecycle, region: us-east-1 }\n`,
    'lifecycle',
    { env: {} },
  );
  const logger = pino({ level: 'silent' });
  const services = await createServices(config, logger, { withDocker: false });
  return buildApp({ config, logger, version: VERSION, ...services });
}

describe.each(ECS_SETUPS)('a job’s lifecycle on ECS: $name', (setup: EcsSetup) => {
  const fake = new FakeEcs({ now: () => t, clusters: [fakeClusterOf(setup, 'life')] });
  const cluster = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: `l-${setup.id}`,
    cluster: `life-${setup.id}`,
    ...setup.props,
  };
  const profile = { image: 'gocd/gocd-agent-debian-12:v25.1.0' };
  const jobId = 4242;
  const agentId = agentIdFor(cluster.cluster_id, jobId);
  let app: FastifyInstance;

  beforeAll(async () => {
    await fake.start();
    setEnv(fake.env());
    app = await startService();
  });
  afterAll(async () => {
    await app.close();
    await fake.stop();
  });

  const gocd = async (name: string, body: unknown) => {
    const res = await app.inject({
      method: 'POST',
      url: `/gocd/requests/cd.go.elastic-agent.${name}`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
    return res.body;
  };
  const createAgent = (key: string, id = jobId) =>
    gocd('create-agent', {
      auto_register_key: key,
      elastic_agent_profile_properties: profile,
      cluster_profile_properties: cluster,
      environment: 'prod',
      job_identifier: job(id),
    });
  const tasks = () => [...fake.tasks.values()].filter((x) => x.clusterArn.endsWith(`/life-${setup.id}`));

  it('launches one task, reports it pending then running, assigns only its job, stops it at completion', async () => {
    await createAgent('ark-1');
    await createAgent('ark-2'); // GoCD's re-send: still one task
    expect(tasks()).toHaveLength(1);
    const [task] = tasks();
    expect(task!.lastStatus).toBe('PROVISIONING');
    const report = async () =>
      (JSON.parse(await gocd('cluster-status-report', { cluster_profile_properties: cluster })) as { view: string })
        .view;
    expect(await report()).toMatch(new RegExp(`${agentId}.*state-pending`));
    fake.advanceTasks();
    fake.advanceTasks();
    fake.advanceTasks();
    expect(task!.lastStatus).toBe('RUNNING');
    expect(await report()).toMatch(new RegExp(`${agentId}.*state-running`));
    const agent = { agent_id: agentId, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' };
    const assign = (id: number) =>
      gocd('should-assign-work', {
        agent,
        elastic_agent_profile_properties: profile,
        cluster_profile_properties: cluster,
        job_identifier: job(id),
      });
    expect(await assign(jobId)).toBe('true');
    expect(await assign(jobId + 1)).toBe('false');
    // A ping while it builds touches nothing.
    const building = { ...agent, agent_state: 'Building', build_state: 'Building' };
    expect(
      JSON.parse(await gocd('server-ping', { all_cluster_profile_properties: [cluster], agents: [building] })),
    ).toMatchObject({
      agent_actions: { disable: [], delete: [] },
    });
    const done = JSON.parse(
      await gocd('job-completion', {
        elastic_agent_id: agentId,
        cluster_profile_properties: cluster,
        job_identifier: job(jobId),
        agents: [agent],
      }),
    );
    expect(done).toMatchObject({ agent_actions: { disable: [agentId], delete: [agentId] } });
    expect(task).toMatchObject({
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPING',
      stoppedReason: 'GoCD job app/7/test/1/build completed',
    });
    t += 1_000;
    expect(fake.liveTasks(`life-${setup.id}`)).toEqual([]);
    expect(fake.tasks.get(task!.taskArn)?.lastStatus).toBe('STOPPED');
  });

  it('a stale create-agent for the finished job launches nothing, also after a restart once ECS forgot the token', async () => {
    await createAgent('ark-stale');
    expect(tasks()).toHaveLength(1);
    // A day later: the stopped task is gone from ECS (MISSING), the client token expired, this process restarted.
    t += 25 * 3_600_000;
    await app.close();
    app = await startService();
    await createAgent('ark-after-restart');
    expect(fake.liveTasks(`life-${setup.id}`)).toEqual([]);
    expect(tasks()).toHaveLength(0);
    // Another job still launches in the restarted process.
    await createAgent('ark-next', jobId + 1);
    expect(fake.liveTasks(`life-${setup.id}`)).toHaveLength(1);
  });
});
