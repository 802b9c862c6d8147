import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registryInvocations } from '../../src/lambda/registry-invocations.js';
import { createLogger } from '../../src/logger.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixture } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// One use case accepts a registry delivery (src/registry/delivery.ts), whatever brings it: the same ECR events, posted
// by an EventBridge API destination to `POST /registry/ecr` or delivered to the Lambda by an EventBridge rule, count
// the same outcomes in `gocd_agent_scaler_registry_events_total`.

const ECR = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const KEY = 'ecr-api-destination-key-0123456789';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited deep inside
type Json = Record<string, any>;

const gocd = new FakeGocd();
let t: TestApp | undefined;

beforeAll(async () => {
  await gocd.pipeline('ecr-pipeline').start();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});
afterAll(async () => {
  await gocd.close();
});

const yaml = () => `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken}, scheduleRetryWindowSeconds: 5 }
registries:
  - { name: ecr, type: ecr, host: ${ECR}, secret: ${KEY}, header: X-Api-Key }
subscriptions:
  - { image: ${ECR}/my-repository-name, pipelines: [ecr-pipeline] }
`;

/** An ECR push of `repository:tag`, with its own event id. */
function push(id: string, repository = 'my-repository-name', tag = 'latest'): Json {
  const event = registryFixture<Json>('ecr-image-push.json');
  return {
    ...event,
    id,
    detail: {
      ...event.detail,
      'repository-name': repository,
      'image-tag': tag,
      'image-digest': `sha256:${id.padEnd(64, '0')}`,
    },
  };
}

/** Every outcome at once: triggered, a duplicate (the same event again), unmatched, ignored, rejected. */
const EVENTS: Json[] = [
  push('a1'),
  push('a1'),
  push('b2', 'someone-elses-repository'),
  registryFixture<Json>('ecr-image-delete.json'),
  // An ECR event whose detail is not an object: not what ECR sends.
  { ...push('c3'), detail: 'PUSH' },
];

/** The registry-event counters, by outcome. */
async function counts(app: TestApp): Promise<Record<string, number>> {
  const text = (await app.app.inject({ method: 'GET', url: '/metrics' })).body;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^gocd_agent_scaler_registry_events_total\{([^}]*)\} (\d+)/gm)) {
    const outcome = /outcome="([^"]+)"/.exec(m[1]!)?.[1];
    const source = /source="([^"]+)"/.exec(m[1]!)?.[1];
    if (outcome && source === 'ecr') out[outcome] = (out[outcome] ?? 0) + Number(m[2]);
  }
  return out;
}

describe('registry outcome metrics, by path', () => {
  it('count the same outcomes for the same ECR events through POST /registry/ecr and through the Lambda', async () => {
    t = await createTestApp({ yaml: yaml() });
    for (const event of EVENTS) {
      await t.app.inject({
        method: 'POST',
        url: '/registry/ecr',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        payload: JSON.stringify(event),
      });
      await t.registry.triggers.idle();
    }
    const viaHttp = await counts(t);
    await t.close();

    t = await createTestApp({ yaml: yaml() });
    const lambda = registryInvocations({
      config: t.config,
      registry: t.registry,
      settings: { retryWindowMs: 5_000, retryQueue: false },
      logger: createLogger('silent'),
    });
    for (const event of EVENTS) await lambda.ecr(event as never, { awsRequestId: 'metrics' });
    const viaLambda = await counts(t);

    expect(viaHttp).toEqual({ triggered: 1, duplicate: 1, unmatched: 1, ignored: 1, rejected: 1 });
    expect(viaLambda).toEqual(viaHttp);
  });
});
