import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerClusterProfile } from '../../src/backends/docker/docker-profiles.js';
import { parseConfig } from '../../src/config/config-text.js';
import { GocdAdminClient } from '../../src/gocd-api/gocd-admin-client.js';
import { formatFindings, runDoctor } from '../../src/main/doctor.js';
import { MemoryBackend } from '../support/memory-backend.js';
import { profiles } from '../support/profiles.js';

const TOKEN = 'admin-token-abcdefgh';
let server: Server;
let url = '';

// A loopback GoCD answering the read-only admin APIs the doctor uses, as GoCD shapes them.
beforeAll(async () => {
  server = createServer((req, res) => {
    const authed = req.headers.authorization === `bearer ${TOKEN}`;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/go/api/version') return send(200, { version: '25.1.0', full_version: '25.1.0 (20000-abc)' });
    if (!authed) return send(401, { message: 'You are not authenticated!' });
    if (req.url === '/go/api/current_user') return send(200, { login_name: 'admin' });
    if (req.url === '/go/api/admin/elastic/cluster_profiles') {
      return send(200, {
        _embedded: {
          profiles: [
            {
              id: 'local',
              plugin_id: 'gocd-agent-scaler',
              properties: [
                { key: 'go_server_url', value: 'https://gocd/go' },
                { key: 'cluster_id', value: 'local' },
              ],
            },
            { id: 'broken', plugin_id: 'gocd-agent-scaler', properties: [{ key: 'max_agents', value: 'lots' }] },
            ...[
              ['ecs-inside', 'gocd-agents', 'eu-west-1'],
              ['ecs-other-cluster', 'team-cluster', 'eu-west-1'],
              ['ecs-other-region', 'gocd-agents', 'us-west-2'],
            ].map(([id, cluster, region]) => ({
              id,
              plugin_id: 'gocd-agent-scaler',
              properties: [
                { key: 'go_server_url', value: 'https://gocd/go' },
                { key: 'cluster_id', value: id },
                { key: 'cluster', value: cluster },
                { key: 'region', value: region },
              ],
            })),
            {
              id: 'remote',
              plugin_id: 'gocd-agent-scaler',
              properties: [
                { key: 'go_server_url', value: 'https://gocd/go' },
                { key: 'docker_host', value: 'tcp://10.1.2.3:2375' },
              ],
            },
            {
              id: 'other',
              plugin_id: 'cd.go.contrib.elastic-agent.docker',
              properties: [{ key: 'GoServerUrl', value: 'x' }],
            },
          ],
        },
      });
    }
    if (req.url === '/go/api/admin/pipelines/deploy-db') {
      return send(200, {
        name: 'deploy-db',
        environment_variables: [{ name: 'GO_PACKAGE_DOCKER_BACKENDS_DB_LABEL', secure: false, value: '' }],
      });
    }
    return send(404, {
      message: 'Either the resource you requested was not found, or you are not authorized to perform this action.',
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/go`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function config(extra = '', env: Record<string, string> = {}) {
  return parseConfig(
    `gocd: { forwarderToken: forwarder-token-123456, apiUrl: "${url}", apiToken: ${TOKEN} }
registries: [{ name: docker, type: distribution, host: registry.example.com, secret: hook-secret-1 }]
subscriptions: [{ image: registry.example.com/backends/db, pipelines: [deploy-db, missing-pipeline] }]
${extra}`,
    'test',
    { env },
  ).config;
}

describe('doctor', () => {
  it('says what works and what does not, in plain words', async () => {
    const cfg = config();
    const asked: (string | undefined)[] = [];
    const findings = await runDoctor({
      config: cfg,
      profiles,
      gocd: new GocdAdminClient(cfg.gocd.apiUrl!, cfg.gocd.apiToken),
      backends: {
        forCluster: async (cluster) => {
          if (cluster.backend === 'docker') asked.push((cluster as DockerClusterProfile).dockerHost);
          return new MemoryBackend();
        },
      },
      dockerStatus: async () => 'unavailable: connect ENOENT /var/run/docker.sock',
    });
    const text = formatFindings(findings);
    expect(text).toContain('✔ GoCD API: GoCD 25.1.0 (20000-abc) answers');
    expect(text).toContain('✔ GoCD token: gocd.apiToken works (user admin)');
    expect(text).toContain('! Docker engine: unavailable: connect ENOENT');
    expect(text).toContain('✔ cluster profile local: Docker engine local reachable; 0 of at most 10 agents live');
    expect(text).toContain(
      "✘ cluster profile broken: invalid cluster profile: go_server_url must not be blank; max_agents must be a whole number, got 'lots'",
    );
    expect(text).not.toContain('cluster profile other');
    // The operator policy, and a profile outside it refused without its engine being contacted.
    expect(text).toContain('✔ operator policy: Docker engines local; ECS clusters any');
    expect(text).toContain(
      "✘ cluster profile remote: docker_host 'tcp://10.1.2.3:2375' is not allowed by the operator policy (policy.docker.engines: local)",
    );
    expect(asked).toEqual([undefined]);
    expect(text).toMatch(
      /✘ pipeline deploy-db: does not declare GO_PACKAGE_DOCKER_BACKENDS_DB_DOCKER_IMAGE, GO_REPO_DOCKER_BACKENDS_DB_DOCKER_REGISTRY_NAME, GO_PACKAGE_DOCKER_BACKENDS_DB_DIGEST: GoCD would refuse the schedule with 422/,
    );
    expect(text).toContain('✘ pipeline missing-pipeline: cannot read its config (HTTP 404');
  });

  it('reports a wrong token and an unreachable backend', async () => {
    const cfg = config();
    const failing = new MemoryBackend();
    failing.failList = true;
    const findings = await runDoctor({
      config: cfg,
      profiles,
      gocd: new GocdAdminClient(cfg.gocd.apiUrl!, 'wrong-token'),
      backends: { forCluster: async () => failing },
      dockerStatus: async () => 'available',
    });
    expect(findings.find((f) => f.what === 'GoCD token')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('HTTP 401: You are not authenticated!'),
    });
    expect(findings.find((f) => f.what === 'Docker engine')?.status).toBe('ok');
  });

  it('says so when GoCD cannot be reached at all', async () => {
    const cfg = config();
    const findings = await runDoctor({
      config: cfg,
      profiles,
      gocd: new GocdAdminClient('http://127.0.0.1:9/go', TOKEN),
      backends: { forCluster: async () => new MemoryBackend() },
      dockerStatus: async () => 'available',
    });
    expect(findings.at(-1)).toMatchObject({
      status: 'fail',
      what: 'GoCD API',
      detail: expect.stringContaining('cannot reach'),
    });
  });

  it('names a cluster or region outside what the operator policy allows (as the CDK stack writes it)', async () => {
    // The CDK stack writes its own cluster and region into the service config's policy.
    const cfg = config('policy: { ecs: { clusters: [gocd-agents], regions: [eu-west-1] } }\n');
    expect(cfg.policy.ecs).toMatchObject({ clusters: ['gocd-agents'], regions: ['eu-west-1'] });
    const findings = await runDoctor({
      config: cfg,
      profiles,
      gocd: new GocdAdminClient(cfg.gocd.apiUrl!, cfg.gocd.apiToken),
      backends: { forCluster: async () => new MemoryBackend() },
      dockerStatus: async () => 'available',
    });
    const text = formatFindings(findings);
    expect(text).toContain('✔ cluster profile ecs-inside: ECS cluster gocd-agents in eu-west-1 reachable');
    expect(text).toContain(
      "✘ cluster profile ecs-other-cluster: ECS cluster 'team-cluster' is not allowed by the operator policy (policy.ecs.clusters: gocd-agents)",
    );
    expect(text).toContain(
      "✘ cluster profile ecs-other-region: region 'us-west-2' is not allowed by the operator policy (policy.ecs.regions: eu-west-1)",
    );
    // Without ECS lists in the policy (the default) no cluster or region is refused.
    const open = await runDoctor({
      config: config(),
      profiles,
      gocd: new GocdAdminClient(cfg.gocd.apiUrl!, cfg.gocd.apiToken),
      backends: { forCluster: async () => new MemoryBackend() },
      dockerStatus: async () => 'available',
    });
    expect(formatFindings(open)).not.toContain('policy.ecs');
  });
});
