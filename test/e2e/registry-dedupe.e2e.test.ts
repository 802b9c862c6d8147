import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { freePort, RegistryProcess, RegistryPusher } from '../support/registry-process.js';
import { registryBinary, requireService } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const binary = registryBinary();
const ok = requireService('docker-registry', !!binary, 'apt-get install docker-registry');

const QUAY_TOKEN = 'quay-path-token-0123456789abcdef';
const M = 'QUAY_DGANGAIA_TEST';

describe.skipIf(!ok)('dedupe by what was pushed, against a real docker-registry 2.8 as the registry API', () => {
  const gocd = new FakeGocd();
  let registry: RegistryProcess;
  let push: RegistryPusher;
  let t: TestApp;

  beforeAll(async () => {
    await gocd.start();
    gocd.pipeline('quay-pipeline');
    gocd.pipeline('backends-pipeline');
    registry = await new RegistryProcess({ binary: binary!, port: await freePort() }).start();
    push = new RegistryPusher(registry.url);
    t = await createTestApp({
      yaml: `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken}, scheduleRetryWindowSeconds: 5 }
registries:
  - { name: quay, type: quay, host: quay.io, secret: ${QUAY_TOKEN}, apiUrl: ${registry.url} }
  - { name: local, type: distribution, host: ${registry.host}, secret: local-secret-0123456789, apiUrl: ${registry.url} }
subscriptions:
  - { image: quay.io/dgangaia/test, pipelines: [quay-pipeline] }
  - { image: ${registry.host}/backends/*, tags: '^1\\.', pipelines: [backends-pipeline] }
`,
    });
  });

  afterAll(async () => {
    await t?.registry.triggers.idle();
    await t?.close();
    await registry?.stop();
    await gocd.close();
  });

  /** Quay's notification for dgangaia/test:latest: the same bytes for every push of the tag. */
  const quay = async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/registry/quay/${QUAY_TOKEN}`,
      payload: registryFixtureText('quay-push.json'),
      headers: { 'content-type': 'application/json' },
    });
    await t.registry.triggers.idle();
    return res;
  };
  const digests = () =>
    gocd.calls.filter((c) => c.pipeline === 'quay-pipeline').map((c) => c.env[`GO_PACKAGE_${M}_DIGEST`]);

  it('schedules Quay pushing the same tag twice with two digests twice, and a redelivered push once', async () => {
    const first = await push.singlePlatform('dgangaia/test', 'latest', 'first');
    expect((await quay()).statusCode).toBe(202);
    expect((await quay()).json()).toMatchObject({ accepted: 0, duplicates: 1 }); // redelivered
    const second = await push.singlePlatform('dgangaia/test', 'latest', 'second');
    expect(second.digest).not.toBe(first.digest);
    expect((await quay()).statusCode).toBe(202); // same bytes, new digest: a new push
    expect((await quay()).json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(digests()).toEqual([first.digest, second.digest]);
  });

  it('polls the repositories a glob subscription matches, listing the registry once', async () => {
    await push.singlePlatform('backends/db', '1.0.0', 'db-a');
    await push.singlePlatform('backends/cache', '1.0.0', 'cache-a');
    await push.singlePlatform('frontends/web', '1.0.0', 'web-a');
    const baseline = await t.registry.poller.pollOnce();
    expect(baseline).toMatchObject({ images: 3, globRepositories: 2, baselines: 2, changed: 0, errors: 0 });
    const moved = await push.singlePlatform('backends/cache', '1.0.0', 'cache-b');
    expect(await t.registry.poller.pollOnce()).toMatchObject({ changed: 1, errors: 0 });
    await t.registry.triggers.idle();
    const calls = gocd.calls.filter((c) => c.pipeline === 'backends-pipeline');
    expect(calls.map((c) => c.env.GO_PACKAGE_LOCAL_BACKENDS_CACHE_DIGEST)).toEqual([moved.digest]);
  });
});
