import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../../src/registry/store.port.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixture, registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// biome-ignore lint/suspicious/noExplicitAny: tests derive variants by reaching deep into verbatim payloads
type Json = Record<string, any>;

const S = {
  docker: 'docker-bearer-secret-0123456789',
  dockerNext: 'docker-rotated-secret-0123456789',
  hub: 'hub-path-token-0123456789abcdef',
  github: 'github-hmac-key-0123456789',
  ecr: 'ecr-api-destination-key-0123456789',
  harbor: 'harbor-auth-header-0123456789',
  quay: 'quay-path-token-0123456789abcdef',
  jfrog: 'jfrog-event-secret-0123456789',
};

const yaml = (gocdUrl: string, token: string) => `
limits:
  webhookBodyBytes: 65536
gocd:
  apiUrl: ${gocdUrl}
  apiToken: ${token}
  scheduleRetryWindowSeconds: 5
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${S.docker}, secondarySecret: ${S.dockerNext} }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${S.hub} }
  - { name: ghcr, type: github, host: ghcr.io, secret: ${S.github} }
  - { name: ecr, type: ecr, host: 123456789012.dkr.ecr.us-west-2.amazonaws.com, secret: ${S.ecr}, header: X-Api-Key }
  - { name: harbor, type: harbor, host: harbor.example.com, secret: ${S.harbor} }
  - { name: quay, type: quay, host: quay.io, secret: ${S.quay} }
  - { name: jfrog, type: artifactory, host: example.jfrog.io, secret: ${S.jfrog} }
subscriptions:
  - { image: registry.example.com/team/app, tags: '^1\\.', pipelines: [deploy-app] }
  - { image: registry.example.com/backends/*, pipelines: [deploy-backends] }
  - { image: docker.io/svendowideit/testhook, pipelines: [hub-pipeline] }
  - { image: ghcr.io/codertocat/hello-world-npm, pipelines: [ghcr-pipeline] }
  - { image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name, pipelines: [ecr-pipeline] }
  - { image: harbor.example.com/test-webhook/debian, pipelines: [harbor-pipeline] }
  - { image: quay.io/dgangaia/test, pipelines: [quay-pipeline] }
  - { image: example.jfrog.io/docker-remote-cache/library/ubuntu, pipelines: [jfrog-pipeline] }
`;

let gocd: FakeGocd;
let t: TestApp;
let store: MemoryStore;

beforeAll(async () => {
  gocd = await new FakeGocd().start();
  for (const p of [
    'deploy-app',
    'deploy-backends',
    'hub-pipeline',
    'ghcr-pipeline',
    'ecr-pipeline',
    'harbor-pipeline',
    'quay-pipeline',
    'jfrog-pipeline',
  ])
    gocd.pipeline(p);
});
afterAll(async () => {
  await gocd.close();
});
beforeEach(async () => {
  gocd.calls.length = 0;
  store = new MemoryStore();
  t = await createTestApp({
    yaml: yaml(gocd.url, gocd.apiToken),
    registry: { store, retry: { initialDelayMs: 5, maxDelayMs: 20 } },
  });
});
afterEach(async () => {
  await t.registry.triggers.idle(); // no schedule call of this test may land in the next one's fake GoCD log
  await t.close();
});

const V1 = 'application/vnd.docker.distribution.events.v1+json';
const V2 = 'application/vnd.docker.distribution.events.v2+json';

function post(url: string, payload: string | object, headers: Record<string, string> = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return t.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
const docker = (payload: string | object, headers: Record<string, string> = {}) =>
  post('/registry/docker', payload, { authorization: `Bearer ${S.docker}`, 'content-type': V1, ...headers });

async function settled() {
  await t.registry.triggers.idle();
}

describe('distribution (header bearer)', () => {
  it('accepts a tagged index push sent as events.v1+json with 202 and schedules the subscribed pipeline once', async () => {
    const res = await docker(registryFixtureText('distribution-index-push.json'));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      unsubscribed: 0,
      ignored: [],
      pipelines: [
        {
          image: 'registry.example.com/team/app',
          tag: '1.0.0',
          digest: 'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74',
          pipeline: 'deploy-app',
          outcome: 'triggered',
        },
      ],
    });
    await settled();
    expect(gocd.calls.map((c) => c.pipeline)).toEqual(['deploy-app']);
    expect(gocd.calls[0]!.env).toEqual({
      GO_PACKAGE_DOCKER_TEAM_APP_LABEL: '1.0.0',
      GO_PACKAGE_DOCKER_TEAM_APP_DOCKER_IMAGE: 'team/app',
      GO_REPO_DOCKER_TEAM_APP_DOCKER_REGISTRY_NAME: 'registry.example.com',
      GO_PACKAGE_DOCKER_TEAM_APP_DIGEST: 'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74',
    });
    expect(t.registry.triggers.recentTriggers()).toMatchObject([
      { pipeline: 'deploy-app', outcome: 'scheduled', status: 202 },
    ]);
  });

  it('accepts distribution 3 (events.v2+json) and the secondary secret', async () => {
    const res = await docker(registryFixtureText('distribution-manifest-push.json'), {
      'content-type': V2,
      authorization: `Bearer ${S.dockerNext}`,
    });
    expect(res.statusCode).toBe(202);
    await settled();
    expect(gocd.calls.map((c) => `${c.pipeline} ${c.env.GO_PACKAGE_DOCKER_BACKENDS_DATABASE_X_LABEL}`)).toEqual([
      'deploy-backends 1.2.3',
    ]);
  });

  it.each(['application/json; charset=utf-8', `${V2}; charset=utf-8`])(
    'parses a JSON body sent as %s (EventBridge API destinations and many clients add a charset)',
    async (type) => {
      const res = await docker(registryFixtureText('distribution-index-push.json'), { 'content-type': type });
      expect(res.statusCode).toBe(202);
      await settled();
      expect(gocd.calls.map((c) => c.pipeline)).toEqual(['deploy-app']);
    },
  );

  it.each([
    'distribution-blob-push.json',
    'distribution-untagged-manifest-push.json',
    'distribution-mount.json',
    'distribution-delete.json',
  ])('answers 200 to %s and schedules nothing (a 4xx would stall the registry queue)', async (file) => {
    const res = await docker(registryFixtureText(file));
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted).toBe(0);
    expect(res.json().ignored).toHaveLength(1);
    await settled();
    expect(gocd.calls).toEqual([]);
  });

  it('answers 200 to a push no subscription matches (tag filter ^1\\. against 2.0.0)', async () => {
    const body = registryFixture<Json>('distribution-index-push.json');
    body.events[0].target.tag = '2.0.0';
    const res = await docker(body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 0, unsubscribed: 1 });
    await settled();
    expect(gocd.calls).toEqual([]);
  });

  it('schedules nothing new for a redelivery with the same event id', async () => {
    const text = registryFixtureText('distribution-index-push.json');
    expect((await docker(text)).statusCode).toBe(202);
    await settled();
    const again = await docker(text);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await settled();
    expect(gocd.calls).toHaveLength(1);
  });

  it("schedules once for one multi-arch push's events arriving together", async () => {
    const index = registryFixture<Json>('distribution-index-push.json');
    const blob = registryFixtureText('distribution-run1-blob-push.json');
    const child = registryFixtureText('distribution-untagged-manifest-push.json');
    const repush = structuredClone(index);
    repush.events[0].id = 'another-event-id-same-digest';
    const answers = await Promise.all([docker(blob), docker(child), docker(index), docker(repush)]);
    // The second event of the same digest triggers nothing new, and its answer says so (200, not 202 accepted).
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 202]);
    const pipelineAnswers = answers.flatMap((a) => (a.json() as { pipelines: { outcome: string }[] }).pipelines);
    expect(pipelineAnswers.map((p) => p.outcome).sort()).toEqual(['duplicate', 'triggered']);
    await settled();
    expect(gocd.calls).toHaveLength(1);
    expect(
      t.registry.triggers
        .recentTriggers()
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(['duplicate', 'scheduled']);
  });

  it('answers a redelivery of an already-triggered digest (a new event id) 200 duplicate, and counts it so', async () => {
    const first = await docker(registryFixtureText('distribution-index-push.json'));
    expect(first.statusCode).toBe(202);
    await settled();
    const again = registryFixture<Json>('distribution-index-push.json');
    again.events[0].id = 'a-later-event-of-the-same-digest';
    const res = await docker(again);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 0,
      duplicates: 1,
      pipelines: [{ pipeline: 'deploy-app', tag: '1.0.0', outcome: 'duplicate' }],
    });
    await settled();
    expect(gocd.calls).toHaveLength(1);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('gocd_agent_scaler_registry_events_total{source="distribution",outcome="triggered"} 1');
    expect(metrics).toContain('gocd_agent_scaler_registry_events_total{source="distribution",outcome="duplicate"} 1');
  });

  it('answers 401 to a wrong or missing bearer token whatever the body, and stores nothing', async () => {
    for (const headers of [{ authorization: 'Bearer wrong' }, { authorization: '' }]) {
      expect((await docker(registryFixtureText('distribution-index-push.json'), headers)).statusCode).toBe(401);
      expect((await docker('{not json', headers)).statusCode).toBe(401);
    }
    await settled();
    expect(gocd.calls).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('answers 400 naming the problem for malformed JSON and for a body that is not an events envelope', async () => {
    const bad = await docker('{"events": [');
    expect(bad.statusCode).toBe(400);
    const shape = await docker({ event: [] });
    expect(shape.statusCode).toBe(400);
    expect(shape.json().message).toContain('body/events');
    expect(store.size).toBe(0);
  });

  it('answers an unknown registry exactly as a known one with a wrong secret, so names cannot be enumerated', async () => {
    const unknown = await post('/registry/nope', {}, { authorization: `Bearer ${S.docker}` });
    const wrong = await post('/registry/docker', {}, { authorization: 'Bearer wrong-secret-0000' });
    const pathUnknown = await post('/registry/nope/some-token', {});
    const pathForm = await post('/registry/hub', {});
    for (const res of [unknown, wrong, pathUnknown, pathForm]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).toBe(wrong.body);
      expect(res.headers['content-type']).toBe(wrong.headers['content-type']);
    }
    // Nothing says how a registry authenticates (the path-token form) or that it exists.
    expect(wrong.json()).toEqual({
      statusCode: 401,
      code: 'UNAUTHORIZED',
      error: 'Unauthorized',
      message: 'missing or invalid registry credentials',
    });
  });

  it('answers 413 to a body over limits.webhookBodyBytes', async () => {
    const res = await docker({ events: [], pad: 'x'.repeat(70_000) });
    expect(res.statusCode).toBe(413);
  });

  it('refuses a path token on a header-authenticated registry', async () => {
    const res = await post(`/registry/docker/${S.docker}`, registryFixtureText('distribution-index-push.json'));
    expect(res.statusCode).toBe(401);
  });
});

describe('path-token senders (dockerhub, quay)', () => {
  it('accepts Docker Hub on /registry/{name}/{token} and schedules with an empty digest (no apiUrl to resolve it)', async () => {
    const res = await post(`/registry/hub/${S.hub}`, registryFixtureText('dockerhub-push.json'));
    expect(res.statusCode).toBe(202);
    await settled();
    expect(gocd.calls).toHaveLength(1);
    expect(gocd.calls[0]!.env).toMatchObject({
      GO_PACKAGE_HUB_SVENDOWIDEIT_TESTHOOK_LABEL: 'latest',
      GO_REPO_HUB_SVENDOWIDEIT_TESTHOOK_DOCKER_REGISTRY_NAME: 'docker.io',
      GO_PACKAGE_HUB_SVENDOWIDEIT_TESTHOOK_DIGEST: '',
    });
  });

  it('answers 401 without the token or with a wrong one', async () => {
    expect((await post('/registry/hub', registryFixtureText('dockerhub-push.json'))).statusCode).toBe(401);
    expect((await post('/registry/hub/wrong-token', registryFixtureText('dockerhub-push.json'))).statusCode).toBe(401);
    expect((await post('/registry/hub/wrong-token', '{broken')).statusCode).toBe(401);
    expect(store.size).toBe(0);
  });

  it('accepts Quay on its path token', async () => {
    expect((await post(`/registry/quay/${S.quay}`, registryFixtureText('quay-push.json'))).statusCode).toBe(202);
    await settled();
    expect(gocd.calls.map((c) => c.pipeline)).toEqual(['quay-pipeline']);
  });
});

describe('signed senders (github, artifactory)', () => {
  const tagged = () => {
    const body = registryFixture<Json>('github-package-published.json');
    body.package.package_version.container_metadata.tag.name = 'nightly';
    return JSON.stringify(body);
  };
  const github = (raw: string, signature: string, event = 'package') =>
    post('/registry/ghcr', raw, {
      'x-github-event': event,
      'x-github-delivery': 'f1e2d3c4-0000-11ee-8000-000000000001',
      'x-hub-signature-256': signature,
    });

  it('accepts a package event whose X-Hub-Signature-256 matches the raw body', async () => {
    const raw = tagged();
    const res = await github(raw, `sha256=${hmacSha256Hex(S.github, raw)}`);
    expect(res.statusCode).toBe(202);
    await settled();
    expect(gocd.calls[0]!.env).toMatchObject({ GO_PACKAGE_GHCR_CODERTOCAT_HELLO_WORLD_NPM_LABEL: 'nightly' });
  });

  it('answers 401 to a bad signature, even when the body is malformed, with no side effect', async () => {
    const raw = tagged();
    expect((await github(raw, `sha256=${hmacSha256Hex('other-key-000000', raw)}`)).statusCode).toBe(401);
    expect((await github(`${raw} `, `sha256=${hmacSha256Hex(S.github, raw)}`)).statusCode).toBe(401);
    expect((await github('{broken', 'sha256=00')).statusCode).toBe(401);
    expect((await post('/registry/ghcr', raw, { 'x-github-event': 'package' })).statusCode).toBe(401);
    await settled();
    expect(gocd.calls).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('answers 200 to the verbatim untagged event and to a ping', async () => {
    const raw = registryFixtureText('github-package-published.json');
    expect((await github(raw, `sha256=${hmacSha256Hex(S.github, raw)}`)).statusCode).toBe(200);
    const ping = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    expect((await github(ping, `sha256=${hmacSha256Hex(S.github, ping)}`, 'ping')).statusCode).toBe(200);
  });

  it('answers 413 to a signed body over the limit before checking it', async () => {
    const raw = JSON.stringify({ pad: 'x'.repeat(70_000) });
    expect((await github(raw, `sha256=${hmacSha256Hex(S.github, raw)}`)).statusCode).toBe(413);
  });

  it('accepts Artifactory with its secret header or a body signature', async () => {
    const raw = registryFixtureText('artifactory-docker-pushed.json');
    expect((await post('/registry/jfrog', raw, { 'x-jfrog-event-auth': S.jfrog })).statusCode).toBe(202);
    expect((await post('/registry/jfrog', raw, { 'x-jfrog-event-auth': hmacSha256Hex(S.jfrog, raw) })).statusCode).toBe(
      200,
    );
    expect((await post('/registry/jfrog', raw, { 'x-jfrog-event-auth': 'nope' })).statusCode).toBe(401);
    await settled();
    expect(gocd.calls.map((c) => c.pipeline)).toEqual(['jfrog-pipeline']);
  });
});

describe('other header senders (ecr, harbor)', () => {
  it('accepts an EventBridge API destination with its API-key header', async () => {
    const raw = registryFixtureText('ecr-image-push.json');
    expect((await post('/registry/ecr', raw, { 'x-api-key': S.ecr })).statusCode).toBe(202);
    expect((await post('/registry/ecr', raw, { authorization: `Bearer ${S.ecr}` })).statusCode).toBe(401);
    await settled();
    expect(gocd.calls[0]!.env).toMatchObject({
      GO_PACKAGE_ECR_MY_REPOSITORY_NAME_LABEL: 'latest',
      GO_REPO_ECR_MY_REPOSITORY_NAME_DOCKER_REGISTRY_NAME: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
    });
  });

  it("accepts Harbor's default and CloudEvents formats (application/cloudevents+json)", async () => {
    const res = await post('/registry/harbor', registryFixtureText('harbor-push-default.json'), {
      authorization: S.harbor,
    });
    expect(res.statusCode).toBe(202);
    const pulled = await post('/registry/harbor', registryFixtureText('harbor-pull-cloudevents.json'), {
      authorization: S.harbor,
      'content-type': 'application/cloudevents+json',
    });
    expect(pulled.statusCode).toBe(200);
    await settled();
    expect(gocd.calls.map((c) => c.pipeline)).toEqual(['harbor-pipeline']);
  });
});

describe('secrets and failures', () => {
  it('never writes a secret, a path token or a signature to the log', async () => {
    await docker(registryFixtureText('distribution-index-push.json'));
    await docker('{}', { authorization: 'Bearer wrong-guess-123' });
    await post(`/registry/hub/${S.hub}`, registryFixtureText('dockerhub-push.json'));
    await post('/registry/hub/wrong-guess-456', registryFixtureText('dockerhub-push.json'));
    await settled();
    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(S), gocd.apiToken, 'wrong-guess-123', 'wrong-guess-456'])
      expect(logs).not.toContain(secret);
  });

  it('answers 503 when the dedupe store is down, so the sender delivers again', async () => {
    await t.close();
    const broken: KeyValueStore = {
      get: async () => undefined,
      put: async () => undefined,
      putIfAbsent: async () => {
        throw Object.assign(new Error('store down'), { code: 'BACKEND_UNAVAILABLE' });
      },
      delete: async () => undefined,
    };
    const { BackendUnavailableError } = await import('../../src/errors.js');
    broken.putIfAbsent = async () => {
      throw new BackendUnavailableError('DynamoDB PutItem failed: ServiceUnavailable');
    };
    t = await createTestApp({ yaml: yaml(gocd.url, gocd.apiToken), registry: { store: broken } });
    const res = await docker(registryFixtureText('distribution-index-push.json'));
    expect(res.statusCode).toBe(503);
    expect(gocd.calls).toEqual([]);
  });

  it('counts events and triggers in the Prometheus metrics', async () => {
    await docker(registryFixtureText('distribution-index-push.json'));
    await docker(registryFixtureText('distribution-blob-push.json'));
    await docker('{}', { authorization: 'Bearer wrong' });
    await settled();
    const text = await t.metrics.registry.metrics();
    expect(text).toContain('gocd_agent_scaler_registry_events_total{source="distribution",outcome="triggered"} 1');
    expect(text).toContain('gocd_agent_scaler_registry_events_total{source="distribution",outcome="ignored"} 1');
    expect(text).toContain('gocd_agent_scaler_registry_events_total{source="distribution",outcome="rejected"} 1');
    expect(text).toContain('gocd_agent_scaler_triggers_total{outcome="scheduled"} 1');
  });
});

describe('waiting for triggers (the Lambda mode)', () => {
  it('answers only after GoCD accepted, and reports a 422 without failing the delivery', async () => {
    await t.close();
    gocd.pipeline('deploy-app', ['GO_PACKAGE_DOCKER_TEAM_APP_LABEL']);
    try {
      t = await createTestApp({
        yaml: yaml(gocd.url, gocd.apiToken),
        waitForRegistryTriggers: true,
        registry: { store },
      });
      const res = await docker(registryFixtureText('distribution-index-push.json'));
      expect(res.statusCode).toBe(202);
      // No idle() here: the answer itself waited for the outcome.
      expect(t.registry.triggers.recentTriggers()).toMatchObject([
        { outcome: 'failed', status: 422, missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_DOCKER_IMAGE' },
      ]);
    } finally {
      gocd.pipeline('deploy-app');
    }
  });
});
