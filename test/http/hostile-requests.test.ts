import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import type { OperatorPolicy } from '../../src/agents/policy.js';
import { parseConfig } from '../../src/config/config-text.js';
import { createBackendProvider } from '../../src/main/composition.js';
import { CLUSTER, createAgentBody, PROFILE } from '../support/gocd-bodies.js';
import { profiles, viaEdge } from '../support/profiles.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// The attacks of issue 16 that go through GoCD requests (whoever holds the forwarder token or edits cluster profiles in
// GoCD writes the request body), each reproduced and shown to do no harm now. Slow clients: slow-clients.test.ts.

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('finding 2: the request body cannot widen the gates (operator policy)', () => {
  it('refuses privileged, sidecar and socket profiles a cluster profile allows when the policy does not', async () => {
    const cluster = { ...CLUSTER, allow_privileged: 'true', allow_socket_mount: 'true' };
    for (const [jobId, mode] of [
      [1, 'privileged'],
      [2, 'sidecar'],
      [3, 'socket'],
    ] as const) {
      const res = await t.gocd(
        'create-agent',
        createAgentBody(jobId, {
          cluster_profile_properties: cluster,
          elastic_agent_profile_properties: { ...PROFILE, docker_mode: mode },
        }),
      );
      expect(res.statusCode).toBe(200);
    }
    expect(t.backend.launches).toEqual([]);
    const refusals = t.activity.recent({ kinds: ['refused'] }).map((a) => a.message);
    expect(refusals).toEqual([
      expect.stringContaining('policy.allow.socketMount'),
      expect.stringContaining('policy.allow.privileged'),
      expect.stringContaining('policy.allow.privileged'),
    ]);
  });

  it('refuses network host and capabilities ALL (finding 9), which needed no gate before', async () => {
    await t.gocd('create-agent', createAgentBody(2, { cluster_profile_properties: { ...CLUSTER, network: 'host' } }));
    await t.gocd(
      'create-agent',
      createAgentBody(3, {
        cluster_profile_properties: { ...CLUSTER, allow_privileged: 'true' },
        elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged', capabilities: 'ALL' },
      }),
    );
    expect(t.backend.launches).toEqual([]);
    expect(t.activity.recent({ kinds: ['refused'] }).map((a) => a.message)).toEqual([
      expect.stringContaining('capabilities ALL is refused by the operator policy (policy.allow.privileged'),
      expect.stringContaining(
        "network 'host' (a host or container network namespace) is refused by the operator policy",
      ),
    ]);
  });

  it('launches what the operator allowed', async () => {
    const open = await createTestApp({ yaml: 'policy: { allow: { privileged: true } }' });
    try {
      const res = await open.app.inject({
        method: 'POST',
        url: '/gocd/requests/cd.go.elastic-agent.create-agent',
        headers: open.auth,
        payload: JSON.stringify(
          createAgentBody(4, {
            cluster_profile_properties: { ...CLUSTER, allow_privileged: 'true' },
            elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged' },
          }),
        ),
      });
      expect(res.statusCode).toBe(200);
      expect(open.backend.launches).toHaveLength(1);
    } finally {
      await open.close();
    }
  });
});

describe('finding 2: docker_host is no SSRF', () => {
  let trap: Server;
  let connections = 0;
  let port = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    trap = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.end('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 22\r\n\r\nsecret internal answer');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    port = (trap.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => trap.close(() => resolve()));
  });

  const logger = pino({ level: 'silent' });
  const service = (yaml: string) =>
    viaEdge(
      new AgentService({
        profiles,
        // The real backends: a Docker backend for any docker_host the policy lets through.
        backends: createBackendProvider(logger, profiles),
        activity: new ActivityLog(),
        logger,
        policy: parseConfig(yaml, 'test', { env: { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' } }).config
          .policy as OperatorPolicy,
      }),
    );

  it('never connects to a docker_host outside the policy, in create-agent, server-ping or the status reports', async () => {
    const svc = service('');
    const cluster = { ...CLUSTER, docker_host: `tcp://127.0.0.1:${port}` };
    const created = await svc.createAgent({
      autoRegisterKey: 'k',
      job: createAgentBody(5).job_identifier as never,
      clusterProperties: cluster,
      profileProperties: PROFILE,
    });
    expect(created).toEqual({
      kind: 'refused',
      reason: `docker_host 'tcp://127.0.0.1:${port}' is not allowed by the operator policy (policy.docker.engines: local)`,
    });
    await svc.serverPing([cluster], []);
    const report = await svc.clusterReport(cluster);
    const agent = await svc.agentReport(cluster, { agentId: agentIdFor('test', 5) });
    expect(report.policyProblem).toContain('policy.docker.engines');
    expect(agent.error).toContain('policy.docker.engines');
    expect(JSON.stringify([report, agent])).not.toContain('secret internal answer');
    expect(connections).toBe(0);
  });

  it('does connect when the operator lists that engine (the check above can fail)', async () => {
    const svc = service(`policy: { docker: { engines: [local, 'tcp://127.0.0.1:${port}'] } }`);
    const report = await svc.clusterReport({ ...CLUSTER, docker_host: `tcp://127.0.0.1:${port}` });
    expect(report.listError).toBeDefined();
    expect(connections).toBeGreaterThan(0);
  });
});

describe('finding 6: bounded observability', () => {
  it('keeps /metrics small whatever cluster ids and modes create-agent bodies carry', async () => {
    const huge = 'x'.repeat(200_000);
    for (let i = 0; i < 3; i++) {
      await t.gocd(
        'create-agent',
        createAgentBody(i, {
          cluster_profile_properties: { ...CLUSTER, cluster_id: `${i}${huge}` },
          elastic_agent_profile_properties: { ...PROFILE, docker_mode: `${i}${huge}` },
        }),
      );
    }
    for (let i = 0; i < 300; i++) {
      await t.gocd(
        'create-agent',
        createAgentBody(1000 + i, {
          cluster_profile_properties: { ...CLUSTER, cluster_id: `id-${i}`, max_agents: '0' },
        }),
      );
    }
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    const labels = [...res.body.matchAll(/cluster_id="([^"]*)"/g)].map((m) => m[1]!);
    expect(new Set(labels).size).toBeLessThanOrEqual(256 + 2);
    expect(labels).toContain('invalid');
    expect(labels).toContain('other');
    for (const l of labels) expect(l.length).toBeLessThanOrEqual(18);
    for (const m of res.body.matchAll(/docker_mode="([^"]*)"/g))
      expect(['none', 'privileged', 'sidecar', 'socket', 'invalid']).toContain(m[1]);
    expect(res.body.length).toBeLessThan(200_000);
  });

  it('keeps activity-log text bounded (the status report shows it)', async () => {
    await t.gocd(
      'create-agent',
      createAgentBody(9, { cluster_profile_properties: { ...CLUSTER, max_agents: `1${'9'.repeat(300_000)}` } }),
    );
    const [event] = t.activity.recent();
    expect(event?.kind).toBe('invalid-profile');
    expect(event!.message.length).toBeLessThanOrEqual(1_001);
    expect(t.logs.every((l) => l.length < 20_000)).toBe(true);
  });

  it('puts /metrics behind a bearer token when metrics.token is set', async () => {
    const locked = await createTestApp({ yaml: 'metrics: { token: metrics-token-0123456789 }' });
    try {
      expect((await locked.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const ok = await locked.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('gocd_agent_scaler_');
    } finally {
      await locked.close();
    }
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('finding 9: the smaller items', () => {
  it('probes the engine for /healthz at most once per 5 s and shows no engine error text', async () => {
    let probes = 0;
    let now = 0;
    const probed = await createTestApp({
      dockerStatus: async () => {
        probes++;
        return 'unavailable: connect ECONNREFUSED /srv/secret/docker.sock';
      },
      nowMs: () => now,
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => probed.app.inject({ method: 'GET', url: '/healthz' })),
      );
      for (const res of answers) {
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ status: 'ok', docker: 'unavailable' });
        expect(res.body).not.toContain('ECONNREFUSED');
      }
      expect(probes).toBe(1);
      now = 4_999;
      await probed.app.inject({ method: 'GET', url: '/healthz' });
      expect(probes).toBe(1);
      now = 5_000;
      await probed.app.inject({ method: 'GET', url: '/healthz' });
      expect(probes).toBe(2);
    } finally {
      await probed.close();
    }
  });

  it('masks every agent environment value in the agent status report except the scaler’s own non-secret ones', async () => {
    await t.gocd(
      'create-agent',
      createAgentBody(11, {
        elastic_agent_profile_properties: { ...PROFILE, environment: 'DB_PASS2=hunter2\nNPM_AUTH=npm_abcdef' },
      }),
    );
    const res = await t.gocd('agent-status-report', {
      cluster_profile_properties: CLUSTER,
      elastic_agent_id: agentIdFor('test', 11),
    });
    const view = (res.json() as { view: string }).view;
    expect(view).not.toContain('hunter2');
    expect(view).not.toContain('npm_abcdef');
    expect(view).toContain('DB_PASS2');
    expect(view).toContain('https://gocd.example.com/go');
  });

  it('refuses GO_EA_* variables in profile and cluster environment lines (GO_EA_AUTO_REGISTER_ENVIRONMENT)', async () => {
    const profile = await t.gocd('validate-elastic-agent-profile', {
      ...PROFILE,
      environment: 'GO_EA_AUTO_REGISTER_ENVIRONMENT=production',
    });
    expect(profile.json()).toEqual([
      {
        key: 'environment',
        message: expect.stringContaining('GO_EA_AUTO_REGISTER_ENVIRONMENT is set by gocd-agent-scaler'),
      },
    ]);
    await t.gocd(
      'create-agent',
      createAgentBody(12, {
        environment: '',
        cluster_profile_properties: { ...CLUSTER, environment: 'GO_EA_AUTO_REGISTER_ENVIRONMENT=production' },
      }),
    );
    expect(t.backend.launches).toEqual([]);
  });

  it('answers 400 naming job_id for a job id beyond 2^53 - 1 (1e300 made an invalid container name)', async () => {
    const body = createAgentBody(1);
    const res = await t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.create-agent',
      headers: t.auth,
      payload: JSON.stringify(body).replace('"job_id":1', '"job_id":1e300'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('job_identifier/job_id');
    expect(t.backend.launches).toEqual([]);
  });

  it('sends X-Content-Type-Options everywhere and a restrictive Content-Security-Policy on every page', async () => {
    for (const url of ['/docs', '/status']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { authorization: t.auth.authorization! } });
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const json = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(json.headers['x-content-type-options']).toBe('nosniff');
    expect(json.headers['content-security-policy']).toBeUndefined();
  });
});
