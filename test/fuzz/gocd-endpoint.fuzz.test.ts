import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerClusterProfile } from '../../src/backends/docker/docker-profiles.js';
import type { EcsElasticProfile } from '../../src/backends/ecs/ecs-profiles.js';
import { GOCD_REQUEST_NAMES } from '../../src/gocd/request-names.js';
import { createAgentBody, fixture } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// Property-based fuzzing of the GoCD endpoint: whatever arrives, the answer is never a 5xx, the process never
// crashes, and nothing happens without the right token.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const names = fc.oneof(fc.constantFrom(...GOCD_REQUEST_NAMES), fc.string({ maxLength: 40 }).map(encodeURIComponent));
const seeds = [
  createAgentBody(1),
  fixture('create-agent.json'),
  fixture('server-ping.json'),
  fixture('job-completion.json'),
  fixture('migrate-config.json'),
  fixture('should-assign-work.json'),
];
const pollutionKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', '');

/** Mutations of real bodies: a field dropped, replaced by any JSON value, or a prototype-pollution key added. */
const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.nat(), fc.jsonValue({ maxDepth: 3 }), pollutionKeys, fc.nat({ max: 2 }))
  .map(([seed, i, value, evil, op]) => {
    const body = structuredClone(seed) as Record<string, unknown>;
    const keys = Object.keys(body);
    const key = keys[i % keys.length]!;
    if (op === 0) delete body[key];
    else if (op === 1) body[key] = value;
    const text = JSON.stringify(body);
    return op === 2 ? text.replace(/^\{/, `{"${evil}":{"polluted":true},`) : text;
  });

const deep = fc.nat({ max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const invalidUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .map((b) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from(b), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
const bodies = fc.oneof(
  mutated,
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 200 }),
  deep,
  invalidUtf8,
  fc.constant(''),
  fc.string({ minLength: 1, maxLength: 3 }).map((s) => s.repeat(40_000)),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.docker.distribution.events.v2+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'garbage/<>',
);

describe('fuzzing POST /gocd/requests/{requestName}', () => {
  it('answers < 500 and never acts without the right token (6,000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(
        names,
        bodies,
        contentTypes,
        fc.constantFrom('valid', 'wrong', 'missing', 'duplicated', 'basic'),
        async (name, body, type, auth) => {
          const launchesBefore = t.backend.launches.length;
          const headers: Record<string, string | string[]> = {};
          if (type) headers['content-type'] = type;
          if (auth === 'valid') headers.authorization = `Bearer ${t.token}`;
          if (auth === 'wrong') headers.authorization = `Bearer ${t.token}x`;
          // Node keeps the first Authorization header and drops repeats: a wrong first one must still be refused.
          if (auth === 'duplicated') headers.authorization = [`Bearer ${t.token}x`, `Bearer ${t.token}`];
          if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`u:${t.token}`).toString('base64')}`;
          const res = await t.app.inject({
            method: 'POST',
            url: `/gocd/requests/${name}`,
            headers: headers as Record<string, string>,
            payload: body,
          });
          expect(res.statusCode).toBeLessThan(500);
          if (auth !== 'valid') {
            // 401; or 404 when the name never reaches the route ('..' normalises the path away). Never a success.
            expect([401, 404]).toContain(res.statusCode);
            expect(t.backend.launches.length).toBe(launchesBefore);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 6000 },
    );
  }, 300_000);

  it('keeps memory flat over 4,000 more valid-token requests', async () => {
    const run = (n: number) =>
      fc.assert(
        fc.asyncProperty(names, bodies, async (name, body) => {
          const res = await t.app.inject({
            method: 'POST',
            url: `/gocd/requests/${name}`,
            headers: t.auth,
            payload: body,
          });
          expect(res.statusCode).toBeLessThan(500);
        }),
        { numRuns: n, seed: 42 },
      );
    await run(1000);
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    await run(3000);
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    // Bounded in-memory state only (activity log, LRU): growth must stay far below what leaking bodies would cost.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  }, 300_000);

  // Issue 16 (findings 1, 2, 6, 9): whatever a create-agent body's cluster profile claims — gates on, an engine
  // elsewhere, host networking, a task definition of the service's own families, huge or odd ids and modes — the
  // default policy launches only a plain agent on the local engine, and /metrics labels stay bounded.
  it('never launches past the operator policy, and keeps metric labels bounded, whatever create-agent claims (1,500 cases)', async () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ minLength: 19, maxLength: 3000 }));
    const clusterClaims = fc.record(
      {
        cluster_id: fc.oneof(text, fc.stringMatching(/^[A-Za-z0-9_-]{1,18}$/)),
        allow_privileged: fc.constantFrom('true', 'TRUE', 'false', 'yes'),
        allow_socket_mount: fc.constantFrom('true', 'false'),
        docker_host: fc.constantFrom('tcp://10.0.0.1:2375', 'unix:///run/other.sock', 'http://169.254.169.254', ''),
        network: fc.constantFrom('host', 'container:gocd-server', 'bridge', 'none'),
        environment: fc.constantFrom('GO_EA_AUTO_REGISTER_ENVIRONMENT=prod', 'A=b', ''),
      },
      { requiredKeys: [] },
    );
    const profileClaims = fc.record(
      {
        docker_mode: fc.oneof(fc.constantFrom('none', 'privileged', 'sidecar', 'socket'), text),
        capabilities: fc.constantFrom('ALL', 'SYS_ADMIN', 'NET_ADMIN,SYS_MODULE'),
        task_definition: fc.constantFrom('gocd-agent-0123456789abcdef', 'mine:3'),
      },
      { requiredKeys: [] },
    );
    const launchedBefore = t.backend.launches.length;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1_000_000 }),
        fc.oneof({ arbitrary: fc.constant({}), weight: 1 }, { arbitrary: clusterClaims, weight: 3 }),
        fc.oneof({ arbitrary: fc.constant({}), weight: 1 }, { arbitrary: profileClaims, weight: 3 }),
        async (jobId, cluster, profile) => {
          const body = createAgentBody(jobId, {
            cluster_profile_properties: { go_server_url: 'https://gocd.example.com/go', ...cluster },
            elastic_agent_profile_properties: { image: 'agent:1', ...profile },
          });
          const res = await t.app.inject({
            method: 'POST',
            url: '/gocd/requests/cd.go.elastic-agent.create-agent',
            headers: t.auth,
            payload: JSON.stringify(body),
          });
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 1500 },
    );
    const launched = t.backend.launches.slice(launchedBefore);
    // Plain profiles on the local engine do launch: the checks below are not vacuous.
    expect(launched.length).toBeGreaterThan(10);
    for (const launch of launched) {
      expect(launch.profile.dockerMode).toBe('none');
      const cluster = launch.cluster as DockerClusterProfile;
      expect(cluster.dockerHost).toBeUndefined();
      expect(['host', 'container:gocd-server']).not.toContain(cluster.network);
      expect((launch.profile as EcsElasticProfile).taskDefinition ?? '').not.toMatch(/^gocd-agent-/);
      expect(Object.keys({ ...launch.cluster.environment, ...launch.profile.environment })).not.toContain(
        'GO_EA_AUTO_REGISTER_ENVIRONMENT',
      );
    }
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const m of metrics.matchAll(/cluster_id="([^"]*)"/g)) expect(m[1]!.length).toBeLessThanOrEqual(18);
    for (const m of metrics.matchAll(/docker_mode="([^"]*)"/g))
      expect(['none', 'privileged', 'sidecar', 'socket', 'invalid']).toContain(m[1]);
    expect(metrics.length).toBeLessThan(1_000_000);
  }, 300_000);
});
