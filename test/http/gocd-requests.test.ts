import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { NO_PLUGIN_SETTINGS } from '../../src/gocd/handlers/plugin-info.handlers.js';
import { CLUSTER, createAgentBody, fixture, job, PROFILE, statusReportFixtures } from '../support/gocd-bodies.js';
import { sample } from '../support/metric-sample.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function post(name: string, body?: unknown, headers: Record<string, string> = t.auth) {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return t.app.inject({ method: 'POST', url: `/gocd/requests/${name}`, headers, payload });
}

describe('plugin-load requests (no body)', () => {
  it('answers get-icon with a base64 SVG', async () => {
    const res = await post('cd.go.elastic-agent.get-icon');
    expect(res.statusCode).toBe(200);
    const icon = res.json();
    expect(icon.content_type).toBe('image/svg+xml');
    expect(Buffer.from(icon.data, 'base64').toString()).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });

  it('answers get-capabilities with all three status reports supported', async () => {
    expect((await post('cd.go.elastic-agent.get-capabilities')).json()).toEqual({
      supports_plugin_status_report: true,
      supports_cluster_status_report: true,
      supports_agent_status_report: true,
    });
  });

  it.each([
    [
      'cd.go.elastic-agent.get-elastic-agent-profile-metadata',
      'image',
      ['image', 'cpu', 'memory', 'docker_mode', 'capabilities', 'task_definition'],
    ],
    [
      'cd.go.elastic-agent.get-cluster-profile-metadata',
      'go_server_url',
      [
        'go_server_url',
        'backend',
        'cluster_id',
        'cluster',
        'launch_type',
        'max_agents',
        'allow_privileged',
        'allow_socket_mount',
      ],
    ],
  ])('answers %s with every DESIGN.md key', async (name, requiredKey, keys) => {
    const list = (await post(name)).json() as { key: string; metadata: { required: boolean; secure: boolean } }[];
    expect(list.map((m) => m.key)).toEqual(expect.arrayContaining(keys));
    expect(list.find((m) => m.key === requiredKey)?.metadata).toEqual({ required: true, secure: false });
    expect(list.filter((m) => m.metadata.required)).toHaveLength(1);
  });

  it.each([
    [
      'cd.go.elastic-agent.get-elastic-agent-profile-view',
      ['image', 'docker_mode', 'capabilities'],
      '<option value="sidecar">sidecar</option>',
    ],
    [
      'cd.go.elastic-agent.get-cluster-profile-view',
      ['go_server_url', 'cluster', 'max_agents', 'allow_socket_mount'],
      '<option value="FARGATE">FARGATE</option>',
    ],
  ])('answers %s with an HTML form binding each key for GoCD', async (name, keys, option) => {
    const { template } = (await post(name)).json() as { template: string };
    for (const key of keys) {
      expect(template).toContain(`ng-model="${key}"`);
      expect(template).toContain(`GOINPUTNAME[${key}].$error.server`);
    }
    expect(template).toContain(option);
  });

  it('accepts an empty body sent with a JSON content type, and no content type at all', async () => {
    expect((await post('cd.go.elastic-agent.get-capabilities', '', t.auth)).statusCode).toBe(200);
    expect(
      (await post('cd.go.elastic-agent.get-capabilities', undefined, { authorization: t.auth.authorization! }))
        .statusCode,
    ).toBe(200);
  });

  it.each(['go.plugin-settings.get-configuration', 'go.plugin-settings.get-view'])(
    'declines %s with a 404 naming why (v5 keeps settings in cluster profiles), not the {} GoCD cannot parse',
    async (name) => {
      const res = await post(name);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_SUPPORTED', message: NO_PLUGIN_SETTINGS });
    },
  );
});

describe('profile validation', () => {
  it('answers [] for a valid profile, even with the nulls GoCD sends', async () => {
    const res = await post('cd.go.elastic-agent.validate-elastic-agent-profile', {
      image: 'i',
      cpu: null,
      docker_mode: null,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([]);
  });

  it('answers useful messages: missing image, bad numbers, unknown docker_mode, unknown keys', async () => {
    const res = await post('cd.go.elastic-agent.validate-elastic-agent-profile', {
      image: null,
      memory: '1.5G',
      docker_mode: 'dind',
      MaxMemory: '2G',
    });
    expect(res.json()).toEqual(
      expect.arrayContaining([
        { key: 'image', message: 'image must not be blank' },
        { key: 'memory', message: "memory must be a whole number, got '1.5G'" },
        { key: 'docker_mode', message: expect.stringContaining("got 'dind'") },
        { key: 'MaxMemory', message: expect.stringContaining("unknown property 'MaxMemory'") },
      ]),
    );
  });

  it('validates cluster profiles', async () => {
    expect((await post('cd.go.elastic-agent.validate-cluster-profile', CLUSTER)).json()).toEqual([]);
    const res = await post('cd.go.elastic-agent.validate-cluster-profile', {
      go_server_url: 'gocd',
      max_agents: 'many',
    });
    expect(
      res
        .json()
        .map((p: { key: string }) => p.key)
        .sort(),
    ).toEqual(['go_server_url', 'max_agents']);
  });

  it('shows ECS’s linked-field rules in GoCD’s form: each profile on its own, as GoCD sends it', async () => {
    const cluster = await post('cd.go.elastic-agent.validate-cluster-profile', {
      go_server_url: 'https://gocd.example.com/go',
      cluster: 'ci',
      capacity_provider: 'FARGATE_SPOT',
      assign_public_ip: null,
      log_group: '/gocd',
    });
    expect(cluster.json()).toEqual([
      { key: 'subnets', message: 'capacity_provider FARGATE_SPOT runs tasks in awsvpc mode, which needs subnets' },
      { key: 'execution_role_arn', message: expect.stringContaining('awslogs driver, which needs execution_role_arn') },
    ]);
    const profile = await post('cd.go.elastic-agent.validate-elastic-agent-profile', {
      image: 'gocd/agent:1',
      enable_execute_command: 'true',
      task_role_arn: null,
    });
    expect(profile.json()).toEqual([
      { key: 'task_role_arn', message: expect.stringContaining('enable_execute_command needs a task role') },
    ]);
  });
});

describe('migrate-config and cluster-profile-changed', () => {
  it('echoes the profiles of the real GoCD body', async () => {
    const body = fixture('migrate-config.json');
    const res = await post('cd.go.elastic-agent.migrate-config', body);
    expect(res.statusCode).toBe(200);
    const reply = res.json();
    expect(reply.cluster_profiles).toEqual(body.cluster_profiles);
    expect(reply.elastic_agent_profiles).toEqual(body.elastic_agent_profiles);
  });

  it.each(['created', 'updated', 'deleted'])('acknowledges cluster-profile-changed (%s)', async (status) => {
    const res = await post('cd.go.elastic-agent.cluster-profile-changed', {
      status,
      cluster_profiles_properties: { key1: 'key2' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('create-agent', () => {
  it('launches one agent with the GO_EA_* environment and answers 200', async () => {
    const body = createAgentBody(42);
    const res = await post('cd.go.elastic-agent.create-agent', body);
    expect(res.statusCode).toBe(200);
    expect(t.backend.agents).toHaveLength(1);
    const launched = t.backend.agents[0]!;
    expect(launched.agentId).toBe(agentIdFor('test', 42));
    expect(launched.agentId).toMatch(/^ea-42-[0-9a-f]{8}$/);
    expect(launched.env).toEqual({
      FOO: 'bar',
      GO_EA_SERVER_URL: 'https://gocd.example.com/go',
      GO_EA_AUTO_REGISTER_KEY: body.auto_register_key,
      GO_EA_AUTO_REGISTER_ENVIRONMENT: 'prod',
      GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: launched.agentId,
      GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID: 'gocd-agent-scaler',
    });
  });

  it('leaves GO_EA_AUTO_REGISTER_ENVIRONMENT out when the job has no environment', async () => {
    const body = createAgentBody(43);
    delete body.environment;
    await post('cd.go.elastic-agent.create-agent', body);
    expect(t.backend.agents[0]?.env).not.toHaveProperty('GO_EA_AUTO_REGISTER_ENVIRONMENT');
  });

  it('launches nothing for a job that already has a live agent (GoCD re-sends every 2 minutes)', async () => {
    await post('cd.go.elastic-agent.create-agent', createAgentBody(44));
    await post('cd.go.elastic-agent.create-agent', createAgentBody(44));
    expect(t.backend.agents).toHaveLength(1);
    expect(t.backend.launches).toHaveLength(1);
  });

  it('launches nothing over max_agents and reports the waiting job in the cluster status report', async () => {
    for (const id of [1, 2, 3, 4])
      expect((await post('cd.go.elastic-agent.create-agent', createAgentBody(id))).statusCode).toBe(200);
    expect(t.backend.agents.map((a) => a.jobId)).toEqual([1, 2, 3]);
    const report = (
      await post('cd.go.elastic-agent.cluster-status-report', { cluster_profile_properties: CLUSTER })
    ).json();
    expect(report.view).toContain('max_agents (3) reached');
    expect(report.view).toContain('app/7/test/1/build');
  });

  it('refuses a Docker mode the cluster does not allow, and a Docker mode on Fargate, without an error to GoCD', async () => {
    const res = await post(
      'cd.go.elastic-agent.create-agent',
      createAgentBody(5, { elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'socket' } }),
    );
    expect(res.statusCode).toBe(200);
    const fargate = {
      ...CLUSTER,
      cluster: 'ci',
      launch_type: 'FARGATE',
      subnets: 'subnet-1',
      allow_privileged: 'true',
    };
    await post(
      'cd.go.elastic-agent.create-agent',
      createAgentBody(6, {
        cluster_profile_properties: fargate,
        elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged' },
      }),
    );
    expect(t.backend.launches).toHaveLength(0);
    const errors = t.activity.recent({ kinds: ['refused'] }).map((a) => a.message);
    expect(errors).toEqual([expect.stringContaining('Fargate'), expect.stringContaining('allow_socket_mount')]);
  });

  it("answers 200 for the real GoCD body whose profile uses another plugin's keys, and reports why nothing launched", async () => {
    const res = await post('cd.go.elastic-agent.create-agent', fixture('create-agent.json'));
    expect(res.statusCode).toBe(200);
    expect(t.backend.launches).toHaveLength(0);
    expect(t.activity.recent({ kinds: ['invalid-profile'] })[0]?.message).toMatch(/go_server_url must not be blank/);
  });

  it('rejects a body missing job_identifier with 400 naming the field, and launches nothing', async () => {
    const body = createAgentBody(7);
    delete body.job_identifier;
    const res = await post('cd.go.elastic-agent.create-agent', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('body/job_identifier'),
    });
    expect(t.backend.launches).toHaveLength(0);
  });

  it('rejects a job_id of the wrong type with 400 naming the field', async () => {
    const res = await post(
      'cd.go.elastic-agent.create-agent',
      createAgentBody(8, { job_identifier: { ...job(8), job_id: '8' } }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ path: 'body/job_identifier/job_id', message: 'must be integer' }]);
  });
});

describe('should-assign-work', () => {
  it('answers the bare literal true for the agent made for the job', async () => {
    const res = await post('cd.go.elastic-agent.should-assign-work', {
      agent: { agent_id: agentIdFor('test', 100) },
      cluster_profile_properties: CLUSTER,
      job_identifier: job(100),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('true');
  });

  it('answers false to an agent id with the right job id and a made-up hex part (a self-registered agent)', async () => {
    const real = agentIdFor('test', 100);
    for (const agentId of ['ea-100-0a1b2c3d', agentIdFor('another-cluster', 100), `${real.slice(0, -1)}0`]) {
      if (agentId === real) continue;
      const res = await post('cd.go.elastic-agent.should-assign-work', {
        agent: { agent_id: agentId },
        cluster_profile_properties: CLUSTER,
        job_identifier: job(100),
      });
      expect(res.body, agentId).toBe('false');
    }
  });

  it('answers false for the real GoCD body, another job, and garbage — never an error', async () => {
    expect((await post('cd.go.elastic-agent.should-assign-work', fixture('should-assign-work.json'))).body).toBe(
      'false',
    );
    expect(
      (
        await post('cd.go.elastic-agent.should-assign-work', {
          agent: { agent_id: agentIdFor('test', 100) },
          job_identifier: job(101),
        })
      ).body,
    ).toBe('false');
    for (const body of ['[]', '"x"', '42', '{"agent":null}']) {
      const res = await post('cd.go.elastic-agent.should-assign-work', body);
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('false');
    }
  });
});

describe('should-assign-work on its static route', () => {
  const COUNT = 'gocd_agent_scaler_http_request_duration_seconds_count';
  const mine = JSON.stringify({
    agent: { agent_id: agentIdFor('test', 7) },
    cluster_profile_properties: CLUSTER,
    job_identifier: job(7),
  });

  it('serves every spelling of the name (percent-encoded, with a query) from the static route, same answers', async () => {
    for (const url of [
      '/gocd/requests/cd.go.elastic-agent.should-assign-work',
      '/gocd/requests/cd.go.elastic-agent.should%2Dassign-work',
      '/gocd/requests/cd.go.elastic-agent.should-assign-wor%6B?x=1',
    ]) {
      const yes = await t.app.inject({ method: 'POST', url, headers: t.auth, payload: mine });
      const no = await t.app.inject({ method: 'POST', url, headers: t.auth, payload: '{not json' });
      expect([yes.statusCode, yes.body, no.statusCode, no.body]).toEqual([200, 'true', 200, 'false']);
      expect(yes.headers['content-type']).toMatch(/^application\/json/);
    }
    const text = await t.metrics.registry.metrics();
    expect(sample(text, COUNT, { route: '/gocd/requests/cd.go.elastic-agent.should-assign-work', status: '200' })).toBe(
      6,
    );
    expect(sample(text, COUNT, { route: '/gocd/requests/:requestName' })).toBeUndefined();
  });

  it('still needs the token (401, nothing read) and still refuses an oversize body with 413', async () => {
    const url = '/gocd/requests/cd.go.elastic-agent.should-assign-work';
    const noToken = await t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: mine,
    });
    expect(noToken.statusCode).toBe(401);
    const wrong = await t.app.inject({
      method: 'POST',
      url,
      headers: { ...t.auth, authorization: 'Bearer not-the-token' },
      payload: mine,
    });
    expect(wrong.statusCode).toBe(401);
    const big = JSON.stringify({ pad: 'x'.repeat(t.config.limits.bodyBytes) });
    expect((await t.app.inject({ method: 'POST', url, headers: t.auth, payload: big })).statusCode).toBe(413);
  });
});

describe('job-completion and server-ping', () => {
  it('stops the agent with a reason naming the job, and asks the forwarder to disable and delete it', async () => {
    await post('cd.go.elastic-agent.create-agent', createAgentBody(50));
    const agentId = agentIdFor('test', 50);
    const res = await post('cd.go.elastic-agent.job-completion', {
      elastic_agent_id: agentId,
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(50),
    });
    expect(res.json()).toMatchObject({ agent_actions: { disable: [agentId], delete: [agentId] } });
    expect(t.backend.stops).toEqual([{ agentId, reason: 'GoCD job app/7/test/1/build completed' }]);
  });

  it('answers the real GoCD job-completion body with 200 and no actions (its cluster profile is not ours)', async () => {
    const res = await post('cd.go.elastic-agent.job-completion', fixture('job-completion.json'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ agent_actions: { disable: [], delete: [] } });
  });

  it('answers the real GoCD server-ping body (no agents field: unknown) without touching anything', async () => {
    await post('cd.go.elastic-agent.create-agent', createAgentBody(60));
    const res = await post('cd.go.elastic-agent.server-ping', fixture('server-ping.json'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ agent_actions: { disable: [], delete: [] } });
    expect(t.backend.stops).toHaveLength(0);
  });

  it('deletes an agent GoCD lists that has no live task', async () => {
    const res = await post('cd.go.elastic-agent.server-ping', {
      all_cluster_profile_properties: [CLUSTER],
      agents: [
        { agent_id: 'ea-9-0000beef', agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' },
      ],
    });
    expect(res.json()).toMatchObject({ agent_actions: { disable: ['ea-9-0000beef'], delete: ['ea-9-0000beef'] } });
  });

  it('rejects a malformed agents list with 400', async () => {
    const res = await post('cd.go.elastic-agent.server-ping', {
      all_cluster_profile_properties: [CLUSTER],
      agents: [{ state: 'x' }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('agent_id');
  });
});

describe('status reports', () => {
  it('answers all three with a non-blank HTML view for the real GoCD bodies', async () => {
    const [byAgent, byJob, cluster, plugin] = statusReportFixtures();
    const names = ['agent-status-report', 'agent-status-report', 'cluster-status-report', 'plugin-status-report'];
    for (const [i, body] of [byAgent, byJob, cluster, plugin].entries()) {
      const res = await post(`cd.go.elastic-agent.${names[i]}`, body);
      expect(res.statusCode).toBe(200);
      expect(res.json().view).toMatch(/<div class="gas">[\s\S]+<\/div>$/);
    }
  });

  it('shows a running agent in the cluster report and its details in the agent report, with the key masked', async () => {
    const body = createAgentBody(70);
    await post('cd.go.elastic-agent.create-agent', body);
    const agentId = agentIdFor('test', 70);
    const cluster = (
      await post('cd.go.elastic-agent.plugin-status-report', { all_cluster_profiles_properties: [CLUSTER] })
    ).json().view;
    expect(cluster).toContain(agentId);
    expect(cluster).toContain('1 / 3 agents');
    const agent = (
      await post('cd.go.elastic-agent.agent-status-report', {
        cluster_profile_properties: CLUSTER,
        job_identifier: job(70),
      })
    ).json().view;
    expect(agent).toContain(agentId);
    expect(agent).toContain('GO_EA_SERVER_URL');
    expect(agent).not.toContain(String(body.auto_register_key));
  });
});

describe('auth and routing', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-0000000000' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
  ])('answers 401 with %s and launches nothing', async (_label, headers) => {
    const res = await post('cd.go.elastic-agent.create-agent', createAgentBody(90), {
      'content-type': 'application/json',
      ...headers,
    });
    expect(res.statusCode).toBe(401);
    expect(t.backend.launches).toHaveLength(0);
  });

  it('answers 401 before reading a malformed body', async () => {
    const res = await post('cd.go.elastic-agent.create-agent', '{not json', { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(401);
  });

  it('accepts the bearer scheme in any case', async () => {
    const res = await post('cd.go.elastic-agent.get-capabilities', '', { authorization: `bearer ${t.token}` });
    expect(res.statusCode).toBe(200);
  });

  it('answers 404 naming an unknown request name', async () => {
    const res = await post('cd.go.elastic-agent.make-coffee', {});
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain("'cd.go.elastic-agent.make-coffee'");
  });

  it('answers 400 for malformed JSON and 413 for an oversize body, never 5xx', async () => {
    expect((await post('cd.go.elastic-agent.create-agent', '{"auto_register_key": ')).statusCode).toBe(400);
    const big = JSON.stringify({ ...createAgentBody(91), pad: 'x'.repeat(1_100_000) });
    expect((await post('cd.go.elastic-agent.create-agent', big)).statusCode).toBe(413);
    expect(t.backend.launches).toHaveLength(0);
  });

  it('refuses prototype-pollution keys with 400', async () => {
    const res = await post('cd.go.elastic-agent.validate-cluster-profile', '{"__proto__": {"polluted": "yes"}}');
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('serves /healthz and /openapi.yaml without auth', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({
      status: 'ok',
      docker: 'unused',
    });
    const spec = await t.app.inject({ method: 'GET', url: '/openapi.yaml' });
    expect(spec.statusCode).toBe(200);
    expect(spec.body).toContain('openapi: 3.1.0');
  });
});

describe('logs', () => {
  it('never contain the forwarder token or an auto-register key', async () => {
    const body = createAgentBody(95);
    await post('cd.go.elastic-agent.create-agent', body);
    await post('cd.go.elastic-agent.create-agent', body, {
      authorization: 'Bearer guessed-token-000000',
      'content-type': 'application/json',
    });
    await post('cd.go.elastic-agent.server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [] });
    const all = t.logs.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [t.token, String(body.auto_register_key), 'guessed-token-000000'])
      expect(all).not.toContain(secret);
  });
});
