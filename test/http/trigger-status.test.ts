import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const push = (tag: string) =>
    t.app.inject({
      method: 'POST',
      url: '/registry/docker',
      headers: {
        authorization: `Bearer ${SECRET}`,
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
      },
      payload: registryFixtureText('distribution-index-push.json')
        .replaceAll('"1.0.0"', `"${tag}"`)
        .replace(
          '39af35c9-4f1b-4ffd-8aa6-b69ae75c6573',
          `39af35c9-4f1b-4ffd-8aa6-${tag.replaceAll('.', '').padStart(12, '0')}`,
        ),
    });
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
