import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { CLUSTER, createAgentBody, PROFILE } from '../support/gocd-bodies.js';
import { sample } from '../support/metric-sample.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const gocd = (name: string, body: unknown) => t.gocd(name, body);

describe('GET /metrics', () => {
  it('updates the agent gauge at every launch and stop, without waiting for a server-ping', async () => {
    const running = async () =>
      sample((await t.app.inject({ method: 'GET', url: '/metrics' })).body, 'gocd_agent_scaler_agents', {
        cluster_id: 'test',
        state: 'running',
        docker_mode: 'none',
      });
    await gocd('create-agent', createAgentBody(1));
    expect(await running()).toBe(1);
    await gocd('create-agent', createAgentBody(2));
    expect(await running()).toBe(2);
    await gocd('job-completion', {
      elastic_agent_id: agentIdFor('test', 1),
      cluster_profile_properties: CLUSTER,
      job_identifier: createAgentBody(1).job_identifier,
    });
    expect(await running()).toBe(1);
    t.backend.failLaunch = 'RESOURCE:MEMORY on instance i-123';
    await gocd('create-agent', createAgentBody(3));
    expect(await running(), 'a failed launch frees its reserved slot and adds no agent').toBe(1);
  });

  it("exposes prom-client's process metrics under the service's prefix (RSS, event-loop lag, open fds)", async () => {
    const withProcess = await createTestApp({ processMetrics: true });
    try {
      const text = (await withProcess.app.inject({ method: 'GET', url: '/metrics' })).body;
      for (const name of [
        'gocd_agent_scaler_process_resident_memory_bytes',
        'gocd_agent_scaler_process_open_fds',
        'gocd_agent_scaler_nodejs_heap_size_used_bytes',
      ])
        expect(sample(text, name, {}), name).toBeGreaterThan(0);
      // The lag is measured, possibly 0 on an idle loop: present and a number.
      expect(sample(text, 'gocd_agent_scaler_nodejs_eventloop_lag_seconds', {})).toBeGreaterThanOrEqual(0);
      expect(text).not.toMatch(/^# TYPE (?!gocd_agent_scaler_)/m);
    } finally {
      await withProcess.close();
    }
  });

  it('exposes prefixed metrics for launches, outcomes, agents by state and mode, reaping and latency', async () => {
    await gocd('create-agent', createAgentBody(1));
    await gocd('create-agent', createAgentBody(1));
    await gocd(
      'create-agent',
      createAgentBody(2, { elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'socket' } }),
    );
    t.backend.failLaunch = 'RESOURCE:MEMORY on instance i-123';
    await gocd('create-agent', createAgentBody(3));
    await gocd('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [] });
    await gocd('job-completion', {
      elastic_agent_id: agentIdFor('test', 1),
      cluster_profile_properties: CLUSTER,
      job_identifier: createAgentBody(1).job_identifier,
    });

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    const names = [
      ...new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('# TYPE'))
          .map((l) => l.split(' ')[2]),
      ),
    ];
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const n of names) expect(n).toMatch(/^gocd_agent_scaler_/);

    expect(
      sample(text, 'gocd_agent_scaler_create_agent_total', {
        cluster_id: 'test',
        outcome: 'launched',
        docker_mode: 'none',
      }),
    ).toBe(1);
    expect(sample(text, 'gocd_agent_scaler_create_agent_total', { cluster_id: 'test', outcome: 'existing' })).toBe(1);
    expect(
      sample(text, 'gocd_agent_scaler_create_agent_total', {
        cluster_id: 'test',
        outcome: 'refused',
        docker_mode: 'socket',
      }),
    ).toBe(1);
    expect(
      sample(text, 'gocd_agent_scaler_launch_failures_total', { cluster_id: 'test', reason: 'RESOURCE:MEMORY' }),
    ).toBe(1);
    // Job 1's agent was running at the server-ping and stopped by its job-completion after it: the gauge follows.
    expect(
      sample(text, 'gocd_agent_scaler_agents', { cluster_id: 'test', state: 'running', docker_mode: 'none' }),
    ).toBe(0);
    expect(sample(text, 'gocd_agent_scaler_agents_stopped_total', { cluster_id: 'test', rule: 'job-completed' })).toBe(
      1,
    );
    expect(
      sample(text, 'gocd_agent_scaler_http_request_duration_seconds_count', {
        route: '/gocd/requests/:requestName',
        status: '200',
      }),
    ).toBe(6);
  });
});

describe('GET /status', () => {
  it('needs the bearer token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(401);
  });

  it('says it has not heard from GoCD yet, then shows the clusters of the last server-ping', async () => {
    const before = await t.app.inject({
      method: 'GET',
      url: '/status',
      headers: { authorization: t.auth.authorization! },
    });
    expect(before.statusCode).toBe(200);
    expect(before.body).toContain('No server-ping from GoCD yet');
    await gocd('create-agent', createAgentBody(5));
    await gocd('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [] });
    const after = await t.app.inject({
      method: 'GET',
      url: '/status',
      headers: { authorization: t.auth.authorization! },
    });
    expect(after.headers['content-type']).toContain('text/html');
    expect(after.body).toContain(agentIdFor('test', 5));
    expect(after.body).toMatch(/^<!doctype html>/);
  });
});

describe('GET /docs', () => {
  it('renders every operation of openapi.yaml with no external assets', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    for (const path of ['/healthz', '/gocd/requests/{requestName}', '/metrics', '/status'])
      expect(res.body).toContain(`<code>${path}</code>`);
    expect(res.body).toContain('cd.go.elastic-agent.create-agent');
    expect(res.body).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
  });

  /** The rendered section of one operation. */
  async function section(operationId: string): Promise<string> {
    const body = (await t.app.inject({ method: 'GET', url: '/docs' })).body;
    const start = body.indexOf(`<section id="${operationId}">`);
    expect(start, operationId).toBeGreaterThanOrEqual(0);
    return body.slice(start, body.indexOf('</section>', start));
  }

  it('says what each route needs: nothing, a path token, a bearer token, or one of several credentials', async () => {
    expect(await section('getHealth')).toContain('No authentication.');
    expect(await section('getOpenApi')).toContain('No authentication.');
    const pathToken = await section('postRegistryEventWithPathToken');
    expect(pathToken).toContain('Authentication: the last path segment, `{token}`');
    expect(pathToken).not.toContain('Bearer');
    expect(await section('postGocdRequest')).toContain(
      '<code>Authorization: Bearer &lt;token&gt;</code>: `gocd.forwarderToken`',
    );
    const status = await section('getStatus');
    expect(status).toContain('HTTP Basic');
    expect(status).toContain('`status.username`');
    expect(await section('getMetrics')).toContain('Optional authentication (when configured), one of:');
    const registry = await section('postRegistryEvent');
    for (const header of ['X-Api-Key', 'X-Hub-Signature-256', 'X-JFrog-Event-Auth']) expect(registry).toContain(header);
  });

  it('shows schemas in full (every $ref inlined), not only their names', async () => {
    const registry = await section('postRegistryEvent');
    expect(registry).toContain('schema <code>RegistryAck</code>');
    // PipelineResult's fields appear inside RegistryAck, inlined.
    expect(registry).toContain('&quot;outcome&quot;');
    expect(registry).toContain('&quot;triggered&quot;');
    const gocdTable = (await t.app.inject({ method: 'GET', url: '/docs' })).body.split('GoCD request names')[1]!;
    expect(gocdTable).toContain('schema <code>CreateAgentRequest</code>');
    expect(gocdTable).toContain('&quot;auto_register_key&quot;');
  });

  it('shows a request example for every route with a body and a response example for every success answer', async () => {
    const { loadOpenApi } = await import('../../src/http/openapi.js');
    const { doc } = loadOpenApi();
    for (const [, item] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const op of Object.values(item)) {
        const html = await section(op.operationId as string);
        if (op.requestBody)
          expect(html, `${op.operationId} request`).toMatch(/<h3>Request body<\/h3>[\s\S]*class="ex"/);
        const responses = html.slice(html.indexOf('<h3>Responses</h3>'));
        expect(responses, `${op.operationId} response`).toMatch(/<b>20[02]<\/b>[\s\S]*?class="ex"/);
      }
    }
  });
});

describe('GET /openapi.yaml', () => {
  it('is text a browser shows (text/plain), and YAML for a client that asks for it by name', async () => {
    const plain = await t.app.inject({
      method: 'GET',
      url: '/openapi.yaml',
      headers: { accept: 'text/html,*/*;q=0.8' },
    });
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.body).toMatch(/^openapi: 3\.1\.0/);
    const yaml = await t.app.inject({ method: 'GET', url: '/openapi.yaml', headers: { accept: 'application/yaml' } });
    expect(yaml.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml.body).toBe(plain.body);
  });
});
