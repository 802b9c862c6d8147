import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({
    logLevel: 'info',
    yaml: 'registries: [{ name: hub, type: dockerhub, host: docker.io, secret: hub-path-token-0123456789abcdef }]',
  });
});
afterEach(async () => {
  await t.close();
});

const lines = () => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('refusals in the log', () => {
  it('logs each 401 once, with its route, status, code and reason', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.create-agent',
      headers: { authorization: 'Bearer wrong-token-0123456789', 'x-request-id': 'refused-1' },
    });
    expect(res.statusCode).toBe(401);
    const about = lines().filter((l) => l.reqId === 'refused-1');
    expect(about).toEqual([
      expect.objectContaining({
        msg: 'request refused',
        status: 401,
        route: '/gocd/requests/:requestName',
        code: 'UNAUTHORIZED',
        reason: 'missing or invalid bearer token',
      }),
    ]);
  });

  it('logs a 400 once too, naming the problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.create-agent',
      headers: { ...t.auth, 'x-request-id': 'refused-2' },
      payload: '{"not":',
    });
    expect(res.statusCode).toBe(400);
    const about = lines().filter((l) => l.reqId === 'refused-2');
    expect(about).toHaveLength(1);
    expect(about[0]).toMatchObject({ msg: 'request refused', status: 400, code: 'BAD_REQUEST' });
    expect(String(about[0]!.reason)).toContain('JSON');
  });

  it('logs a refused registry delivery once, with the registry and the specific reason (never the token)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/registry/hub/guessed-token-0123456789',
      headers: { 'content-type': 'application/json', 'x-request-id': 'refused-3' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(401);
    const about = lines().filter((l) => l.reqId === 'refused-3');
    expect(about).toEqual([
      expect.objectContaining({
        msg: 'request refused',
        status: 401,
        code: 'UNAUTHORIZED',
        registry: 'hub',
        reason: 'invalid path token',
      }),
    ]);
    expect(t.logs.join('')).not.toContain('guessed-token-0123456789');
  });
});
