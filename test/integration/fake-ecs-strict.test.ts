import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { loadEcsServiceModel } from '../support/fake-ecs/service-model.js';
import type { TaskHandle } from '../support/fake-ecs/task-runtime.js';

// The loopback ECS endpoint rejects what ECS rejects: one test per rule, with the nearest request ECS accepts, through
// the real ECSClient (one attempt per call, so each answer is seen as sent). Rules and sources:
// test/support/fake-ecs/{model-validator,linked-rules,task-lifecycle,token-buckets}.ts.

let t = Date.parse('2026-12-01T00:00:00Z');
const fake = new FakeEcs({
  now: () => t,
  clusters: [
    { name: 'ec2', capacityProviders: ['gocd-agents-ec2'] },
    { name: 'fargate', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] },
    'bare',
  ],
});
let ecs: ECSClient;
const model = loadEcsServiceModel();

beforeAll(async () => {
  await fake.start();
  ecs = new ECSClient({ ...fake.clientConfig(), maxAttempts: 1 });
});
afterAll(async () => {
  ecs.destroy();
  await fake.stop();
});
beforeEach(() => {
  // A fresh minute: throttling buckets refill, nothing from an earlier test is pending.
  t += 60_000;
});

const ROLE = 'arn:aws:iam::123456789012:role/r';
const container = (extra: Record<string, unknown> = {}) => ({
  name: 'agent',
  image: 'gocd/agent:1',
  essential: true,
  ...extra,
});

/** Registers a definition; resolves its ARN or rejects with ECS's error. */
async function register(input: Partial<RegisterTaskDefinitionCommandInput>): Promise<string> {
  const res = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'strict',
      containerDefinitions: [container()],
      cpu: '256',
      memory: '512',
      ...input,
    } as RegisterTaskDefinitionCommandInput),
  );
  return res.taskDefinition!.taskDefinitionArn!;
}

const ec2Def = () => register({ requiresCompatibilities: ['EC2'], networkMode: 'bridge' });
const awsvpcDef = (compat: 'EC2' | 'FARGATE' = 'EC2', extra: Partial<RegisterTaskDefinitionCommandInput> = {}) =>
  register({ requiresCompatibilities: [compat], networkMode: 'awsvpc', ...extra });
const SUBNETS = { awsvpcConfiguration: { subnets: ['subnet-1'] } };

async function run(input: Partial<RunTaskCommandInput>) {
  return ecs.send(new RunTaskCommand({ cluster: 'ec2', launchType: 'EC2', ...input } as RunTaskCommandInput));
}

/**
 * Runs `work` against a second endpoint with other options (cluster `c`, a bridge definition `td` registered), with a
 * one-attempt client; stops both afterwards.
 */
async function withEndpoint(
  options: ConstructorParameters<typeof FakeEcs>[0],
  work: (client: ECSClient, td: string, endpoint: FakeEcs) => Promise<void>,
): Promise<void> {
  const endpoint = await new FakeEcs({ clusters: ['c'], ...options }).start();
  const client = new ECSClient({ ...endpoint.clientConfig(), maxAttempts: 1 });
  try {
    const registered = await client.send(
      new RegisterTaskDefinitionCommand({ family: 'f', containerDefinitions: [container()], memory: '512' }),
    );
    await work(client, registered.taskDefinition!.taskDefinitionArn!, endpoint);
  } finally {
    client.destroy();
    await endpoint.stop();
  }
}

/** The error name and message ECS answered. */
async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error('expected ECS to refuse the request');
}

describe.skipIf(!model)('requests are validated against botocore’s ECS service model', () => {
  it('reads the model from the installed botocore package', () => {
    expect(model!.source).toMatch(/botocore\/data\/ecs\/2014-11-13\/service-2\.json(\.gz)?$/);
    expect(model!.metadata.targetPrefix).toBe('AmazonEC2ContainerServiceV20141113');
    expect(fake.modelValidation).toBe(true);
  });

  it('refuses a missing required member (RunTask without taskDefinition)', async () => {
    const e = await refusal(ecs.send(new RunTaskCommand({ cluster: 'ec2' } as RunTaskCommandInput)));
    expect(e).toEqual({
      name: 'InvalidParameterException',
      message:
        "1 validation error detected: Value null at 'taskDefinition' failed to satisfy constraint: Member must not be null",
    });
  });

  it('refuses a value outside an enum, and accepts one inside', async () => {
    const td = await ec2Def();
    const e = await refusal(run({ taskDefinition: td, launchType: 'EC3' as 'EC2' }));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toContain(
      "at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL",
    );
    expect((await run({ taskDefinition: td, launchType: 'EC2' })).tasks).toHaveLength(1);
  });

  it('refuses a list over its length (51 tags) and a string over its length (a 129-character tag key)', async () => {
    const td = await ec2Def();
    const tags = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    expect((await refusal(run({ taskDefinition: td, tags }))).message).toContain(
      "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    );
    expect(
      (await refusal(run({ taskDefinition: td, tags: [{ key: 'k'.repeat(129), value: 'v' }] }))).message,
    ).toContain(
      "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
    );
    expect((await run({ taskDefinition: td, tags: tags.slice(0, 50) })).tasks).toHaveLength(1);
  });

  it('refuses a number outside its range (capacity provider weight 1001)', async () => {
    const td = await ec2Def();
    const e = await refusal(
      run({
        taskDefinition: td,
        launchType: undefined,
        capacityProviderStrategy: [{ capacityProvider: 'gocd-agents-ec2', weight: 1001 }],
      }),
    );
    expect(e.message).toContain('Member must have value less than or equal to 1000');
    const ok = await run({
      taskDefinition: td,
      launchType: undefined,
      capacityProviderStrategy: [{ capacityProvider: 'gocd-agents-ec2', weight: 1000 }],
    });
    expect(ok.tasks).toHaveLength(1);
  });

  it('refuses a value of the wrong JSON type with SerializationException', async () => {
    const td = await ec2Def();
    const e = await refusal(run({ taskDefinition: td, count: 'one' as unknown as number }));
    expect(e.name).toBe('SerializationException');
  });

  it('refuses a string that does not match its pattern', async () => {
    const body = (types: string[]) =>
      JSON.stringify({
        name: 'mi',
        managedInstancesProvider: {
          infrastructureRoleArn: ROLE,
          instanceLaunchTemplate: {
            ec2InstanceProfileArn: ROLE,
            networkConfiguration: { subnets: ['subnet-1'] },
            instanceRequirements: {
              vCpuCount: { min: 1 },
              memoryMiB: { min: 1024 },
              allowedInstanceTypes: types,
            },
          },
        },
      });
    const send = async (types: string[]) =>
      (await raw('CreateCapacityProvider', body(types))).json() as Promise<{ __type: string; message: string }>;
    const bad = await send(['@@@']);
    expect(bad.message).toContain('Member must satisfy regular expression pattern: [a-zA-Z0-9\\.\\*\\-]+');
    // A valid value passes the model; the fake then says it does not implement the operation.
    expect((await send(['m7g.*'])).__type).toBe('com.amazonaws.ecs#UnknownOperationException');
  });

  it('refuses an unknown member, as botocore’s parameter validation does', async () => {
    const res = await raw('ListTasks', JSON.stringify({ cluster: 'ec2', startedby: 'x' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      __type: 'com.amazonaws.ecs#SerializationException',
      message: expect.stringContaining('Unknown parameter in input: "startedby"'),
    });
  });
});

/** A hand-written awsJson1_1 request (the SDK cannot send malformed ones). */
function raw(op: string, body: string): Promise<Response> {
  return fetch(fake.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerServiceV20141113.${op}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body,
  });
}

describe('RegisterTaskDefinition: linked-field rules with ECS’s error codes', () => {
  it('Fargate cpu/memory must be a Fargate task size', async () => {
    const e = await refusal(awsvpcDef('FARGATE', { cpu: '1024', memory: '1024' }));
    expect(e).toEqual({
      name: 'ClientException',
      message:
        'No Fargate configuration exists for given values: 1024 CPU, 1024 memory. See the Amazon ECS documentation for the valid values.',
    });
    await expect(awsvpcDef('FARGATE', { cpu: '1024', memory: '2048' })).resolves.toMatch(/:task-definition\/strict:/);
    await expect(awsvpcDef('FARGATE', { cpu: '1 vCPU', memory: '2 GB' })).resolves.toBeTruthy();
  });

  it('Fargate needs task-level cpu and memory and awsvpc', async () => {
    expect((await refusal(awsvpcDef('FARGATE', { cpu: undefined }))).message).toBe(
      "Fargate requires that 'cpu' be defined at the task level.",
    );
    expect((await refusal(register({ requiresCompatibilities: ['FARGATE'], networkMode: 'bridge' }))).message).toBe(
      'Fargate only supports network mode ‘awsvpc’.',
    );
  });

  const awslogs = {
    logDriver: 'awslogs' as const,
    options: { 'awslogs-group': '/g', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'p' },
  };
  it('Fargate with awslogs needs an execution role', async () => {
    const withLogs = { containerDefinitions: [container({ logConfiguration: awslogs })] };
    expect(await refusal(awsvpcDef('FARGATE', withLogs))).toEqual({
      name: 'ClientException',
      message: 'Fargate requires task definition to have execution role ARN to support log driver awslogs.',
    });
    await expect(awsvpcDef('FARGATE', { ...withLogs, executionRoleArn: ROLE })).resolves.toBeTruthy();
  });

  it('EXTERNAL with awslogs needs an execution role; on EC2 the instance role is enough', async () => {
    const withLogs = {
      containerDefinitions: [container({ logConfiguration: awslogs })],
      networkMode: 'bridge' as const,
    };
    expect((await refusal(register({ ...withLogs, requiresCompatibilities: ['EXTERNAL'] }))).name).toBe(
      'ClientException',
    );
    await expect(
      register({ ...withLogs, requiresCompatibilities: ['EXTERNAL'], executionRoleArn: ROLE }),
    ).resolves.toBeTruthy();
    await expect(register({ ...withLogs, requiresCompatibilities: ['EC2'] })).resolves.toBeTruthy();
  });

  it('repository credentials need an execution role on every launch type', async () => {
    const creds = {
      containerDefinitions: [
        container({
          repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:r' },
        }),
      ],
    };
    expect(await refusal(register({ ...creds, requiresCompatibilities: ['EC2'] }))).toEqual({
      name: 'ClientException',
      message:
        'Private repository authentication requires that the task definition specify a value for executionRoleArn.',
    });
    await expect(
      register({ ...creds, requiresCompatibilities: ['EC2'], executionRoleArn: ROLE }),
    ).resolves.toBeTruthy();
  });

  it('EXTERNAL does not support awsvpc', async () => {
    expect((await refusal(register({ requiresCompatibilities: ['EXTERNAL'], networkMode: 'awsvpc' }))).name).toBe(
      'ClientException',
    );
    await expect(register({ requiresCompatibilities: ['EXTERNAL'], networkMode: 'bridge' })).resolves.toBeTruthy();
  });

  it('capabilities come from the KernelCapabilities list; Fargate adds only SYS_PTRACE', async () => {
    const caps = (add: string[]) => ({
      containerDefinitions: [container({ linuxParameters: { capabilities: { add } } })],
    });
    expect((await refusal(register({ ...caps(['NET_PRIVILEGED']), requiresCompatibilities: ['EC2'] }))).name).toBe(
      'ClientException',
    );
    await expect(register({ ...caps(['SYS_ADMIN']), requiresCompatibilities: ['EC2'] })).resolves.toBeTruthy();
    expect((await refusal(awsvpcDef('FARGATE', caps(['SYS_ADMIN'])))).message).toContain('SYS_PTRACE');
    await expect(awsvpcDef('FARGATE', caps(['SYS_PTRACE']))).resolves.toBeTruthy();
  });

  it('keeps tags per revision: each revision describes with its own', async () => {
    const first = await register({ family: 'tagged', tags: [{ key: 'rev', value: 'one' }] });
    const second = await register({ family: 'tagged', tags: [{ key: 'rev', value: 'two' }] });
    const tagsOf = async (ref: string) =>
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] }))).tags;
    expect(await tagsOf(first)).toEqual([{ key: 'rev', value: 'one' }]);
    expect(await tagsOf(second)).toEqual([{ key: 'rev', value: 'two' }]);
    expect(await tagsOf('tagged')).toEqual([{ key: 'rev', value: 'two' }]);
  });
});

describe('RunTask: clusters, capacity providers and linked-field rules', () => {
  it('answers ClusterNotFoundException for an unknown cluster on every task call', async () => {
    const td = await ec2Def();
    for (const call of [
      run({ cluster: 'nope', taskDefinition: td }),
      ecs.send(new ListTasksCommand({ cluster: 'nope' })),
      ecs.send(new DescribeTasksCommand({ cluster: 'nope', tasks: ['x'] })),
      ecs.send(new StopTaskCommand({ cluster: 'nope', task: 'x' })),
    ]) {
      expect(await refusal(call)).toEqual({ name: 'ClusterNotFoundException', message: 'Cluster not found.' });
    }
    expect((await run({ cluster: 'ec2', taskDefinition: td })).tasks).toHaveLength(1);
  });

  it('uses a capacity provider only when it is associated with the cluster', async () => {
    const td = await awsvpcDef('FARGATE');
    const spot = {
      taskDefinition: td,
      launchType: undefined,
      networkConfiguration: SUBNETS,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }],
    };
    expect(await refusal(run({ ...spot, cluster: 'bare' }))).toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('cannot contain a capacity provider that is not associated with the cluster'),
    });
    const ok = await run({ ...spot, cluster: 'fargate' });
    expect(ok.tasks?.[0]?.capacityProviderName).toBe('FARGATE_SPOT');
  });

  it('refuses a launch type together with a capacity provider strategy', async () => {
    const td = await ec2Def();
    const e = await refusal(
      run({ taskDefinition: td, capacityProviderStrategy: [{ capacityProvider: 'gocd-agents-ec2' }] }),
    );
    expect(e.name).toBe('InvalidParameterException');
  });

  it('awsvpc needs subnets — with EC2, FARGATE and a FARGATE_SPOT capacity provider alike', async () => {
    const message = "Network Configuration must be provided when networkMode 'awsvpc' is specified.";
    const ec2 = await awsvpcDef('EC2');
    const fargate = await awsvpcDef('FARGATE');
    const spot = {
      launchType: undefined,
      cluster: 'fargate',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }],
    };
    for (const input of [
      { taskDefinition: ec2 },
      { taskDefinition: fargate, launchType: 'FARGATE' as const, cluster: 'fargate' },
      { taskDefinition: fargate, ...spot },
    ]) {
      expect(await refusal(run(input))).toEqual({ name: 'InvalidParameterException', message });
      expect((await run({ ...input, networkConfiguration: SUBNETS })).tasks).toHaveLength(1);
    }
  });

  it('refuses a network configuration for a bridge definition', async () => {
    const td = await ec2Def();
    expect((await refusal(run({ taskDefinition: td, networkConfiguration: SUBNETS }))).message).toBe(
      'Network Configuration is not valid for the given networkMode of this task definition.',
    );
  });

  it('assignPublicIp ENABLED is Fargate-only', async () => {
    const publicIp = { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'ENABLED' as const } };
    expect(await refusal(run({ taskDefinition: await awsvpcDef('EC2'), networkConfiguration: publicIp }))).toEqual({
      name: 'InvalidParameterException',
      message: 'Assign public IP is not supported for this launch type.',
    });
    const ok = await run({
      cluster: 'fargate',
      launchType: 'FARGATE',
      taskDefinition: await awsvpcDef('FARGATE'),
      networkConfiguration: publicIp,
    });
    expect(ok.tasks).toHaveLength(1);
  });

  it('enableExecuteCommand needs a task role, in the definition or as an override', async () => {
    const td = await ec2Def();
    expect((await refusal(run({ taskDefinition: td, enableExecuteCommand: true }))).message).toMatch(
      /^The execute command failed because a valid task role is not being used/,
    );
    expect(
      (await run({ taskDefinition: td, enableExecuteCommand: true, overrides: { taskRoleArn: ROLE } })).tasks,
    ).toHaveLength(1);
    const withRole = await register({ requiresCompatibilities: ['EC2'], networkMode: 'bridge', taskRoleArn: ROLE });
    expect((await run({ taskDefinition: withRole, enableExecuteCommand: true })).tasks).toHaveLength(1);
  });

  it('runs a definition only with a launch type it declares', async () => {
    const td = await ec2Def();
    expect((await refusal(run({ cluster: 'fargate', launchType: 'FARGATE', taskDefinition: td }))).message).toBe(
      'Task definition does not support launch_type FARGATE.',
    );
  });
});

describe('RunTask client tokens', () => {
  it('are scoped per cluster: the same token in another cluster is a new request', async () => {
    const td = await ec2Def();
    await fake.createCluster('ec2-b');
    const a = await run({ taskDefinition: td, clientToken: 'token-scope' });
    const b = await run({ taskDefinition: td, cluster: 'ec2-b', clientToken: 'token-scope', startedBy: 'other' });
    expect(b.tasks?.[0]?.taskArn).not.toBe(a.tasks?.[0]?.taskArn);
    // Within one cluster, other parameters under the same token: ConflictException naming the first task.
    const e = await ecs
      .send(
        new RunTaskCommand({
          cluster: 'ec2',
          launchType: 'EC2',
          taskDefinition: td,
          clientToken: 'token-scope',
          startedBy: 'other',
        }),
      )
      .catch((err) => err);
    expect(e).toMatchObject({ name: 'ConflictException', resourceIds: [a.tasks?.[0]?.taskArn] });
  });

  it('expire after their lifetime (24 h by default): then the token is a new request', async () => {
    const td = await ec2Def();
    const first = await run({ taskDefinition: td, clientToken: 'token-ttl' });
    t += 24 * 3_600_000 - 1_000;
    expect((await refusal(run({ taskDefinition: td, clientToken: 'token-ttl', startedBy: 'later' }))).name).toBe(
      'ConflictException',
    );
    t += 2_000;
    const again = await run({ taskDefinition: td, clientToken: 'token-ttl', startedBy: 'later' });
    expect(again.tasks?.[0]?.taskArn).not.toBe(first.tasks?.[0]?.taskArn);
  });

  it('have a configurable lifetime', async () => {
    await withEndpoint({ now: () => t, clientTokenTtlMs: 60_000, throttling: false }, async (client, td) => {
      const send = (startedBy: string) =>
        client.send(new RunTaskCommand({ cluster: 'c', taskDefinition: td, clientToken: 'k', startedBy }));
      await send('a');
      await expect(send('b')).rejects.toMatchObject({ name: 'ConflictException' });
      t += 60_000;
      await expect(send('b')).resolves.toMatchObject({ tasks: [expect.anything()] });
    });
  });
});

describe('task lifecycle', () => {
  it('StopTask answers STOPPING; the task is STOPPED after the stop, tags gone; MISSING after its retention', async () => {
    const td = await ec2Def();
    const [task] = (await run({ taskDefinition: td, tags: [{ key: 'k', value: 'v' }] })).tasks!;
    const stopped = await ecs.send(
      new StopTaskCommand({ cluster: 'ec2', task: task!.taskArn, reason: 'r'.repeat(255) }),
    );
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'STOPPING', stopCode: 'UserInitiated' });
    const describe = async () =>
      ecs.send(new DescribeTasksCommand({ cluster: 'ec2', tasks: [task!.taskArn!], include: ['TAGS'] }));
    expect((await describe()).tasks?.[0]).toMatchObject({ lastStatus: 'STOPPING', tags: [] });
    t += 1_000;
    expect((await describe()).tasks?.[0]).toMatchObject({ lastStatus: 'STOPPED', stoppedAt: expect.any(Date) });
    const listStopped = async () =>
      (await ecs.send(new ListTasksCommand({ cluster: 'ec2', desiredStatus: 'STOPPED' }))).taskArns;
    expect(await listStopped()).toContain(task!.taskArn);
    t += 3_600_000;
    expect(await describe()).toMatchObject({ tasks: [], failures: [{ arn: task!.taskArn, reason: 'MISSING' }] });
    expect(await listStopped()).not.toContain(task!.taskArn);
  });

  it('StopTask refuses a reason over 255 characters', async () => {
    const td = await ec2Def();
    const [task] = (await run({ taskDefinition: td })).tasks!;
    expect(
      (await refusal(ecs.send(new StopTaskCommand({ cluster: 'ec2', task: task!.taskArn, reason: 'r'.repeat(256) }))))
        .name,
    ).toBe('InvalidParameterException');
  });

  it('a task runtime (the Docker mode) keeps a task STOPPING until its containers are down', async () => {
    let release: () => void = () => undefined;
    const stoppedBy = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runtime = {
      start: () => undefined,
      stop: (handle: TaskHandle) => void stoppedBy.then(() => handle.stopped('UserInitiated', 'stopped')),
    };
    await withEndpoint({ runtime }, async (client, td, withRuntime) => {
      const [task] = (await client.send(new RunTaskCommand({ cluster: 'c', taskDefinition: td }))).tasks!;
      await client.send(new StopTaskCommand({ cluster: 'c', task: task!.taskArn }));
      expect(withRuntime.tasks.get(task!.taskArn!)?.lastStatus).toBe('STOPPING');
      release();
      await stoppedBy;
      await new Promise((resolve) => setImmediate(resolve));
      expect(withRuntime.tasks.get(task!.taskArn!)?.lastStatus).toBe('STOPPED');
    });
  });
});

describe('request throttling (ECS’s token buckets)', () => {
  it('RunTask/StopTask share a bucket of 100 refilled at 40/s', async () => {
    const td = await ec2Def();
    t += 60_000;
    const before = fake.throttled;
    for (let i = 0; i < 100; i++) await run({ taskDefinition: td });
    expect(await refusal(run({ taskDefinition: td }))).toEqual({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    const [task] = fake.liveTasks('ec2');
    expect((await refusal(ecs.send(new StopTaskCommand({ cluster: 'ec2', task: task!.taskArn })))).name).toBe(
      'ThrottlingException',
    );
    t += 25; // one token at 40/s
    expect((await run({ taskDefinition: td })).tasks).toHaveLength(1);
    expect((await refusal(run({ taskDefinition: td }))).name).toBe('ThrottlingException');
    expect(fake.throttled - before).toBe(3);
  });

  it('DescribeTasks/ListTasks share a bucket of 100 refilled at 20/s, apart from RunTask’s', async () => {
    t += 60_000;
    for (let i = 0; i < 100; i++) await ecs.send(new ListTasksCommand({ cluster: 'ec2' }));
    expect((await refusal(ecs.send(new DescribeTasksCommand({ cluster: 'ec2', tasks: ['x'] })))).name).toBe(
      'ThrottlingException',
    );
    expect((await run({ taskDefinition: await ec2Def() })).tasks).toHaveLength(1);
    t += 50; // one token at 20/s
    await expect(ecs.send(new ListTasksCommand({ cluster: 'ec2' }))).resolves.toBeTruthy();
  });

  it('has a configurable burst and refill', async () => {
    const quota = { 'cluster-resource-read': { burst: 3, refillPerSecond: 1 } };
    await withEndpoint({ now: () => t, throttling: quota }, async (client) => {
      for (let i = 0; i < 3; i++) await client.send(new ListTasksCommand({ cluster: 'c' }));
      await expect(client.send(new ListTasksCommand({ cluster: 'c' }))).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
      t += 1_000;
      await expect(client.send(new ListTasksCommand({ cluster: 'c' }))).resolves.toBeTruthy();
    });
  });
});
