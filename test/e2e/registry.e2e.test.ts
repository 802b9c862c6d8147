import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FakeGocd, type ScheduleCall } from '../support/fake-gocd.js';
import { freePort, RegistryProcess, RegistryPusher } from '../support/registry-process.js';
import { registryBinary, requireService } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const binary = registryBinary();
const ok = requireService('docker-registry', !!binary, 'apt-get install docker-registry');

const BEARER = 'registry-notification-bearer-0123456789';
const M = 'DOCKER_TEAM_APP';

/** What a schedule call says about the push: pipeline, tag and digest. */
const summary = (c: ScheduleCall) =>
  `${c.pipeline} ${c.env[`GO_PACKAGE_${M}_LABEL`]} ${c.env[`GO_PACKAGE_${M}_DIGEST`]}`;

describe.skipIf(!ok)('registry push → GoCD schedule, with a real docker-registry 2.8 sending notifications', () => {
  const gocd = new FakeGocd();
  const store = new MemoryStore(); // shared by both service instances: the dedupe state outlives the restart
  let registry: RegistryProcess;
  let push: RegistryPusher;
  let service: TestApp | undefined;
  let servicePort: number;
  const digests: Record<string, string> = {};

  const config = () => `
gocd:
  apiUrl: ${gocd.url}
  apiToken: ${gocd.apiToken}
  scheduleRetryWindowSeconds: 30
registries:
  - name: docker
    type: distribution
    host: ${registry.host}
    secret: ${BEARER}
subscriptions:
  - { image: ${registry.host}/team/app, tags: '^1\\.', pipelines: [deploy-app] }
  - { image: ${registry.host}/team/app, tags: '^latest$', pipelines: [promote-latest] }
  - { image: ${registry.host}/team/app, tags: '^9\\.', pipelines: [never-scheduled] }
`;

  async function startService(): Promise<void> {
    service = await createTestApp({ yaml: config(), registry: { store } });
    await service.app.listen({ host: '127.0.0.1', port: servicePort });
  }

  /** Every notification delivered and every trigger it started ended. */
  async function settled(): Promise<void> {
    await registry.drained();
    await service!.registry.triggers.idle();
  }

  beforeAll(async () => {
    await gocd.start();
    for (const p of ['deploy-app', 'promote-latest', 'never-scheduled']) {
      gocd.pipeline(p, [
        `GO_PACKAGE_${M}_LABEL`,
        `GO_PACKAGE_${M}_DOCKER_IMAGE`,
        `GO_REPO_${M}_DOCKER_REGISTRY_NAME`,
        `GO_PACKAGE_${M}_DIGEST`,
      ]);
    }
    servicePort = await freePort();
    registry = new RegistryProcess({
      binary: binary!,
      port: await freePort(),
      notify: { url: `http://127.0.0.1:${servicePort}/registry/docker`, bearer: BEARER },
    });
    await registry.start();
    push = new RegistryPusher(registry.url);
    await startService();
  });

  afterAll(async () => {
    await service?.close();
    await registry?.stop();
    await gocd.close();
  });

  it('schedules the subscribed pipeline once for a single-platform image, with the poller variables', async () => {
    digests.single = (await push.singlePlatform('team/app', '1.0.0', 'one')).digest;
    await settled();
    expect(gocd.calls.map(summary)).toEqual([`deploy-app 1.0.0 ${digests.single}`]);
    expect(gocd.calls[0]!.env).toEqual({
      [`GO_PACKAGE_${M}_LABEL`]: '1.0.0',
      [`GO_PACKAGE_${M}_DOCKER_IMAGE`]: 'team/app',
      [`GO_REPO_${M}_DOCKER_REGISTRY_NAME`]: registry.host,
      [`GO_PACKAGE_${M}_DIGEST`]: digests.single,
    });
    // The registry sent blob pushes and the manifest push; all answered 2xx (none failed, none retried).
    const metrics = await registry.endpointMetrics();
    expect(metrics.Successes).toBeGreaterThanOrEqual(3);
    expect(metrics.Failures + metrics.Errors).toBe(0);
  });

  it('schedules once for a two-platform index, with the index digest (untagged children ignored)', async () => {
    digests.index = (await push.twoPlatformIndex('team/app', '1.1.0', 'two')).descriptor.digest;
    await settled();
    expect(gocd.calls.map(summary).slice(1)).toEqual([`deploy-app 1.1.0 ${digests.index}`]);
  });

  it('schedules the pipeline subscribed to the new tag when the index is retagged', async () => {
    const { index } = await push.twoPlatformIndex('team/app', '1.1.0', 'two'); // same content: same digests
    const retag = await push.manifest('team/app', 'latest', 'application/vnd.oci.image.index.v1+json', index);
    expect(retag.digest).toBe(digests.index);
    await settled();
    expect(gocd.calls.map(summary).slice(2)).toEqual([`promote-latest latest ${digests.index}`]);
  });

  it('schedules nothing for a re-push of an unchanged digest', async () => {
    const before = gocd.calls.length;
    const { index } = await push.twoPlatformIndex('team/app', '1.1.0', 'two');
    await push.manifest('team/app', '1.1.0', 'application/vnd.oci.image.index.v1+json', index);
    await push.singlePlatform('team/app', '1.0.0', 'one');
    const metrics = await settled().then(() => registry.endpointMetrics());
    expect(metrics.Failures + metrics.Errors).toBe(0);
    expect(gocd.calls.length).toBe(before);
    expect(
      service!.registry.triggers.recentTriggers().filter((r) => r.outcome === 'duplicate').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('gets a push made while the service is down through once it is back (the registry retries)', async () => {
    await service!.close();
    service = undefined;
    digests.down = (await push.singlePlatform('team/app', '1.2.0', 'while-down')).digest;
    // Refused connections count as errors; the registry keeps the events queued and retries them.
    const failing = await registry.waitForMetrics((m) => m.Errors >= 3);
    expect(failing.Pending).toBeGreaterThan(0);
    await startService();
    await settled();
    expect(gocd.calls.map(summary).slice(3)).toEqual([`deploy-app 1.2.0 ${digests.down}`]);
  });

  it('scheduled exactly the expected pipelines, once each, and never the one whose tag filter matched nothing', () => {
    expect(gocd.calls.map(summary)).toEqual([
      `deploy-app 1.0.0 ${digests.single}`,
      `deploy-app 1.1.0 ${digests.index}`,
      `promote-latest latest ${digests.index}`,
      `deploy-app 1.2.0 ${digests.down}`,
    ]);
    expect(gocd.callsFor('never-scheduled')).toEqual([]);
    expect(gocd.calls.every((c) => c.status === 202)).toBe(true);
  });
});

describe.skipIf(!ok)('backstop poll against a real docker-registry (webhook dropped)', () => {
  const gocd = new FakeGocd();
  let registry: RegistryProcess;
  let push: RegistryPusher;
  let t: TestApp;

  beforeAll(async () => {
    await gocd.start();
    gocd.pipeline('deploy-app');
    // No notifications configured: every webhook is "dropped"; only the poll can see pushes.
    registry = await new RegistryProcess({ binary: binary!, port: await freePort() }).start();
    push = new RegistryPusher(registry.url);
    t = await createTestApp({
      yaml: `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries:
  - { name: docker, type: distribution, host: ${registry.host}, secret: ${BEARER}, apiUrl: ${registry.url} }
subscriptions:
  - { image: ${registry.host}/team/app, tags: '^1\\.', pipelines: [deploy-app] }
poll: { intervalSeconds: 3600 }
`,
    });
  });

  afterAll(async () => {
    await t?.close();
    await registry?.stop();
    await gocd.close();
  });

  it('records a baseline, then schedules once when a tag moved, reading tags and digests from the registry API', async () => {
    await push.singlePlatform('team/app', '1.0.0', 'first');
    await push.singlePlatform('team/app', 'latest', 'first');
    expect(await t.registry.poller.pollOnce()).toMatchObject({ images: 1, baselines: 1, changed: 0, errors: 0 });
    const moved = await push.singlePlatform('team/app', '1.0.0', 'second');
    expect(await t.registry.poller.pollOnce()).toMatchObject({ changed: 1, errors: 0 });
    await t.registry.triggers.idle();
    expect(await t.registry.poller.pollOnce()).toMatchObject({ changed: 0 });
    await t.registry.triggers.idle();
    expect(
      gocd.calls.map(
        (c) => `${c.pipeline} ${c.env.GO_PACKAGE_DOCKER_TEAM_APP_LABEL} ${c.env.GO_PACKAGE_DOCKER_TEAM_APP_DIGEST}`,
      ),
    ).toEqual([`deploy-app 1.0.0 ${moved.digest}`]);
  });
});
