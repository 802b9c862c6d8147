import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixture } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// biome-ignore lint/suspicious/noExplicitAny: tests derive variants by reaching deep into verbatim payloads
type Json = Record<string, any>;

const GITHUB_KEY = 'github-hmac-key-0123456789';
const HUB_TOKEN = 'hub-path-token-0123456789abcdef';

const yaml = (gocd: FakeGocd, maxKeys = 100_000) => `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken}, scheduleRetryWindowSeconds: 5 }
store: { maxKeysPerRegistry: ${maxKeys} }
registries:
  - { name: ghcr, type: github, host: ghcr.io, secret: ${GITHUB_KEY} }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${HUB_TOKEN} }
subscriptions:
  - { image: ghcr.io/codertocat/hello-world-npm, pipelines: [ghcr-pipeline] }
  - { image: docker.io/svendowideit/testhook, pipelines: [hub-pipeline] }
`;

let gocd: FakeGocd;
let t: TestApp | undefined;

beforeAll(async () => {
  gocd = await new FakeGocd().start();
  gocd.pipeline('ghcr-pipeline');
  gocd.pipeline('hub-pipeline');
});
afterAll(async () => {
  await gocd.close();
});
afterEach(async () => {
  await t?.registry.triggers.idle();
  await t?.close();
  t = undefined;
  gocd.calls.length = 0;
});

/** A signed GitHub delivery of a tagged push, as captured by an attacker (body, signature and delivery id). */
function signedGithub(mutate: (body: Json) => void = () => undefined) {
  const body = registryFixture<Json>('github-package-published.json');
  body.package.package_version.container_metadata.tag.name = 'nightly';
  mutate(body);
  const raw = JSON.stringify(body);
  return { raw, signature: `sha256=${hmacSha256Hex(GITHUB_KEY, raw)}` };
}

function postGithub(app: TestApp, d: { raw: string; signature: string }, deliveryId: string) {
  return app.app.inject({
    method: 'POST',
    url: '/registry/ghcr',
    payload: d.raw,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/7d6a5f2',
      'x-github-event': 'package',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': d.signature,
    },
  });
}

const scheduled = (pipeline: string) => gocd.calls.filter((c) => c.pipeline === pipeline).length;

describe('replays that used to schedule again (issue 16 findings 4 and 5)', () => {
  it('refuses a replayed signed GitHub delivery after Docker Hub deliveries filled the memory store', async () => {
    t = await createTestApp({ yaml: yaml(gocd, 100), registry: { retry: { initialDelayMs: 5, maxDelayMs: 20 } } });
    const captured = signedGithub();
    expect((await postGithub(t, captured, 'f1e2d3c4-0000-11ee-8000-000000000001')).statusCode).toBe(202);
    await t.registry.triggers.idle();
    // The attacker holds only the Docker Hub path token: every delivery a new tag, until the hub namespace is full.
    const answers: number[] = [];
    for (let i = 0; i < 120; i++) {
      const body = registryFixture<Json>('dockerhub-push.json');
      body.push_data.tag = `flood-${i}`;
      const res = await t.app.inject({
        method: 'POST',
        url: `/registry/hub/${HUB_TOKEN}`,
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      answers.push(res.statusCode);
      if (res.statusCode === 503) expect(res.json().message).toContain("dedupe store full for 'hub'");
    }
    await t.registry.triggers.idle();
    // Two keys per accepted hub push (delivery + trigger): 50 fit, the rest are refused loudly, none forgotten.
    expect(answers.filter((s) => s === 202)).toHaveLength(50);
    expect(answers.filter((s) => s === 503)).toHaveLength(70);
    expect(scheduled('hub-pipeline')).toBe(50);
    const replay = await postGithub(t, captured, 'f1e2d3c4-0000-11ee-8000-000000000001');
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await t.registry.triggers.idle();
    expect(scheduled('ghcr-pipeline')).toBe(1);
  });

  it('schedules a signed GitHub delivery without a digest once, whatever X-GitHub-Delivery says', async () => {
    t = await createTestApp({ yaml: yaml(gocd), registry: { retry: { initialDelayMs: 5, maxDelayMs: 20 } } });
    const captured = signedGithub((body) => {
      const meta = body.package.package_version.container_metadata;
      delete meta.manifest.digest;
      delete meta.tag.digest;
    });
    const answers = [];
    for (const forged of ['11111111-0000-0000-0000-000000000001', '22222222-0000-0000-0000-000000000002', 'x']) {
      answers.push((await postGithub(t, captured, forged)).statusCode);
      await t.registry.triggers.idle();
    }
    expect(answers).toEqual([202, 200, 200]);
    expect(scheduled('ghcr-pipeline')).toBe(1);
    expect(gocd.calls[0]!.env.GO_PACKAGE_GHCR_CODERTOCAT_HELLO_WORLD_NPM_DIGEST).toBe('');
  });
});
