import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseImageRef, rerun as rerunCli } from '../../src/main/rerun-command.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/test-app.js';

const SECRET = 'docker-bearer-secret-0123456789';
const STATUS_PASSWORD = 'operator-read-only-0123456789';
const DIGEST = 'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74';
const RERUN = {
  registry: 'docker',
  image: 'registry.example.com/team/app',
  tag: '1.0.0',
  digest: DIGEST,
  pipeline: 'deploy-app',
};

let gocd: FakeGocd;
let t: TestApp;
beforeAll(async () => {
  gocd = await new FakeGocd().start();
});
afterAll(async () => {
  await gocd.close();
});
beforeEach(async () => {
  gocd.calls.length = 0;
  // deploy-app declares no variable yet: GoCD answers 422 naming the first one it is sent.
  gocd.pipeline('deploy-app', []);
  t = await createTestApp({
    env: { SCALER_STATUS_PASSWORD: STATUS_PASSWORD },
    yaml: `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${SECRET} }
subscriptions:
  - { image: registry.example.com/team/app, pipelines: [deploy-app] }
  - { image: registry.example.com/other, pipelines: [deploy-other] }
`,
  });
});
afterEach(async () => {
  await t.registry.triggers.idle();
  await t.close();
});

const push = () =>
  t.app.inject({
    method: 'POST',
    url: '/registry/docker',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    payload: registryFixtureText('distribution-index-push.json'),
  });
const rerun = (authorization: string, body: object = RERUN) =>
  t.app.inject({
    method: 'POST',
    url: '/triggers/rerun',
    headers: { authorization, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

describe('re-running a trigger GoCD refused', () => {
  it('after a 422 a redelivery stays a duplicate; once the pipeline is fixed, POST /triggers/rerun schedules it', async () => {
    expect((await push()).statusCode).toBe(202);
    await t.registry.triggers.idle();
    expect(t.registry.triggers.recentTriggers()).toMatchObject([{ outcome: 'failed', status: 422 }]);

    // The same push again (a new delivery of the digest): GoCD's refusal stands, nothing is scheduled.
    const again = registryFixtureText('distribution-index-push.json').replace(
      /"id":\s*"[^"]+"/,
      '"id": "redelivered-1"',
    );
    const redelivery = await t.app.inject({
      method: 'POST',
      url: '/registry/docker',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      payload: again,
    });
    expect(redelivery.json()).toMatchObject({ accepted: 0, pipelines: [{ outcome: 'duplicate' }] });
    await t.registry.triggers.idle();
    expect(gocd.calls.map((c) => c.status)).toEqual([422]);

    // The operator fixes the pipeline, then re-runs the trigger.
    gocd.pipeline('deploy-app');
    const res = await rerun(`Bearer ${gocd.apiToken}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ source: 'rerun', pipeline: 'deploy-app', outcome: 'scheduled', status: 202 });
    expect(gocd.calls.map((c) => c.status)).toEqual([422, 202]);
    expect(t.registry.triggers.recentTriggers().at(-1)).toMatchObject({ source: 'rerun', outcome: 'scheduled' });
    const page = await t.app.inject({
      method: 'GET',
      url: '/status',
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(page.body).toContain('rerun');

    // Scheduled now: there is nothing left to re-run.
    const twice = await rerun(`Bearer ${gocd.apiToken}`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toContain('it was scheduled');
    expect(gocd.calls).toHaveLength(2);
  });

  it('the trigger report prints the re-run command, and `gocd-agent-scaler rerun` run with it schedules the pipeline', async () => {
    await push();
    await t.registry.triggers.idle();
    const page = await t.app.inject({
      method: 'GET',
      url: '/status',
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    const command = `gocd-agent-scaler rerun docker registry.example.com/team/app:1.0.0@${DIGEST} deploy-app`;
    expect(page.body).toContain(`once fixed, re-run: <code>${command}</code>`);

    gocd.pipeline('deploy-app');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'rerun-'));
    const config = join(dir, 'scaler.yaml');
    writeFileSync(config, `server: { port: ${port} }\ngocd: { apiToken: ${gocd.apiToken} }\n`);
    let out = '';
    let err = '';
    const args = command.split(' ').slice(2);
    const code = await rerunCli(
      args,
      (s) => (out += s),
      (s) => (err += s),
      { SCALER_CONFIG: config },
    );
    expect({ code, out, err }).toEqual({ code: 0, out: 'deploy-app: scheduled (GoCD 202)\n', err: '' });
    expect(gocd.calls.map((c) => c.status)).toEqual([422, 202]);
    // Again: nothing to re-run, exit 1 with the reason.
    err = '';
    expect(
      await rerunCli(
        args,
        () => undefined,
        (s) => (err += s),
        { SCALER_CONFIG: config },
      ),
    ).toBe(1);
    expect(err).toContain('not re-run (HTTP 409)');
    expect(err).toContain('it was scheduled');
  });

  it('re-runs only a failed trigger of a subscribed pipeline, and says why not otherwise', async () => {
    const none = await rerun(`Bearer ${gocd.apiToken}`);
    expect(none.statusCode).toBe(409);
    expect(none.json().message).toContain('no trigger of it is recorded');
    const unsubscribed = await rerun(`Bearer ${gocd.apiToken}`, { ...RERUN, pipeline: 'deploy-other' });
    expect(unsubscribed.statusCode).toBe(409);
    expect(unsubscribed.json().message).toContain(
      'no subscription of registry.example.com/team/app:1.0.0 names pipeline deploy-other',
    );
    const wrongHost = await rerun(`Bearer ${gocd.apiToken}`, { ...RERUN, image: 'docker.io/team/app' });
    expect(wrongHost.statusCode).toBe(400);
    expect(wrongHost.json().message).toContain('image: must be an image of registry.example.com');
    const unknown = await rerun(`Bearer ${gocd.apiToken}`, { ...RERUN, registry: 'nope' });
    expect(unknown.statusCode).toBe(400);
    expect((await rerun(`Bearer ${gocd.apiToken}`, { ...RERUN, pipeline: undefined })).statusCode).toBe(400);
    expect(gocd.calls).toEqual([]);
  });

  it('needs the GoCD API token: the forwarder token, the status login and a registry secret are refused', async () => {
    await push();
    await t.registry.triggers.idle();
    gocd.pipeline('deploy-app');
    const basic = `Basic ${Buffer.from(`operator:${STATUS_PASSWORD}`).toString('base64')}`;
    for (const authorization of [`Bearer ${TEST_TOKEN}`, `Bearer ${STATUS_PASSWORD}`, basic, `Bearer ${SECRET}`, '']) {
      expect((await rerun(authorization)).statusCode, authorization).toBe(401);
    }
    expect(gocd.calls.map((c) => c.status)).toEqual([422]);
  });
});

describe('the rerun command line', () => {
  it('splits <image>:<tag>[@<digest>], a registry port included', () => {
    expect(parseImageRef('registry.example.com:5000/team/app:1.0.0@sha256:abc')).toEqual({
      image: 'registry.example.com:5000/team/app',
      tag: '1.0.0',
      digest: 'sha256:abc',
    });
    expect(parseImageRef('docker.io/a/b:latest')).toEqual({ image: 'docker.io/a/b', tag: 'latest' });
    expect(parseImageRef('registry.example.com:5000/team/app')).toBeUndefined();
  });

  it('exits 2 with its usage for missing arguments', async () => {
    let err = '';
    expect(
      await rerunCli(
        ['docker'],
        () => undefined,
        (s) => (err += s),
        {},
      ),
    ).toBe(2);
    expect(err).toContain('usage: gocd-agent-scaler rerun');
  });
});
