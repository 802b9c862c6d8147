import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryType } from '../../src/config/config.schema.js';
import { registryInvocations } from '../../src/lambda/registry-invocations.js';
import { createLogger } from '../../src/logger.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The registry corpus (test/fixtures/registry, provenance in SOURCES.md): every payload posted the way its provider
 * sends it — path, content type and headers — asserting accepted / ignored / test / refused and, for every accepted
 * push, the exact variables GoCD receives.
 */

const S = {
  docker: 'corpus-docker-bearer-0123456789',
  ecr: 'corpus-ecr-api-key-0123456789',
  hub: 'corpus-hub-path-token-0123456789',
  harbor: 'corpus-harbor-auth-0123456789',
  github: 'corpus-github-hmac-0123456789',
  quay: 'corpus-quay-path-token-0123456789',
  jfrog: 'corpus-jfrog-secret-0123456789',
};

const ECR_WEST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const ECR_EAST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

const yaml = (gocd: FakeGocd) => `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken}, scheduleRetryWindowSeconds: 5 }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${S.docker} }
  - { name: ecr, type: ecr, host: ${ECR_WEST}, secret: ${S.ecr}, header: X-Api-Key }
  - { name: ecr-east, type: ecr, host: ${ECR_EAST}, secret: ${S.ecr}, header: X-Api-Key }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${S.hub} }
  - { name: harbor, type: harbor, host: harbor.example.com, secret: ${S.harbor} }
  - { name: ghcr, type: github, host: ghcr.io, secret: ${S.github} }
  - { name: quay, type: quay, host: quay.io, secret: ${S.quay} }
  - { name: jfrog, type: artifactory, host: example.jfrog.io, secret: ${S.jfrog} }
subscriptions:
  - { image: registry.example.com/team/app, tags: '^1\\.', pipelines: [deploy-app] }
  - { image: registry.example.com/backends/*, pipelines: [deploy-backends] }
  - { image: ${ECR_WEST}/my-repository-name, pipelines: [ecr-pipeline] }
  - { image: ${ECR_WEST}/nudgebee_runbook_sidecar_agent, pipelines: [ecr-pipeline] }
  - { image: ${ECR_EAST}/docker-hub/alpine, pipelines: [replica-pipeline] }
  - { image: docker.io/svendowideit/testhook, pipelines: [hub-pipeline] }
  - { image: harbor.example.com/test-webhook/debian, pipelines: [harbor-pipeline] }
  - { image: harbor.example.com/harbor/alpine, pipelines: [harbor-pipeline] }
  - { image: harbor.example.com/library/busybox, pipelines: [harbor-pipeline] }
  - { image: ghcr.io/codertocat/hello-world-npm, pipelines: [ghcr-pipeline] }
  - { image: quay.io/dgangaia/test, pipelines: [quay-pipeline] }
  - { image: quay.io/devtable/ubuntu, pipelines: [quay-pipeline] }
  - { image: quay.io/mynamespace/repository, pipelines: [quay-pipeline] }
  - { image: example.jfrog.io/docker-remote-cache/library/ubuntu, pipelines: [jfrog-pipeline] }
`;

const PIPELINES = [
  'deploy-app',
  'deploy-backends',
  'ecr-pipeline',
  'replica-pipeline',
  'hub-pipeline',
  'harbor-pipeline',
  'ghcr-pipeline',
  'quay-pipeline',
  'jfrog-pipeline',
];

const V1 = 'application/vnd.docker.distribution.events.v1+json';
/** Harbor's CloudEvents format is sent as `application/cloudevents+json`. */
const CLOUDEVENTS = { mediaType: 'application/cloudevents+json' };
const V2 = 'application/vnd.docker.distribution.events.v2+json';

/** Where and how each provider posts (its path, and the headers it really sends besides its credential). */
function delivery(provider: RegistryType, raw: string, options: { registry?: string; mediaType?: string } = {}) {
  const name = options.registry;
  switch (provider) {
    case 'distribution':
      // distribution's notification sink: its content type, the configured Authorization, Go's user agent.
      return {
        url: `/registry/${name ?? 'docker'}`,
        headers: {
          'content-type': options.mediaType ?? V1,
          authorization: `Bearer ${S.docker}`,
          'user-agent': 'Go-http-client/1.1',
        },
      };
    case 'ecr':
      // An EventBridge API destination: the event as JSON, the Connection's API-key header.
      return {
        url: `/registry/${name ?? 'ecr'}`,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Amazon/EventBridge/ApiDestinations',
          'x-api-key': S.ecr,
        },
      };
    case 'dockerhub':
      return { url: `/registry/hub/${S.hub}`, headers: { 'content-type': 'application/json' } };
    case 'harbor':
      // Harbor's webhook job: the format's content type and the "Auth Header" verbatim as Authorization.
      return {
        url: '/registry/harbor',
        headers: {
          'content-type': options.mediaType ?? 'application/json',
          authorization: S.harbor,
          'user-agent': 'Go-http-client/1.1',
        },
      };
    case 'github':
      return {
        url: '/registry/ghcr',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/7d6a5f2',
          'x-github-event': options.mediaType ?? 'package',
          'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
          'x-github-hook-id': '292430182',
          'x-hub-signature-256': `sha256=${hmacSha256Hex(S.github, raw)}`,
        },
      };
    case 'quay':
      // Quay's WebhookMethod sends Content-type: application/json and nothing else.
      return { url: `/registry/quay/${S.quay}`, headers: { 'content-type': 'application/json' } };
    case 'artifactory':
      return { url: '/registry/jfrog', headers: { 'content-type': 'application/json', 'x-jfrog-event-auth': S.jfrog } };
  }
}

type Outcome =
  | { kind: 'accepted'; pipeline: string; env: Record<string, string> }
  | { kind: 'ignored'; ignored: string[] }
  | { kind: 'test'; pipeline: string };

interface CorpusCase {
  file: string;
  provider: RegistryType;
  /** `registry` overrides the entry posted to; `mediaType` is the content type (or GitHub's event name). */
  via?: { registry?: string; mediaType?: string };
  outcome: Outcome;
}

const env = (m: string, tag: string, image: string, host: string, digest: string) => ({
  [`GO_PACKAGE_${m}_LABEL`]: tag,
  [`GO_PACKAGE_${m}_DOCKER_IMAGE`]: image,
  [`GO_REPO_${m}_DOCKER_REGISTRY_NAME`]: host,
  [`GO_PACKAGE_${m}_DIGEST`]: digest,
});

const TEAM_APP = env(
  'DOCKER_TEAM_APP',
  '1.0.0',
  'team/app',
  'registry.example.com',
  'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74',
);
const DATABASE_X = env(
  'DOCKER_BACKENDS_DATABASE_X',
  '1.2.3',
  'backends/database-x',
  'registry.example.com',
  'sha256:8a1bc9269d6bd76191ff6a0b3b42a9656c53ab6723452956a84c95d2a9a8c595',
);
const HUB = env('HUB_SVENDOWIDEIT_TESTHOOK', 'latest', 'svendowideit/testhook', 'docker.io', '');
const HARBOR = env(
  'HARBOR_TEST_WEBHOOK_DEBIAN',
  'latest',
  'test-webhook/debian',
  'harbor.example.com',
  'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
);
const GHCR = env(
  'GHCR_CODERTOCAT_HELLO_WORLD_NPM',
  'nightly',
  'codertocat/hello-world-npm',
  'ghcr.io',
  'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
);
const JFROG = env(
  'JFROG_DOCKER_REMOTE_CACHE_LIBRARY_UBUNTU',
  'latest',
  'docker-remote-cache/library/ubuntu',
  'example.jfrog.io',
  'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
);
const ECR_DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234';

const accepted = (pipeline: string, e: Record<string, string>): Outcome => ({ kind: 'accepted', pipeline, env: e });
const ignored = (...reasons: string[]): Outcome => ({ kind: 'ignored', ignored: reasons });

const CORPUS: CorpusCase[] = [
  // distribution 2.x (events.v1+json, captured from Debian's docker-registry) and 3.x (events.v2+json)
  { file: 'distribution-index-push.json', provider: 'distribution', outcome: accepted('deploy-app', TEAM_APP) },
  {
    file: 'distribution-index-push.json',
    provider: 'distribution',
    via: { mediaType: V2 },
    outcome: accepted('deploy-app', TEAM_APP),
  },
  {
    file: 'distribution-manifest-push.json',
    provider: 'distribution',
    via: { mediaType: V2 },
    outcome: accepted('deploy-backends', DATABASE_X),
  },
  {
    file: 'distribution-untagged-manifest-push.json',
    provider: 'distribution',
    outcome: ignored('untagged manifest push'),
  },
  {
    file: 'distribution-blob-push.json',
    provider: 'distribution',
    outcome: ignored('push of application/octet-stream (not a manifest)'),
  },
  {
    file: 'distribution-run1-blob-push.json',
    provider: 'distribution',
    outcome: ignored('push of application/octet-stream (not a manifest)'),
  },
  { file: 'distribution-mount.json', provider: 'distribution', outcome: ignored('mount event') },
  { file: 'distribution-delete.json', provider: 'distribution', outcome: ignored('delete event') },
  // Amazon ECR through an EventBridge API destination
  {
    file: 'ecr-image-push.json',
    provider: 'ecr',
    outcome: accepted(
      'ecr-pipeline',
      env('ECR_MY_REPOSITORY_NAME', 'latest', 'my-repository-name', ECR_WEST, ECR_DIGEST),
    ),
  },
  { file: 'ecr-image-push-untagged.json', provider: 'ecr', outcome: ignored('untagged manifest push') },
  { file: 'ecr-image-delete.json', provider: 'ecr', outcome: ignored('ECR Image Action DELETE') },
  {
    file: 'ecr-replication.json',
    provider: 'ecr',
    via: { registry: 'ecr-east' },
    outcome: accepted(
      'replica-pipeline',
      env('ECR_EAST_DOCKER_HUB_ALPINE', '3.17.2', 'docker-hub/alpine', ECR_EAST, ECR_DIGEST),
    ),
  },
  {
    file: 'ecr-replication.json',
    provider: 'ecr',
    outcome: ignored(`event for account 123456789012 in us-east-1, not ${ECR_WEST}`),
  },
  {
    file: 'ecr-replication-untagged.json',
    provider: 'ecr',
    via: { registry: 'ecr-east' },
    outcome: ignored('untagged manifest push'),
  },
  // Docker Hub, current and older (images[], float pushed_at)
  { file: 'dockerhub-push.json', provider: 'dockerhub', outcome: accepted('hub-pipeline', HUB) },
  { file: 'dockerhub-push-legacy.json', provider: 'dockerhub', outcome: accepted('hub-pipeline', HUB) },
  // Harbor, default and CloudEvents formats
  { file: 'harbor-push-default.json', provider: 'harbor', outcome: accepted('harbor-pipeline', HARBOR) },
  {
    file: 'harbor-push-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: accepted('harbor-pipeline', HARBOR),
  },
  { file: 'harbor-push-untagged-default.json', provider: 'harbor', outcome: ignored('untagged artifact push') },
  {
    file: 'harbor-push-untagged-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: ignored('untagged artifact push'),
  },
  { file: 'harbor-pull-default.json', provider: 'harbor', outcome: ignored('PULL_ARTIFACT event') },
  {
    file: 'harbor-pull-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: ignored('harbor.artifact.pulled event'),
  },
  { file: 'harbor-delete-default.json', provider: 'harbor', outcome: ignored('DELETE_ARTIFACT event') },
  {
    file: 'harbor-delete-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: ignored('harbor.artifact.deleted event'),
  },
  { file: 'harbor-scan-completed-default.json', provider: 'harbor', outcome: ignored('SCANNING_COMPLETED event') },
  {
    file: 'harbor-scan-completed-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: ignored('harbor.scan.completed event'),
  },
  {
    file: 'harbor-scan-failed-cloudevents.json',
    provider: 'harbor',
    via: CLOUDEVENTS,
    outcome: ignored('harbor.scan.failed event'),
  },
  // GitHub Packages: package and registry_package, container and not
  { file: 'github-package-published.json', provider: 'github', outcome: ignored('untagged manifest push') },
  { file: 'github-package-published-tagged.json', provider: 'github', outcome: accepted('ghcr-pipeline', GHCR) },
  { file: 'github-package-published-npm.json', provider: 'github', outcome: ignored('npm package') },
  {
    file: 'github-registry-package-published.json',
    provider: 'github',
    via: { mediaType: 'registry_package' },
    outcome: ignored('untagged manifest push'),
  },
  {
    file: 'github-registry-package-published-tagged.json',
    provider: 'github',
    via: { mediaType: 'registry_package' },
    outcome: accepted('ghcr-pipeline', GHCR),
  },
  {
    file: 'github-registry-package-published-npm.json',
    provider: 'github',
    via: { mediaType: 'registry_package' },
    outcome: ignored('npm package'),
  },
  // Quay: current, the 2015 and 2017 tag-map formats, the UI's test notification, other notification kinds
  {
    file: 'quay-push.json',
    provider: 'quay',
    outcome: accepted('quay-pipeline', env('QUAY_DGANGAIA_TEST', 'latest', 'dgangaia/test', 'quay.io', '')),
  },
  {
    file: 'quay-push-v2-endpoint.json',
    provider: 'quay',
    outcome: accepted('quay-pipeline', env('QUAY_DGANGAIA_TEST', 'latest', 'dgangaia/test', 'quay.io', '')),
  },
  {
    file: 'quay-push-legacy-2015.json',
    provider: 'quay',
    outcome: accepted('quay-pipeline', env('QUAY_DEVTABLE_UBUNTU', 'latest', 'devtable/ubuntu', 'quay.io', '')),
  },
  {
    file: 'quay-push-legacy-2017.json',
    provider: 'quay',
    outcome: accepted(
      'quay-pipeline',
      env('QUAY_MYNAMESPACE_REPOSITORY', 'latest', 'mynamespace/repository', 'quay.io', ''),
    ),
  },
  { file: 'quay-test-notification.json', provider: 'quay', outcome: { kind: 'test', pipeline: 'quay-pipeline' } },
  { file: 'quay-build-success.json', provider: 'quay', outcome: ignored('notification without updated_tags') },
  { file: 'quay-vulnerability-found.json', provider: 'quay', outcome: ignored('notification without updated_tags') },
  // JFrog Artifactory: wrapped and flat docker bodies, other events
  { file: 'artifactory-docker-pushed.json', provider: 'artifactory', outcome: accepted('jfrog-pipeline', JFROG) },
  { file: 'artifactory-docker-pushed-flat.json', provider: 'artifactory', outcome: accepted('jfrog-pipeline', JFROG) },
  { file: 'artifactory-docker-deleted.json', provider: 'artifactory', outcome: ignored('docker deleted event') },
  { file: 'artifactory-docker-deleted-flat.json', provider: 'artifactory', outcome: ignored('docker deleted event') },
  { file: 'artifactory-artifact-deployed.json', provider: 'artifactory', outcome: ignored('artifact deployed event') },
];

let gocd: FakeGocd;
let t: TestApp;

beforeAll(async () => {
  gocd = await new FakeGocd().start();
  for (const p of PIPELINES) gocd.pipeline(p);
});
afterAll(async () => {
  await gocd.close();
});
afterEach(async () => {
  await t.registry.triggers.idle();
  await t.close();
  gocd.calls.length = 0;
});

async function post(c: CorpusCase, raw = registryFixtureText(c.file)) {
  const d = delivery(c.provider, raw, c.via);
  return t.app.inject({ method: 'POST', url: d.url, payload: raw, headers: d.headers });
}

const label = (c: CorpusCase) =>
  `${c.provider} ${c.file}${c.via?.mediaType ? ` as ${c.via.mediaType}` : ''}${c.via?.registry ? ` to ${c.via.registry}` : ''} → ${c.outcome.kind}`;

describe('registry corpus: every documented payload, posted as its provider posts it', () => {
  it.each(CORPUS.map((c) => [label(c), c] as const))('%s', async (_label, c) => {
    t = await createTestApp({ yaml: yaml(gocd), registry: { retry: { initialDelayMs: 5, maxDelayMs: 20 } } });
    const res = await post(c);
    await t.registry.triggers.idle();
    const o = c.outcome;
    if (o.kind === 'accepted') {
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({
        accepted: 1,
        duplicates: 0,
        unsubscribed: 0,
        ignored: [],
        pipelines: [
          expect.objectContaining({ pipeline: o.pipeline, outcome: expect.stringMatching(/^(triggered|pending)$/) }),
        ],
      });
      expect(gocd.calls.map((call) => call.pipeline)).toEqual([o.pipeline]);
      expect(gocd.calls[0]!.env).toEqual(o.env);
      // The same delivery again: a duplicate, nothing scheduled, and the answer says so for the pipeline.
      const again = await post(c);
      await t.registry.triggers.idle();
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({
        accepted: 0,
        duplicates: 1,
        pipelines: [{ pipeline: o.pipeline, outcome: 'duplicate' }],
      });
      expect(gocd.calls).toHaveLength(1);
    } else if (o.kind === 'ignored') {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 0, duplicates: 0, unsubscribed: 0, ignored: o.ignored, pipelines: [] });
      expect(gocd.calls).toEqual([]);
    } else {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        accepted: 0,
        duplicates: 0,
        unsubscribed: 0,
        ignored: ['Quay test notification (nothing scheduled)'],
        pipelines: [],
      });
      expect(gocd.calls).toEqual([]);
      expect(t.registry.triggers.recentTriggers()).toMatchObject([
        { pipeline: o.pipeline, tag: 'latest', outcome: 'test' },
        { pipeline: o.pipeline, tag: 'foo', outcome: 'test' },
      ]);
      const page = await t.app.inject({ method: 'GET', url: '/status', headers: t.auth });
      expect(page.body).toContain('test notification from the registry: nothing scheduled');
    }
  });

  it.each(CORPUS.filter((c) => c.provider === 'ecr').map((c) => [label(c), c] as const))(
    'the Lambda handles %s like the HTTP route (EventBridge → function)',
    async (_label, c) => {
      t = await createTestApp({ yaml: yaml(gocd), registry: { retry: { initialDelayMs: 5, maxDelayMs: 20 } } });
      const entryName = c.via?.registry ?? 'ecr';
      // The Lambda tries every ecr entry; keep only the one the HTTP case posts to, like the API destination.
      const config = { ...t.config, registries: t.config.registries.filter((r) => r.name === entryName) };
      const lambda = registryInvocations({
        config,
        registry: t.registry,
        settings: { retryWindowMs: config.gocd.scheduleRetryWindowSeconds * 1000, retryQueue: false },
        logger: createLogger('silent'),
      });
      await lambda.ecr(JSON.parse(registryFixtureText(c.file)), { awsRequestId: 'corpus' });
      await t.registry.triggers.idle();
      if (c.outcome.kind === 'accepted') {
        expect(gocd.calls.map((call) => call.pipeline)).toEqual([c.outcome.pipeline]);
        expect(gocd.calls[0]!.env).toEqual(c.outcome.env);
      } else {
        expect(gocd.calls).toEqual([]);
      }
    },
  );

  it.each([
    ['distribution', V1],
    ['distribution', V2],
    ['harbor', 'application/cloudevents+json'],
    ['harbor', 'application/json'],
  ] as const)('refuses a malformed %s body sent as %s with 400 naming that media type', async (provider, type) => {
    t = await createTestApp({ yaml: yaml(gocd) });
    const c: CorpusCase = { file: '', provider, via: { mediaType: type }, outcome: ignored() };
    const res = await post(c, '{"events": [');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(`Body is not valid JSON but content-type is set to '${type}'`);
    expect(t.registry.store).toBeDefined();
    expect(gocd.calls).toEqual([]);
  });

  it.each(CORPUS.filter((c) => c.outcome.kind === 'accepted').map((c) => [label(c), c] as const))(
    'refuses %s with a wrong credential (401), scheduling nothing',
    async (_label, c) => {
      t = await createTestApp({ yaml: yaml(gocd) });
      const raw = registryFixtureText(c.file);
      const d = delivery(c.provider, raw, c.via);
      const forged = Object.fromEntries(
        Object.entries(d.headers).map(([k, v]) =>
          ['authorization', 'x-api-key', 'x-hub-signature-256', 'x-jfrog-event-auth'].includes(k)
            ? [k, `${v}x`]
            : [k, v],
        ),
      );
      const url = d.url.replace(/\/(corpus-[\w-]+)$/, '/$1x');
      const res = await t.app.inject({ method: 'POST', url, payload: raw, headers: forged });
      expect(res.statusCode).toBe(401);
      await t.registry.triggers.idle();
      expect(gocd.calls).toEqual([]);
    },
  );
});
