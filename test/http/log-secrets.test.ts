import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { parseConfig } from '../../src/config/config-text.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/main/composition.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { VERSION } from '../../src/version.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { job } from '../support/gocd-bodies.js';
import { registryFixture, registryFixtureText } from '../support/registry-fixtures.js';

// One mixed run through the real composition root (ECS backend over the loopback fake ECS endpoint, registry
// triggers against a fake GoCD, a registry API behind Basic auth for digest lookups), at trace level, with every
// kind of secret in play — forwarder token, auto-register keys, GoCD API token, each registry type's secret and
// secondary secret, HMAC signatures, path tokens, the registry API password — and every kind of failure (wrong
// tokens, forged signatures, a failing RunTask, GoCD 503/404, a registry API error). None of them may appear in any
// log line, in any answer, or on the status pages.

const S = {
  forwarder: 'fwd-token-LOGTEST-0123456789',
  gocdApi: 'gocd-api-token-LOGTEST-0123',
  docker: 'docker-bearer-LOGTEST-0123',
  dockerNext: 'docker-rotated-LOGTEST-0123',
  ecr: 'ecr-apikey-LOGTEST-0123456',
  harbor: 'harbor-header-LOGTEST-0123',
  github: 'github-hmac-LOGTEST-012345',
  jfrog: 'jfrog-secret-LOGTEST-01234',
  hub: 'hubpathtokenLOGTEST0123456789',
  quay: 'quaypathtokenLOGTEST012345678',
  registryPassword: 'registry-password-LOGTEST-0123',
};
/** Values a caller guessed: they may be someone's real secret elsewhere, so they are never logged either. */
const GUESSES = {
  forwarder: 'guessed-forwarder-LOGTEST-99',
  docker: 'guessed-docker-LOGTEST-99',
  ecr: 'guessed-ecr-LOGTEST-99',
  harbor: 'guessed-harbor-LOGTEST-99',
  jfrog: 'guessed-jfrog-LOGTEST-99',
  hub: 'guessedhubLOGTEST99',
  quay: 'guessedquayLOGTEST99',
};
const AUTO_REGISTER_KEYS = ['ark-LOGTEST-launch-0001', 'ark-LOGTEST-failed-0002', 'ark-LOGTEST-unauth-0003'];

let gocd: FakeGocd;
let ecs: FakeEcs;
let registryApi: Server;
let registryApiUrl: string;
let app: FastifyInstance;
let services: Services;
const logs: string[] = [];
const answers: string[] = [];
const signatures: string[] = [];
const savedEnv: Record<string, string | undefined> = {};

/** A registry API v2 that wants Basic auth, knows one tag, and fails for another (an error path that logs). */
async function startRegistryApi(): Promise<void> {
  const basic = `Basic ${Buffer.from(`robot:${S.registryPassword}`).toString('base64')}`;
  registryApi = createServer((req, res) => {
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
      res.end();
      return;
    }
    if (req.url?.includes('/manifests/broken')) {
      res.writeHead(500);
      res.end();
      return;
    }
    res.writeHead(200, {
      'docker-content-digest': `sha256:${'ab'.repeat(32)}`,
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    res.end();
  });
  await new Promise<void>((resolve) => registryApi.listen(0, '127.0.0.1', resolve));
  registryApiUrl = `http://127.0.0.1:${(registryApi.address() as AddressInfo).port}`;
}

const yaml = () => `
log: { level: trace }
gocd:
  forwarderToken: ${S.forwarder}
  apiUrl: ${gocd.url}
  apiToken: ${S.gocdApi}
  scheduleRetryWindowSeconds: 2
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${S.docker}, secondarySecret: ${S.dockerNext} }
  - { name: ecr, type: ecr, host: 123456789012.dkr.ecr.us-west-2.amazonaws.com, secret: ${S.ecr}, header: X-Api-Key }
  - { name: harbor, type: harbor, host: harbor.example.com, secret: ${S.harbor} }
  - { name: ghcr, type: github, host: ghcr.io, secret: ${S.github} }
  - { name: jfrog, type: artifactory, host: example.jfrog.io, secret: ${S.jfrog} }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${S.hub}, apiUrl: ${registryApiUrl}, username: robot, password: ${S.registryPassword} }
  - { name: quay, type: quay, host: quay.io, secret: ${S.quay}, apiUrl: ${registryApiUrl}, username: robot, password: ${S.registryPassword} }
subscriptions:
  - { image: registry.example.com/team/app, pipelines: [deploy-app, missing-pipeline] }
  - { image: registry.example.com/backends/*, pipelines: [flaky-pipeline] }
  - { image: docker.io/svendowideit/testhook, pipelines: [hub-pipeline] }
  - { image: ghcr.io/codertocat/hello-world-npm, pipelines: [ghcr-pipeline] }
  - { image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name, pipelines: [ecr-pipeline] }
  - { image: harbor.example.com/test-webhook/debian, pipelines: [harbor-pipeline] }
  - { image: quay.io/dgangaia/test, pipelines: [quay-pipeline] }
  - { image: example.jfrog.io/docker-remote-cache/library/ubuntu, pipelines: [jfrog-pipeline] }
`;

const CLUSTER = {
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'logs',
  backend: 'ecs',
  cluster: 'logs',
  region: 'us-east-1',
};
const PROFILE = { image: 'gocd/gocd-agent-debian-12:v25.1.0' };

beforeAll(async () => {
  gocd = await new FakeGocd(S.gocdApi).start();
  for (const p of ['deploy-app', 'flaky-pipeline', 'hub-pipeline', 'ghcr-pipeline', 'ecr-pipeline']) gocd.pipeline(p);
  for (const p of ['harbor-pipeline', 'quay-pipeline', 'jfrog-pipeline']) gocd.pipeline(p);
  gocd.script('flaky-pipeline', { status: 503 }, { status: 409 });
  ecs = await new FakeEcs({ clusters: ['logs'] }).start();
  for (const [k, v] of Object.entries(ecs.env())) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  await startRegistryApi();
  const { config } = parseConfig(yaml(), 'log-secrets', { env: {} });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('trace', sink);
  services = await createServices(config, logger, { withDocker: false });
  app = await buildApp({ config, logger, version: VERSION, ...services });
});

afterAll(async () => {
  await app?.close();
  await gocd?.close();
  await ecs?.stop();
  await new Promise<void>((resolve) => (registryApi ? registryApi.close(() => resolve()) : resolve()));
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function send(url: string, payload: string, headers: Record<string, string | string[]>, method = 'POST') {
  const res = await app.inject({
    method: method as 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers } as Record<string, string>,
    payload: method === 'GET' ? undefined : payload,
  });
  answers.push(`${res.statusCode} ${res.body}`);
  return res;
}
const gocdRequest = (name: string, body: object, token = S.forwarder) =>
  send(`/gocd/requests/cd.go.elastic-agent.${name}`, JSON.stringify(body), { authorization: `Bearer ${token}` });

function signed(raw: string, key: string): string {
  const sig = hmacSha256Hex(key, raw);
  signatures.push(sig);
  return sig;
}

describe('secrets across a mixed run', () => {
  it('reach no log line, no answer and no status page', async () => {
    // GoCD side: a launch, a RunTask failure, an unauthenticated create-agent, assignment, completion, pings.
    const launch = await gocdRequest('create-agent', {
      auto_register_key: AUTO_REGISTER_KEYS[0],
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      environment: 'prod',
      job_identifier: job(501),
    });
    expect(launch.statusCode).toBe(200);
    expect(ecs.liveTasks('logs')).toHaveLength(1);
    ecs.failNextRunTask({ reason: 'RESOURCE:MEMORY', detail: 'no capacity' });
    await gocdRequest('create-agent', {
      auto_register_key: AUTO_REGISTER_KEYS[1],
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(502),
    });
    const refused = await gocdRequest(
      'create-agent',
      {
        auto_register_key: AUTO_REGISTER_KEYS[2],
        elastic_agent_profile_properties: PROFILE,
        cluster_profile_properties: CLUSTER,
        job_identifier: job(503),
      },
      GUESSES.forwarder,
    );
    expect(refused.statusCode).toBe(401);
    const agentId = agentIdFor('logs', 501);
    const agent = { agent_id: agentId, agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' };
    await gocdRequest('should-assign-work', {
      agent,
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(501),
    });
    await gocdRequest('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [agent] });
    const reports = [
      await gocdRequest('agent-status-report', { cluster_profile_properties: CLUSTER, elastic_agent_id: agentId }),
      await gocdRequest('cluster-status-report', { cluster_profile_properties: CLUSTER }),
      await gocdRequest('plugin-status-report', { all_cluster_profiles_properties: [CLUSTER] }),
    ];
    for (const r of reports) expect(r.statusCode).toBe(200);
    expect(reports[0]!.body).toContain('GO_EA_AUTO_REGISTER_KEY');
    await gocdRequest('job-completion', {
      elastic_agent_id: agentId,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(501),
      agents: [{ ...agent, agent_state: 'Idle', build_state: 'Idle' }],
    });
    expect(ecs.liveTasks('logs')).toHaveLength(0);
    ecs.failNext('ListTasks', 'AccessDeniedException', 'not authorized to perform ecs:ListTasks');
    await gocdRequest('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [] });

    // Registries: valid deliveries (primary and secondary secrets), forged ones, wrong path tokens.
    const index = registryFixtureText('distribution-index-push.json');
    const manifest = registryFixtureText('distribution-manifest-push.json');
    const V1 = 'application/vnd.docker.distribution.events.v1+json';
    expect(
      (await send('/registry/docker', index, { authorization: `Bearer ${S.docker}`, 'content-type': V1 })).statusCode,
    ).toBe(202);
    expect((await send('/registry/docker', manifest, { authorization: `Bearer ${S.dockerNext}` })).statusCode).toBe(
      202,
    );
    expect((await send('/registry/docker', index, { authorization: `Bearer ${GUESSES.docker}` })).statusCode).toBe(401);
    expect((await send(`/registry/docker/${S.docker}`, index, {})).statusCode).toBe(401);
    const ecrBody = registryFixtureText('ecr-image-push.json');
    expect((await send('/registry/ecr', ecrBody, { 'x-api-key': S.ecr })).statusCode).toBe(202);
    expect((await send('/registry/ecr', ecrBody, { 'x-api-key': GUESSES.ecr })).statusCode).toBe(401);
    const harborBody = registryFixtureText('harbor-push-default.json');
    expect((await send('/registry/harbor', harborBody, { authorization: S.harbor })).statusCode).toBe(202);
    expect((await send('/registry/harbor', harborBody, { authorization: GUESSES.harbor })).statusCode).toBe(401);
    const gh = registryFixture<Record<string, Record<string, Record<string, Record<string, Record<string, unknown>>>>>>(
      'github-package-published.json',
    );
    gh.package!.package_version!.container_metadata!.tag!.name = 'nightly';
    const ghRaw = JSON.stringify(gh);
    const ghHeaders = { 'x-github-event': 'package', 'x-github-delivery': 'log-test-delivery-1' };
    expect(
      (
        await send('/registry/ghcr', ghRaw, {
          ...ghHeaders,
          'x-hub-signature-256': `sha256=${signed(ghRaw, S.github)}`,
        })
      ).statusCode,
    ).toBe(202);
    const forged = `sha256=${signed(ghRaw, 'attacker-key-LOGTEST')}`;
    expect((await send('/registry/ghcr', ghRaw, { ...ghHeaders, 'x-hub-signature-256': forged })).statusCode).toBe(401);
    const jfrogRaw = registryFixtureText('artifactory-docker-pushed.json');
    expect((await send('/registry/jfrog', jfrogRaw, { 'x-jfrog-event-auth': S.jfrog })).statusCode).toBe(202);
    expect(
      (await send('/registry/jfrog', `${jfrogRaw} `, { 'x-jfrog-event-auth': signed(`${jfrogRaw} `, S.jfrog) }))
        .statusCode,
    ).toBeLessThan(300);
    expect((await send('/registry/jfrog', jfrogRaw, { 'x-jfrog-event-auth': GUESSES.jfrog })).statusCode).toBe(401);
    const hubBody = registryFixtureText('dockerhub-push.json');
    expect((await send(`/registry/hub/${S.hub}`, hubBody, {})).statusCode).toBe(202);
    expect((await send(`/registry/hub/${GUESSES.hub}`, hubBody, {})).statusCode).toBe(401);
    const quay = registryFixture<{ updated_tags: string[] }>('quay-push.json');
    quay.updated_tags = ['latest', 'broken'];
    expect((await send(`/registry/quay/${S.quay}`, JSON.stringify(quay), {})).statusCode).toBe(202);
    expect((await send(`/registry/quay/${GUESSES.quay}`, JSON.stringify(quay), {})).statusCode).toBe(401);
    await services.registry.triggers.idle();

    // Operations pages, with the right and a guessed token.
    const status = await send('/status', '', { authorization: `Bearer ${S.forwarder}` }, 'GET');
    expect(status.statusCode).toBe(200);
    expect((await send('/status', '', { authorization: `Bearer ${GUESSES.forwarder}` }, 'GET')).statusCode).toBe(401);
    await send('/metrics', '', {}, 'GET');
    await send('/healthz', '', {}, 'GET');

    // The run did what it should, so the logs below cover the success and the failure paths.
    const scheduled = gocd.calls.filter((c) => c.status === 202).map((c) => c.pipeline);
    expect(scheduled).toEqual(expect.arrayContaining(['deploy-app', 'hub-pipeline', 'ghcr-pipeline', 'ecr-pipeline']));
    expect(scheduled).toEqual(expect.arrayContaining(['harbor-pipeline', 'quay-pipeline', 'jfrog-pipeline']));
    expect(gocd.calls.some((c) => c.pipeline === 'missing-pipeline' && c.status === 404)).toBe(true);
    expect(gocd.callsFor('flaky-pipeline').map((c) => c.status)).toEqual(expect.arrayContaining([503, 409]));
    const text = logs.join('');
    for (const expected of [
      'agent launched',
      'agent launch failed',
      'pipeline scheduled',
      'pipeline not scheduled',
      'listing agents failed',
      'request refused',
    ])
      expect(text).toContain(expected);

    const secrets = [
      ...Object.values(S),
      ...Object.values(GUESSES),
      ...AUTO_REGISTER_KEYS,
      ...signatures,
      Buffer.from(`robot:${S.registryPassword}`).toString('base64'),
    ];
    const leaks = (where: string, haystack: string) =>
      secrets.filter((s) => haystack.includes(s)).map((s) => `${where}: ${s}`);
    expect(logs.length).toBeGreaterThan(50);
    expect([...leaks('log', text), ...leaks('answer', answers.join('\n'))]).toEqual([]);
  });
});
