import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SECRET = 'docker-bearer-secret-0123456789';
let gocd: FakeGocd;
let t: TestApp;

beforeAll(async () => {
  gocd = await new FakeGocd().start();
  gocd.pipeline('deploy-app');
  t = await createTestApp({
    yaml: `gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries: [{ name: docker, type: distribution, host: registry.example.com, secret: ${SECRET} }]
subscriptions: [{ image: registry.example.com/team/app, pipelines: [deploy-app] }]`,
  });
});
afterAll(async () => {
  await t.close();
  await gocd.close();
});

/** Posts the distribution fixture's push of `team/<image>:<tag>` (its own event id) to `app`. */
function pushTo(app: TestApp, tag: string, image = 'app') {
  return app.app.inject({
    method: 'POST',
    url: '/registry/docker',
    headers: {
      authorization: `Bearer ${SECRET}`,
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
    },
    payload: registryFixtureText('distribution-index-push.json')
      .replaceAll('team/app', `team/${image}`)
      .replaceAll('"1.0.0"', `"${tag}"`)
      .replace(
        '39af35c9-4f1b-4ffd-8aa6-b69ae75c6573',
        `39af35c9-4f1b-4ffd-8aa6-${`${image}${tag.replaceAll('.', '')}`.padStart(12, '0')}`,
      ),
  });
}

describe('registry triggers in the status views', () => {
  it('the plugin status report and /status list recent triggers with their outcome', async () => {
    const push = await t.app.inject({
      method: 'POST',
      url: '/registry/docker',
      headers: {
        authorization: `Bearer ${SECRET}`,
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
      },
      payload: registryFixtureText('distribution-index-push.json'),
    });
    expect(push.statusCode).toBe(202);
    await t.registry.triggers.idle();
    const report = await t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.plugin-status-report',
      headers: t.auth,
      payload: JSON.stringify({ all_cluster_profiles_properties: [] }),
    });
    const view = (report.json() as { view: string }).view;
    expect(view).toContain('Registry triggers');
    expect(view).toContain('registry.example.com/team/app:1.0.0');
    expect(view).toMatch(/deploy-app<\/td><td class="">scheduled/);
    const page = await t.app.inject({
      method: 'GET',
      url: '/status',
      headers: { authorization: t.auth.authorization! },
    });
    expect(page.body).toContain('registry.example.com/team/app:1.0.0');
  });
});

describe('registry triggers on the server-health panel', () => {
  const push = (tag: string) => pushTo(t, tag);
  const healthAtServerPing = async () =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/gocd/requests/cd.go.elastic-agent.server-ping',
        headers: t.auth,
        payload: JSON.stringify({ all_cluster_profile_properties: [], agents: [] }),
      })
    ).json().health as { type: string; message: string }[];

  it('shows a trigger GoCD refused until a later one is scheduled', async () => {
    gocd.script('deploy-app', { status: 403, message: 'You do not have operate permission' });
    expect((await push('2.0.0')).statusCode).toBeLessThan(300);
    await t.registry.triggers.idle();
    expect(await healthAtServerPing()).toEqual([
      {
        type: 'error',
        message: expect.stringMatching(
          /registry\.example\.com\/team\/app:2\.0\.0 .* did not schedule pipeline deploy-app: the GoCD API answered 403; check gocd\.apiToken/,
        ),
      },
    ]);
    expect((await push('2.0.1')).statusCode).toBe(202);
    await t.registry.triggers.idle();
    expect(await healthAtServerPing()).toEqual([]);
  });
});

// Two service processes (or Lambda containers) sharing one store: the problem used to live in one process's memory and
// was written to the shared board, so the other's server-ping (with nothing in its memory) deleted it.
describe('registry-trigger problems across processes sharing a store', () => {
  it('one process records it, the other reports it, and only a schedule of that pipeline clears it', async () => {
    const registryStore = new MemoryStore();
    const noticeStore = new MemoryStore();
    const yaml = `gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries: [{ name: docker, type: distribution, host: registry.example.com, secret: ${SECRET} }]
subscriptions:
  - { image: registry.example.com/team/app, pipelines: [deploy-shared] }
  - { image: registry.example.com/team/web, pipelines: [deploy-web] }`;
    const a = await createTestApp({ yaml, registry: { store: registryStore }, noticeStore });
    const b = await createTestApp({ yaml, registry: { store: registryStore }, noticeStore });
    gocd.pipeline('deploy-shared').pipeline('deploy-web');
    const push = (app: TestApp, image: string, tag: string) => pushTo(app, tag, image);
    const health = async (app: TestApp) =>
      (
        (await app.gocd('server-ping', { all_cluster_profile_properties: [], agents: [] })).json() as {
          health: { message: string }[];
        }
      ).health.map((h) => h.message);
    try {
      gocd.script('deploy-shared', { status: 403, message: 'You do not have operate permission' });
      expect((await push(a, 'app', '3.0.0')).statusCode).toBe(202);
      await a.registry.triggers.idle();
      // b never saw the trigger: its server-ping reports it, and does not clear it for a.
      expect(await health(b)).toEqual([expect.stringContaining('did not schedule pipeline deploy-shared')]);
      expect(await health(a)).toHaveLength(1);
      // Another pipeline scheduled (in b): the problem stays.
      expect((await push(b, 'web', '3.0.0')).statusCode).toBe(202);
      await b.registry.triggers.idle();
      expect(await health(a)).toHaveLength(1);
      // deploy-shared scheduled in b: cleared for both.
      expect((await push(b, 'app', '3.0.1')).statusCode).toBe(202);
      await b.registry.triggers.idle();
      expect(await health(a)).toEqual([]);
      expect(await health(b)).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
