import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HttpResultV2, SqsBatchResponse } from '../../src/lambda/lambda-events.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { job } from '../support/gocd-bodies.js';
import { registryFixture } from '../support/registry-fixtures.js';

// The real entry (`src/main/lambda.ts`), initialised once like a Lambda container, fed real event shapes: a Function URL
// (payload v2) request, EventBridge's ECR push and schedule events, and SQS batches of the retry queue.

const FORWARDER_TOKEN = 'forwarder-token-from-secrets-manager-0123';
const FORWARDER_SECRET_ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:scaler/forwarder-AbCdEf';
const GITHUB_KEY = 'github-hmac-key-0123456789';
const QUEUE_URL = 'https://sqs.us-west-2.amazonaws.com/123456789012/scaler-retries';
const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited deep inside (registry payloads)
type Json = Record<string, any>;
type Handler = (event: unknown, context?: Json) => Promise<unknown>;

const secrets = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
const ecr = mockClient(ECRClient);
const gocd = new FakeGocd();
const fakeEcs = new FakeEcs({ clusters: ['lambda-agents'] });
let handler: Handler;
let dir: string;

/** A Function URL event exactly as Lambda delivers it (payload format 2.0). */
function urlEvent(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  base64 = false,
): Json {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      host: 'abcdefghij.lambda-url.us-west-2.on.aws',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.7',
      ...headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-west-2.on.aws',
      domainPrefix: 'abcdefghij',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: `req-${Math.random().toString(16).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: '23/Nov/2026:21:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    ...(body === undefined
      ? {}
      : { body: base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: base64 }),
  };
}

/** An async-invocation context with a given remaining time. */
const context = (remainingMs = 120_000): Json => ({
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000000',
  getRemainingTimeInMillis: () => remainingMs,
});

const ecrPush = (overrides: Json = {}): Json => {
  const event = registryFixture<Json>('ecr-image-push.json');
  return { ...event, ...overrides, detail: { ...event.detail, ...(overrides.detail ?? {}) } };
};

const githubBody = (tag: string): string => {
  const body = registryFixture<Json>('github-package-published.json');
  body.package.package_version.container_metadata.tag.name = tag;
  // Non-ASCII bytes and a pretty-printed layout: the HMAC must cover exactly the bytes GitHub sent.
  body.package.description = 'Grüße — ☃';
  return JSON.stringify(body, null, 2);
};

const sqsEvent = (records: { messageId: string; body: string; receiveCount?: number }[]): Json => ({
  Records: records.map((r) => ({
    messageId: r.messageId,
    receiptHandle: `handle-${r.messageId}`,
    body: r.body,
    attributes: {
      ApproximateReceiveCount: String(r.receiveCount ?? 1),
      SentTimestamp: '1795000000000',
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1795000000000',
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-west-2:123456789012:scaler-retries',
    awsRegion: 'us-west-2',
  })),
});

beforeAll(async () => {
  await gocd.pipeline('ghcr-pipeline').pipeline('ecr-pipeline').start();
  dir = mkdtempSync(join(tmpdir(), 'scaler-lambda-'));
  const config = join(dir, 'scaler.yaml');
  writeFileSync(
    config,
    `gocd:
  forwarderToken: \${SCALER_FORWARDER_TOKEN}
  apiUrl: ${gocd.url}
  apiToken: ${gocd.apiToken}
log:
  level: silent
registries:
  - { name: ghcr, type: github, host: ghcr.io, secret: '${GITHUB_KEY}' }
  - { name: ecr, type: ecr, host: ${ECR_HOST}, secret: ecr-api-destination-key-0123456789, header: X-Api-Key }
subscriptions:
  - { image: ghcr.io/codertocat/hello-world-npm, pipelines: [ghcr-pipeline] }
  - { image: ${ECR_HOST}/my-repository-name, tags: '^1\\.', pipelines: [ecr-pipeline] }
# One RunTask turn, then one every 4 s: a second create-agent has to wait for ECS's bucket.
ecs: { runTask: { burst: 1, refillPerSecond: 0.25 } }
`,
  );
  await fakeEcs.start();
  vi.stubEnv('AWS_ENDPOINT_URL_ECS', fakeEcs.url);
  secrets.on(GetSecretValueCommand, { SecretId: FORWARDER_SECRET_ARN }).resolves({ SecretString: FORWARDER_TOKEN });
  vi.stubEnv('SCALER_CONFIG', config);
  vi.stubEnv('SCALER_FORWARDER_TOKEN', '');
  vi.stubEnv('SCALER_FORWARDER_TOKEN_SECRET_ARN', FORWARDER_SECRET_ARN);
  vi.stubEnv('SCALER_RETRY_QUEUE_URL', QUEUE_URL);
  vi.stubEnv('AWS_REGION', 'us-west-2');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
  ({ handler } = (await import('../../src/main/lambda.js')) as unknown as { handler: Handler });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await gocd.close();
  await fakeEcs.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  ecr.reset();
});

describe('Function URL (payload v2) through the Fastify app', () => {
  it('read the forwarder token from Secrets Manager once, at init', () => {
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secrets.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: FORWARDER_SECRET_ARN });
  });

  it('answers GET /healthz with the app status', async () => {
    const res = (await handler(urlEvent('GET', '/healthz'), context())) as HttpResultV2;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toMatchObject({ status: 'ok' });
    expect(res.isBase64Encoded).toBe(false);
  });

  it('serves a GoCD request whose body arrives base64-encoded, with the token from Secrets Manager', async () => {
    const body = JSON.stringify({ image: 'gocd/agent:v1', docker_mode: 'bogus' });
    const res = (await handler(
      urlEvent(
        'POST',
        '/gocd/requests/cd.go.elastic-agent.validate-elastic-agent-profile',
        body,
        { authorization: `Bearer ${FORWARDER_TOKEN}`, 'content-type': 'application/json' },
        true,
      ),
      context(),
    )) as HttpResultV2;
    expect(res.statusCode).toBe(200);
    const errors = JSON.parse(res.body!) as { key: string }[];
    expect(errors.map((e) => e.key)).toContain('docker_mode');
  });

  it('answers 401 to a GoCD request with another token', async () => {
    const res = (await handler(
      urlEvent('POST', '/gocd/requests/cd.go.elastic-agent.get-capabilities', '', {
        authorization: 'Bearer not-the-token-0123456789',
      }),
      context(),
    )) as HttpResultV2;
    expect(res.statusCode).toBe(401);
  });

  it('schedules the pipeline for an HMAC-signed GitHub webhook whose body is base64-encoded', async () => {
    const raw = githubBody('v1.0.0');
    const res = (await handler(
      urlEvent(
        'POST',
        '/registry/ghcr',
        raw,
        {
          'content-type': 'application/json',
          'x-github-event': 'package',
          'x-github-delivery': 'aaaaaaaa-0000-11ee-8000-000000000001',
          'x-hub-signature-256': `sha256=${hmacSha256Hex(GITHUB_KEY, Buffer.from(raw))}`,
        },
        true,
      ),
      context(),
    )) as HttpResultV2;
    expect(res.statusCode).toBe(202);
    // The webhook answers only once the trigger ended: the schedule request has already been made.
    const calls = gocd.callsFor('ghcr-pipeline');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.env.GO_PACKAGE_GHCR_CODERTOCAT_HELLO_WORLD_NPM_LABEL).toBe('v1.0.0');
  });

  it('answers 401 when the signature does not cover the decoded bytes, and schedules nothing', async () => {
    const raw = githubBody('v1.0.1');
    const before = gocd.calls.length;
    const res = (await handler(
      urlEvent(
        'POST',
        '/registry/ghcr',
        raw,
        {
          'content-type': 'application/json',
          'x-github-event': 'package',
          'x-github-delivery': 'aaaaaaaa-0000-11ee-8000-000000000002',
          // Signed over the base64 text instead of the bytes it encodes.
          'x-hub-signature-256': `sha256=${hmacSha256Hex(GITHUB_KEY, Buffer.from(raw).toString('base64'))}`,
        },
        true,
      ),
      context(),
    )) as HttpResultV2;
    expect(res.statusCode).toBe(401);
    expect(gocd.calls.length).toBe(before);
  });
});

describe('retry queue (GoCD busy on a webhook)', () => {
  it('answers 202, queues the trigger with a delay, and the queued message schedules it', async () => {
    gocd.script('ghcr-pipeline', {
      status: 409,
      message: 'Failed to trigger pipeline [ghcr-pipeline] { Stage [build] is still in progress }',
    });
    const before = gocd.callsFor('ghcr-pipeline').length;
    const raw = githubBody('v2.0.0');
    const res = (await handler(
      urlEvent('POST', '/registry/ghcr', raw, {
        'content-type': 'application/json',
        'x-github-event': 'package',
        'x-github-delivery': 'aaaaaaaa-0000-11ee-8000-000000000003',
        'x-hub-signature-256': `sha256=${hmacSha256Hex(GITHUB_KEY, raw)}`,
      }),
      context(),
    )) as HttpResultV2;
    expect(res.statusCode).toBe(202);
    expect(gocd.callsFor('ghcr-pipeline').length).toBe(before + 1);
    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    const input = sent[0]!.args[0].input;
    expect(input.QueueUrl).toBe(QUEUE_URL);
    expect(input.DelaySeconds).toBe(30);
    const message = JSON.parse(input.MessageBody!) as Json;
    expect(message).toMatchObject({
      type: 'gocd-agent-scaler/deferred-trigger',
      pipeline: 'ghcr-pipeline',
      attempt: 1,
      push: { registry: 'ghcr', host: 'ghcr.io', repository: 'codertocat/hello-world-npm', tag: 'v2.0.0' },
    });

    const answer = (await handler(
      sqsEvent([{ messageId: 'msg-1', body: input.MessageBody! }]),
      context(),
    )) as SqsBatchResponse;
    expect(answer).toEqual({ batchItemFailures: [] });
    const calls = gocd.callsFor('ghcr-pipeline');
    expect(calls.length).toBe(before + 2);
    expect(calls.at(-1)!.status).toBe(202);
    expect(calls.at(-1)!.env.GO_PACKAGE_GHCR_CODERTOCAT_HELLO_WORLD_NPM_LABEL).toBe('v2.0.0');

    // A second delivery of the same message (SQS is at-least-once) schedules nothing more.
    await handler(sqsEvent([{ messageId: 'msg-1', body: input.MessageBody!, receiveCount: 2 }]), context());
    expect(gocd.callsFor('ghcr-pipeline').length).toBe(before + 2);
  });

  it('queues a still-busy trigger again with a longer delay, until its window is over, then reports it failed', async () => {
    const push = {
      registry: 'ghcr',
      host: 'ghcr.io',
      repository: 'codertocat/hello-world-npm',
      tag: 'v3.0.0',
      digest: 'sha256:33',
      deliveryId: 'd-3',
    };
    const body = (firstAttemptAt: number, attempt: number) =>
      JSON.stringify({
        type: 'gocd-agent-scaler/deferred-trigger',
        push,
        pipeline: 'ghcr-pipeline',
        firstAttemptAt,
        attempt,
      });
    gocd.script('ghcr-pipeline', { status: 503 }, { status: 503 });
    expect(await handler(sqsEvent([{ messageId: 'm-2', body: body(Date.now() - 60_000, 2) }]), context())).toEqual({
      batchItemFailures: [],
    });
    const again = sqs.commandCalls(SendMessageCommand);
    expect(again).toHaveLength(1);
    expect(again[0]!.args[0].input.DelaySeconds).toBe(120);
    expect(JSON.parse(again[0]!.args[0].input.MessageBody!)).toMatchObject({ attempt: 3 });

    // Past gocd.scheduleRetryWindowSeconds (600 s) since the first attempt: no more deferral, the trigger is final.
    sqs.reset();
    expect(await handler(sqsEvent([{ messageId: 'm-3', body: body(Date.now() - 601_000, 5) }]), context())).toEqual({
      batchItemFailures: [],
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('returns only the failed messages of a batch to the queue', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));
    gocd.script('ghcr-pipeline', { status: 503 });
    const push = {
      registry: 'ghcr',
      host: 'ghcr.io',
      repository: 'codertocat/hello-world-npm',
      tag: 'v4.0.0',
      digest: 'sha256:44',
      deliveryId: 'd-4',
    };
    const deferred = JSON.stringify({
      type: 'gocd-agent-scaler/deferred-trigger',
      push,
      pipeline: 'ghcr-pipeline',
      firstAttemptAt: Date.now(),
      attempt: 1,
    });
    const answer = (await handler(
      sqsEvent([
        { messageId: 'not-ours', body: '{"hello":"world"}' },
        { messageId: 'cannot-requeue', body: deferred },
        {
          messageId: 'fine',
          body: JSON.stringify({ ...JSON.parse(deferred), push: { ...push, tag: 'v4.0.1', digest: 'sha256:45' } }),
        },
      ]),
      context(),
    )) as SqsBatchResponse;
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'not-ours' }, { itemIdentifier: 'cannot-requeue' }]);
  });
});

describe('EventBridge: ECR pushes and the schedule', () => {
  it('schedules the subscribed pipeline once for an ECR PUSH, and not again for the same event or digest', async () => {
    const event = ecrPush({ id: 'e-1', detail: { 'image-tag': '1.4.0', 'image-digest': 'sha256:aaa1' } });
    expect(await handler(event, context())).toEqual({ handled: 'ecr' });
    const calls = gocd.callsFor('ecr-pipeline');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.env).toMatchObject({
      GO_PACKAGE_ECR_MY_REPOSITORY_NAME_LABEL: '1.4.0',
      GO_PACKAGE_ECR_MY_REPOSITORY_NAME_DIGEST: 'sha256:aaa1',
      GO_REPO_ECR_MY_REPOSITORY_NAME_DOCKER_REGISTRY_NAME: ECR_HOST,
    });
    expect(await handler(event, context())).toEqual({ handled: 'ecr' });
    expect(await handler({ ...event, id: 'e-1-again' }, context())).toEqual({ handled: 'ecr' });
    expect(gocd.callsFor('ecr-pipeline')).toHaveLength(1);
  });

  it('ignores untagged child manifests, deletes and other accounts without failing the invocation', async () => {
    const before = gocd.calls.length;
    await handler(ecrPush({ id: 'e-2', detail: { 'image-tag': '' } }), context());
    await handler(ecrPush({ id: 'e-3', detail: { 'action-type': 'DELETE', 'image-tag': '1.5.0' } }), context());
    await handler(ecrPush({ id: 'e-4', account: '999999999999', detail: { 'image-tag': '1.5.0' } }), context());
    expect(gocd.calls.length).toBe(before);
  });

  it('fails the invocation while GoCD stays busy, and the retried event schedules the pipeline', async () => {
    gocd.script('ecr-pipeline', { status: 409 });
    const event = ecrPush({ id: 'e-5', detail: { 'image-tag': '1.6.0', 'image-digest': 'sha256:aaa6' } });
    // 15 s left: no in-invocation retry window remains (remaining time minus a 15 s margin).
    await expect(handler(event, context(15_000))).rejects.toThrow(/not scheduled yet \(ecr-pipeline\)/);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    // Lambda's async retry delivers the same event: the claim was released, so it goes through now.
    expect(await handler(event, context())).toEqual({ handled: 'ecr' });
    const calls = gocd
      .callsFor('ecr-pipeline')
      .filter((c) => c.env.GO_PACKAGE_ECR_MY_REPOSITORY_NAME_LABEL === '1.6.0');
    expect(calls.map((c) => c.status)).toEqual([409, 202]);
  });

  it("handles Lambda's on-failure record redriven from the DLQ into the retry queue as the original event", async () => {
    const event = ecrPush({ id: 'e-7', detail: { 'image-tag': '1.7.0', 'image-digest': 'sha256:aaa7' } });
    const onFailure = {
      version: '1.0',
      timestamp: '2026-11-23T21:00:00.000Z',
      requestContext: {
        requestId: 'r-7',
        functionArn: 'arn:aws:lambda:us-west-2:123456789012:function:scaler:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'RetryLaterError', errorMessage: '1 trigger(s) not scheduled yet' },
    };
    expect(await handler(sqsEvent([{ messageId: 'dlq-1', body: JSON.stringify(onFailure) }]), context())).toEqual({
      batchItemFailures: [],
    });
    expect(gocd.callsFor('ecr-pipeline').some((c) => c.env.GO_PACKAGE_ECR_MY_REPOSITORY_NAME_LABEL === '1.7.0')).toBe(
      true,
    );
  });

  it('runs the backstop poll on the scheduled event: a baseline first, then a moved tag schedules the pipeline', async () => {
    const scheduled = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-11-23T21:00:00Z',
      region: 'us-west-2',
      resources: ['arn:aws:events:us-west-2:123456789012:rule/scaler-backstop'],
      detail: {},
    };
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:b01', imageTags: ['1.9.0', 'latest'] }] })
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:b02', imageTags: ['1.9.0'] }] });
    expect(await handler(scheduled, context())).toEqual({ handled: 'schedule' });
    const before = gocd.callsFor('ecr-pipeline').length;
    expect(await handler(scheduled, context())).toEqual({ handled: 'schedule' });
    const calls = gocd.callsFor('ecr-pipeline').slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.env).toMatchObject({
      GO_PACKAGE_ECR_MY_REPOSITORY_NAME_LABEL: '1.9.0',
      GO_PACKAGE_ECR_MY_REPOSITORY_NAME_DIGEST: 'sha256:b02',
    });
    const input = ecr.commandCalls(DescribeImagesCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ repositoryName: 'my-repository-name', registryId: '123456789012' });
  });

  it('answers an event nobody handles without failing (a retry would fail the same way)', async () => {
    expect(
      await handler({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        id: 'x',
        account: '1',
        region: 'r',
        detail: {},
      }),
    ).toEqual({
      handled: 'ignored',
    });
  });
});

describe('create-agent in Lambda while ECS throttles launches', () => {
  const CLUSTER = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'lambda', cluster: 'lambda-agents' };
  const createAgent = (jobId: number, remainingMs: number) =>
    handler(
      urlEvent(
        'POST',
        '/gocd/requests/cd.go.elastic-agent.create-agent',
        JSON.stringify({
          auto_register_key: `ark-${jobId}-secret`,
          elastic_agent_profile_properties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
          cluster_profile_properties: CLUSTER,
          job_identifier: job(jobId),
        }),
        { authorization: `Bearer ${FORWARDER_TOKEN}`, 'content-type': 'application/json' },
      ),
      context(remainingMs),
    ) as Promise<HttpResultV2>;
  const tasksOf = (jobId: number) =>
    fakeEcs
      .liveTasks('lambda-agents')
      .filter((t) => t.tags.some((x) => x.key === 'gocd-agent-scaler:job-id' && x.value === String(jobId)));
  const queuedLaunches = () =>
    sqs
      .commandCalls(SendMessageCommand)
      .map((c) => c.args[0].input)
      .filter((i) => (JSON.parse(i.MessageBody!) as Json).type === 'gocd-agent-scaler/deferred-launch');

  it('queues a launch whose turn comes after the invocation’s budget, and the queued message launches it', async () => {
    expect((await createAgent(801, 120_000)).statusCode).toBe(200);
    expect(tasksOf(801)).toHaveLength(1);
    // No time left in this invocation for the next RunTask turn: the create-agent waits in the retry queue.
    expect((await createAgent(802, 15_000)).statusCode).toBe(200);
    expect(tasksOf(802)).toHaveLength(0);
    const [queued] = queuedLaunches();
    expect(queued).toMatchObject({ QueueUrl: QUEUE_URL, DelaySeconds: 2 });
    expect(JSON.parse(queued!.MessageBody!)).toMatchObject({
      type: 'gocd-agent-scaler/deferred-launch',
      attempt: 1,
      input: { autoRegisterKey: 'ark-802-secret', job: { job_id: 802 }, clusterProperties: CLUSTER },
    });
    // The function consumes the message: its invocation has time to wait for the next turn.
    const answer = (await handler(
      sqsEvent([{ messageId: 'launch-1', body: queued!.MessageBody! }]),
      context(),
    )) as SqsBatchResponse;
    expect(answer).toEqual({ batchItemFailures: [] });
    const [task] = tasksOf(802);
    const env = (task!.overrides as Json).containerOverrides[0].environment as { name: string; value: string }[];
    expect(env.find((e) => e.name === 'GO_EA_AUTO_REGISTER_KEY')?.value).toBe('ark-802-secret');
    expect(queuedLaunches()).toHaveLength(1);
  }, 30_000);

  it('a queued create-agent whose job completed meanwhile launches nothing', async () => {
    expect((await createAgent(803, 15_000)).statusCode).toBe(200);
    const [queued] = queuedLaunches();
    expect(queued).toBeDefined();
    const completion = await handler(
      urlEvent(
        'POST',
        '/gocd/requests/cd.go.elastic-agent.job-completion',
        JSON.stringify({
          elastic_agent_id: 'ea-803-00000000',
          cluster_profile_properties: CLUSTER,
          job_identifier: job(803),
        }),
        { authorization: `Bearer ${FORWARDER_TOKEN}`, 'content-type': 'application/json' },
      ),
      context(),
    );
    expect((completion as HttpResultV2).statusCode).toBe(200);
    sqs.resetHistory();
    const answer = (await handler(
      sqsEvent([{ messageId: 'launch-2', body: queued!.MessageBody! }]),
      context(),
    )) as SqsBatchResponse;
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(tasksOf(803)).toHaveLength(0);
    expect(queuedLaunches()).toHaveLength(0);
  });
});
