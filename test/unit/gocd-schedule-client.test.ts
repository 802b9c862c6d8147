import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GocdScheduleClient } from '../../src/gocd-api/gocd-schedule-client.js';
import { FakeGocd } from '../support/fake-gocd.js';

const VARS = [
  { name: 'GO_PACKAGE_DOCKER_TEAM_APP_LABEL', value: '1.0.0', secure: false },
  { name: 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST', value: 'sha256:abc', secure: false },
];

let gocd: FakeGocd;
/** A virtual clock: the retry window is measured on it, and waiting between attempts only moves it. */
let clock: number;
let slept: number[];
beforeEach(async () => {
  gocd = await new FakeGocd().start();
  clock = 0;
  slept = [];
});
afterEach(async () => {
  await gocd.close();
});

function client(overrides: Partial<ConstructorParameters<typeof GocdScheduleClient>[0]> = {}) {
  return new GocdScheduleClient({
    apiUrl: gocd.url,
    apiToken: gocd.apiToken,
    retryWindowMs: 5_000,
    initialDelayMs: 10,
    maxDelayMs: 50,
    now: () => clock,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      clock += ms;
    },
    ...overrides,
  });
}

describe('GoCD schedule client', () => {
  it("sends GoCD's schedule request: v1 Accept, confirm header, bearer token, variables, material update", async () => {
    gocd.pipeline('deploy-app');
    const outcome = await client().schedule('deploy-app', VARS);
    expect(outcome).toEqual({
      kind: 'scheduled',
      status: 202,
      attempts: 1,
      message: 'Request to schedule pipeline deploy-app accepted',
    });
    const call = gocd.calls[0]!;
    expect(call.headers).toMatchObject({
      accept: 'application/vnd.go.cd.v1+json',
      'content-type': 'application/json',
      'x-gocd-confirm': 'true',
      authorization: `bearer ${gocd.apiToken}`,
    });
    expect(call.body).toEqual({ environment_variables: VARS, update_materials_before_scheduling: true });
  });

  it('retries a 409 (pipeline busy) and succeeds on the following 202', async () => {
    gocd.pipeline('deploy-app').script('deploy-app', {
      status: 409,
      message:
        'Failed to trigger pipeline [deploy-app] { Stage [deploy] in pipeline [deploy-app] is still in progress }',
    });
    const outcome = await client().schedule('deploy-app', VARS);
    expect(outcome).toMatchObject({ kind: 'scheduled', status: 202, attempts: 2 });
    expect(gocd.callsFor('deploy-app').map((c) => c.status)).toEqual([409, 202]);
  });

  it('retries a 503 and succeeds on the following 202', async () => {
    gocd.pipeline('deploy-app').script('deploy-app', { status: 503 }, { status: 503 });
    const outcome = await client().schedule('deploy-app', VARS);
    expect(outcome).toMatchObject({ kind: 'scheduled', attempts: 3 });
    expect(gocd.callsFor('deploy-app').map((c) => c.status)).toEqual([503, 503, 202]);
  });

  it("reports a 422 at once with GoCD's message and the variable the pipeline does not declare", async () => {
    gocd.pipeline('deploy-app', ['GO_PACKAGE_DOCKER_TEAM_APP_LABEL']);
    const outcome = await client().schedule('deploy-app', VARS);
    expect(outcome).toEqual({
      kind: 'failed',
      status: 422,
      attempts: 1,
      message:
        "Request to schedule pipeline rejected { Variable 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST' has not been configured for pipeline 'deploy-app' }",
      missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST',
      windowExhausted: false,
    });
    expect(gocd.calls).toHaveLength(1);
  });

  it.each([
    [404, "Pipeline 'nope' not found.", 'nope', undefined],
    [401, 'You are not authenticated!', 'deploy-app', 'wrong-token-0000'],
  ])('reports a %i without retrying', async (status, message, pipeline, token) => {
    gocd.pipeline('deploy-app');
    const outcome = await client(token ? { apiToken: token } : {}).schedule(pipeline, VARS);
    expect(outcome).toMatchObject({ kind: 'failed', status, message, attempts: 1, windowExhausted: false });
  });

  it('reports a 403 with its message', async () => {
    gocd.pipeline('deploy-app').script('deploy-app', { status: 403, message: 'You do not have operate permissions' });
    expect(await client().schedule('deploy-app', VARS)).toMatchObject({ kind: 'failed', status: 403, attempts: 1 });
  });

  it('gives up on a pipeline that stays busy once the retry window closes, and says so', async () => {
    gocd
      .pipeline('deploy-app')
      .script('deploy-app', ...Array.from({ length: 200 }, () => ({ status: 409, message: 'busy' })));
    const outcome = await client({ retryWindowMs: 300 }).schedule('deploy-app', VARS);
    expect(outcome).toMatchObject({ kind: 'failed', status: 409, message: 'busy', windowExhausted: true });
    // Waits of 10–50 ms (virtual) in a 300 ms window: every attempt starts inside it, and no later one would.
    expect(outcome.attempts).toBe(slept.length + 1);
    expect(outcome.attempts).toBeGreaterThanOrEqual(300 / 50);
    expect(clock).toBeLessThanOrEqual(300);
    expect(gocd.callsFor('deploy-app')).toHaveLength(outcome.attempts);
  });

  it('retries when GoCD is unreachable, then reports the network error', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const outcome = await client({ apiUrl: `http://127.0.0.1:${closed}/go`, retryWindowMs: 200 }).schedule('x', VARS);
    expect(outcome).toMatchObject({ kind: 'failed', windowExhausted: true });
    expect(outcome.kind === 'failed' && outcome.status).toBeUndefined();
    expect(outcome.message).toContain('ECONNREFUSED');
    expect(outcome.attempts).toBeGreaterThan(1);
  });

  it('stops retrying at once when aborted (shutdown)', async () => {
    gocd.pipeline('deploy-app').script('deploy-app', ...Array.from({ length: 50 }, () => ({ status: 503 })));
    const abort = new AbortController();
    // Real timers here: the 5 s wait must still be running when the abort comes.
    const pending = new GocdScheduleClient({
      apiUrl: gocd.url,
      apiToken: gocd.apiToken,
      initialDelayMs: 5_000,
      maxDelayMs: 5_000,
      retryWindowMs: 60_000,
    }).schedule('deploy-app', VARS, { signal: abort.signal });
    await gocd.waitForCalls(1);
    abort.abort();
    expect(await pending).toMatchObject({ kind: 'aborted', attempts: 1 });
  });
});
