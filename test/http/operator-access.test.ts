import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maskSecrets } from '../../src/config/config-loader.js';
import { parseConfig } from '../../src/config/config-text.js';
import { GOCD_REQUEST_NAMES } from '../../src/gocd/request-names.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { createAgentBody } from '../support/gocd-bodies.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/test-app.js';

const STATUS_PASSWORD = 'operator-read-only-0123456789';
const NEXT_TOKEN = 'next-forwarder-token-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const S = {
  docker: 'docker-bearer-secret-0123456789',
  hub: 'hub-path-token-0123456789abcdef',
  github: 'github-hmac-key-0123456789',
  ecr: 'ecr-api-destination-key-0123456789',
  harbor: 'harbor-auth-header-0123456789',
  quay: 'quay-path-token-0123456789abcdef',
  jfrog: 'jfrog-event-secret-0123456789',
};

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(yaml = '', env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  t = await createTestApp({ yaml, env: { SCALER_STATUS_PASSWORD: STATUS_PASSWORD, ...env } });
  return t;
}

const status = (a: TestApp, authorization?: string) =>
  a.app.inject({ method: 'GET', url: '/status', headers: authorization ? { authorization } : {} });

describe('GET /status with the operator credential', () => {
  it('refuses a request without a credential with 401 and a Basic challenge, so a browser asks for it', async () => {
    const a = await app();
    const res = await status(a);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="gocd-agent-scaler status", charset="UTF-8"');
    expect(res.json().message).toContain('status credential');
  });

  it('opens with HTTP Basic: the default username operator and the status password', async () => {
    const a = await app();
    const res = await status(a, basic('operator', STATUS_PASSWORD));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<title>gocd-agent-scaler status</title>');
  });

  it('refuses a wrong password, a wrong username and a malformed Basic header', async () => {
    const a = await app('status: { username: ops }');
    expect((await status(a, basic('ops', STATUS_PASSWORD))).statusCode).toBe(200);
    expect((await status(a, basic('operator', STATUS_PASSWORD))).statusCode).toBe(401);
    expect((await status(a, basic('ops', `${STATUS_PASSWORD}x`))).statusCode).toBe(401);
    expect((await status(a, `Basic ${Buffer.from(STATUS_PASSWORD).toString('base64')}`)).statusCode).toBe(401);
    expect((await status(a, 'Basic !!!')).statusCode).toBe(401);
  });

  it('also opens with the status password as a bearer token (curl) and, as before, with the forwarder token', async () => {
    const a = await app();
    expect((await status(a, `Bearer ${STATUS_PASSWORD}`)).statusCode).toBe(200);
    expect((await status(a, `Bearer ${TEST_TOKEN}`)).statusCode).toBe(200);
  });

  it('answers a bearer challenge when no status password is configured, and Basic opens nothing', async () => {
    t = await createTestApp();
    const res = await status(t, basic('operator', TEST_TOKEN));
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gocd-agent-scaler status"');
    expect((await status(t, `Bearer ${TEST_TOKEN}`)).statusCode).toBe(200);
  });

  it('is refused on every GoCD route, as a bearer token and as HTTP Basic, and launches nothing', async () => {
    const a = await app();
    for (const name of GOCD_REQUEST_NAMES) {
      for (const authorization of [`Bearer ${STATUS_PASSWORD}`, basic('operator', STATUS_PASSWORD)]) {
        const res = await a.app.inject({
          method: 'POST',
          url: `/gocd/requests/${name}`,
          headers: { authorization, 'content-type': 'application/json' },
          payload: JSON.stringify(name.endsWith('create-agent') ? createAgentBody(1) : {}),
        });
        expect(res.statusCode, `${name} with ${authorization.split(' ')[0]}`).toBe(401);
      }
    }
    expect(a.backend.agents).toEqual([]);
  });

  it('is refused by config when it equals a credential that launches or triggers (it would open those too)', () => {
    const load = (yaml: string) => () =>
      parseConfig(yaml, 'test', { env: { SCALER_FORWARDER_TOKEN: TEST_TOKEN, SCALER_STATUS_PASSWORD: TEST_TOKEN } });
    expect(load('')).toThrow(/\/status\/password: must differ from gocd.forwarderToken/);
    expect(
      load(`registries: [{ name: d, type: distribution, host: r.example.com, secret: ${TEST_TOKEN} }]
gocd: { forwarderToken: another-forwarder-token-0123 }`),
    ).toThrow(/\/status\/password: must differ from registries\[0\].secret/);
    expect(load('status: { password: a-different-status-password }')).not.toThrow();
  });
});

describe('the status credential against registry routes', () => {
  let gocd: FakeGocd;
  beforeAll(async () => {
    gocd = await new FakeGocd().start();
  });
  afterAll(async () => {
    await gocd.close();
  });

  it('is refused by every registry type, in every place a registry credential can be, and triggers nothing', async () => {
    const a = await app(`
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${S.docker} }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${S.hub} }
  - { name: ghcr, type: github, host: ghcr.io, secret: ${S.github} }
  - { name: ecr, type: ecr, host: 123456789012.dkr.ecr.us-west-2.amazonaws.com, secret: ${S.ecr}, header: X-Api-Key }
  - { name: harbor, type: harbor, host: harbor.example.com, secret: ${S.harbor} }
  - { name: quay, type: quay, host: quay.io, secret: ${S.quay} }
  - { name: jfrog, type: artifactory, host: example.jfrog.io, secret: ${S.jfrog} }
subscriptions:
  - { image: '*', pipelines: [anything] }
`);
    gocd.pipeline('anything');
    const body = registryFixtureText('distribution-manifest-push.json');
    const presented = {
      authorization: `Bearer ${STATUS_PASSWORD}`,
      'x-api-key': STATUS_PASSWORD,
      'x-hub-signature-256': `sha256=${hmacSha256Hex(STATUS_PASSWORD, body)}`,
      'x-jfrog-event-auth': STATUS_PASSWORD,
      'content-type': 'application/json',
    };
    for (const name of ['docker', 'hub', 'ghcr', 'ecr', 'harbor', 'quay', 'jfrog']) {
      for (const url of [`/registry/${name}`, `/registry/${name}/${STATUS_PASSWORD}`]) {
        const res = await a.app.inject({ method: 'POST', url, headers: presented, payload: body });
        expect(res.statusCode, url).toBe(401);
        const viaBasic = await a.app.inject({
          method: 'POST',
          url,
          headers: { ...presented, authorization: basic('operator', STATUS_PASSWORD) },
          payload: body,
        });
        expect(viaBasic.statusCode, `${url} (Basic)`).toBe(401);
      }
    }
    await a.registry.triggers.idle();
    expect(gocd.calls).toEqual([]);
  });
});

describe('rotating the forwarder token', () => {
  const create = (a: TestApp, token: string, id: number) =>
    a.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.create-agent',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(createAgentBody(id)),
    });

  it('step 1: with gocd.secondaryForwarderToken set, both the old and the new token launch and open /status', async () => {
    const a = await app(`gocd: { forwarderToken: ${TEST_TOKEN}, secondaryForwarderToken: ${NEXT_TOKEN} }`);
    expect((await create(a, TEST_TOKEN, 1)).statusCode).toBe(200);
    expect((await create(a, NEXT_TOKEN, 2)).statusCode).toBe(200);
    expect(a.backend.agents).toHaveLength(2);
    expect((await status(a, `Bearer ${NEXT_TOKEN}`)).statusCode).toBe(200);
    expect((await status(a, `Bearer ${TEST_TOKEN}`)).statusCode).toBe(200);
  });

  it('step 3: once the new token is the only one, the old one is refused everywhere', async () => {
    const a = await app(`gocd: { forwarderToken: ${NEXT_TOKEN} }`);
    expect((await create(a, NEXT_TOKEN, 1)).statusCode).toBe(200);
    const old = await create(a, TEST_TOKEN, 2);
    expect(old.statusCode).toBe(401);
    expect((await status(a, `Bearer ${TEST_TOKEN}`)).statusCode).toBe(401);
    expect(a.backend.agents).toHaveLength(1);
  });

  it('masks the secondary token and the status password wherever the config is printed', () => {
    const { config } = parseConfig(
      `gocd: { forwarderToken: ${TEST_TOKEN}, secondaryForwarderToken: ${NEXT_TOKEN} }`,
      't',
      {
        env: { SCALER_STATUS_PASSWORD: STATUS_PASSWORD },
      },
    );
    expect(config.status.password).toBe(STATUS_PASSWORD);
    const printed = JSON.stringify(maskSecrets(config));
    expect(printed).not.toContain(NEXT_TOKEN);
    expect(printed).not.toContain(STATUS_PASSWORD);
  });
});
