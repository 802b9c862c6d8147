import {
  ConflictException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { clientTokenFor } from '../../src/backends/ecs/run-task-input.js';
import type { LaunchRequest } from '../../src/backends/port.js';
import { job } from '../support/gocd-bodies.js';

const ecs = mockClient(ECSClient);
const logger = pino({ level: 'silent' });
const cluster = parseClusterProfile({
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'ci',
  cluster: 'ci-agents',
  region: 'eu-west-1',
  subnets: 'subnet-1,subnet-2',
  security_groups: 'sg-1',
  allow_socket_mount: 'true',
});
const TD_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/gocd-agent-x:1';

function request(jobId: number, profileProps: Record<string, string> = {}, c = cluster): LaunchRequest {
  return {
    agentId: agentIdFor(c.clusterId, jobId),
    job: job(jobId),
    cluster: c,
    profile: parseElasticProfile({ image: 'agent:1', ...profileProps }),
    jobEnv: { GO_EA_AUTO_REGISTER_KEY: `key-${Math.random()}`, GO_EA_SERVER_URL: 'https://gocd.example.com/go' },
  };
}

function task(id: string, jobId: number, lastStatus = 'RUNNING'): Task {
  return {
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/${id}`,
    lastStatus,
    desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    createdAt: new Date(),
    tags: [
      { key: 'gocd-agent-scaler:agent-id', value: agentIdFor('ci', jobId) },
      { key: 'gocd-agent-scaler:job-id', value: String(jobId) },
      { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
      { key: 'gocd-agent-scaler:pipeline', value: 'app/7/test/1/build' },
      { key: 'gocd-agent-scaler:docker-mode', value: 'none' },
    ],
  };
}

let backend: EcsBackend;
beforeEach(() => {
  ecs.reset();
  ecs
    .on(DescribeTaskDefinitionCommand)
    .rejects(Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' }));
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, status: 'ACTIVE' } });
  backend = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger, missingRetryDelaysMs: [1, 1] });
});

describe('ECS backend launch', () => {
  it('sends RunTask with startedBy, tags, the job env as overrides, awsvpc and a deterministic clientToken', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 42)], failures: [] });
    const req = request(42);
    const outcome = await backend.launch(req);
    expect(outcome).toMatchObject({
      kind: 'launched',
      agent: { agentId: agentIdFor('ci', 42), jobId: 42, ref: expect.stringContaining('/t1') },
    });
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, {
      cluster: 'ci-agents',
      taskDefinition: TD_ARN,
      count: 1,
      startedBy: 'gocd-agent-scaler/ci',
      clientToken: clientTokenFor('ci', 42, 0),
      launchType: 'EC2',
      enableECSManagedTags: true,
      tags: [
        { key: 'gocd-agent-scaler:agent-id', value: agentIdFor('ci', 42) },
        { key: 'gocd-agent-scaler:job-id', value: '42' },
        { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
        { key: 'gocd-agent-scaler:pipeline', value: 'app/7/test/1/build' },
        { key: 'gocd-agent-scaler:docker-mode', value: 'none' },
      ],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-1', 'subnet-2'],
          securityGroups: ['sg-1'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: 'agent',
            environment: [
              { name: 'GO_EA_AUTO_REGISTER_KEY', value: req.jobEnv.GO_EA_AUTO_REGISTER_KEY },
              { name: 'GO_EA_SERVER_URL', value: 'https://gocd.example.com/go' },
            ],
          },
        ],
      },
    });
    expect(clientTokenFor('ci', 42, 0)).toMatch(/^[0-9a-f]{64}$/);
    expect(clientTokenFor('ci', 42, 1)).not.toBe(clientTokenFor('ci', 42, 0));
  });

  it('uses a capacity provider strategy instead of a launch type, and distinctInstance in a group for socket mode', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 1)] });
    const cp = parseClusterProfile({
      go_server_url: 'https://g/go',
      cluster_id: 'ci',
      cluster: 'ci-agents',
      capacity_provider: 'docker-capable',
      allow_socket_mount: 'true',
    });
    await backend.launch(request(1, { docker_mode: 'socket' }, cp));
    const input = ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.launchType).toBeUndefined();
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'docker-capable', weight: 1 }]);
    expect(input.networkConfiguration).toBeUndefined();
    expect(input.group).toBe('gocd-agent-scaler-socket:ci');
    expect(input.placementConstraints).toEqual([{ type: 'distinctInstance' }]);
  });

  it('registers the task definition once for many jobs, and a fresh backend (a restart) finds it instead of registering', async () => {
    ecs.on(RunTaskCommand).callsFake(() => ({ tasks: [task(`t${Math.random()}`, 1)] }));
    await Promise.all([backend.launch(request(1)), backend.launch(request(2)), backend.launch(request(3))]);
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 3);
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, status: 'ACTIVE' } });
    const restarted = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger });
    await restarted.launch(request(4));
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
  });

  it("uses a profile's task_definition as is", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 5)] });
    await backend.launch(request(5, { task_definition: 'my-agents:7' }));
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 0);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, { taskDefinition: 'my-agents:7' });
  });

  it('treats ConflictException on a repeated token as "already launched" when its task is live', async () => {
    ecs
      .on(RunTaskCommand)
      .rejects(new ConflictException({ message: 'token used', $metadata: {}, resourceIds: [task('t9', 7).taskArn!] }));
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t9', 7)], failures: [] });
    const outcome = await backend.launch(request(7));
    expect(outcome).toMatchObject({
      kind: 'existing',
      agent: { agentId: agentIdFor('ci', 7), ref: expect.stringContaining('/t9') },
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
  });

  it('moves to the next attempt (a fresh token) when the conflicting task is STOPPED or MISSING', async () => {
    ecs
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 0) })
      .rejects(
        new ConflictException({
          message: 'used',
          $metadata: {},
          resourceIds: ['arn:aws:ecs:eu-west-1:1:task/ci-agents/old'],
        }),
      )
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 1) })
      .rejects(
        new ConflictException({
          message: 'used',
          $metadata: {},
          resourceIds: ['arn:aws:ecs:eu-west-1:1:task/ci-agents/gone'],
        }),
      )
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 2) })
      .resolves({ tasks: [task('new', 8)] });
    ecs
      .on(DescribeTasksCommand, { tasks: ['arn:aws:ecs:eu-west-1:1:task/ci-agents/old'] })
      .resolves({ tasks: [task('old', 8, 'STOPPED')] })
      .on(DescribeTasksCommand, { tasks: ['arn:aws:ecs:eu-west-1:1:task/ci-agents/gone'] })
      .resolves({ tasks: [], failures: [{ arn: 'x', reason: 'MISSING' }] });
    const outcome = await backend.launch(request(8));
    expect(outcome).toMatchObject({ kind: 'launched', agent: { ref: expect.stringContaining('/new') } });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 3);
    // MISSING may be ECS's eventual consistency right after a launch: it is described again before giving up on it.
    expect(
      ecs.commandCalls(DescribeTasksCommand, { tasks: ['arn:aws:ecs:eu-west-1:1:task/ci-agents/gone'] }),
    ).toHaveLength(3);
  });

  it('reports RunTask failures (RESOURCE:MEMORY) as a failed launch with the reason', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:1:container-instance/ci/abc', reason: 'RESOURCE:MEMORY' }],
    });
    expect(await backend.launch(request(9))).toEqual({
      kind: 'failed',
      reason: 'RESOURCE:MEMORY',
      detail: 'arn:aws:ecs:eu-west-1:1:container-instance/ci/abc',
    });
  });

  it('reports an ECS error (e.g. AccessDenied) as a failed launch, not an exception', async () => {
    ecs
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('not authorized to perform ecs:RunTask'), { name: 'AccessDeniedException' }));
    expect(await backend.launch(request(10))).toMatchObject({
      kind: 'failed',
      reason: 'AccessDeniedException',
      detail: expect.stringContaining('ecs:RunTask'),
    });
  });
});

describe('ECS backend list / stop', () => {
  it('pages through ListTasks (startedBy only) and describes in batches of 100 with tags', async () => {
    const arns = Array.from({ length: 250 }, (_, i) => `arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/t${i}`);
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: 'a' })
      .resolvesOnce({ taskArns: arns.slice(100, 200), nextToken: 'b' })
      .resolvesOnce({ taskArns: arns.slice(200) });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((a, i) => ({ ...task(a.split('/').pop()!, i), taskArn: a })),
    }));
    const agents = await backend.list(cluster);
    expect(agents).toHaveLength(250);
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 3);
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'ci-agents',
      startedBy: 'gocd-agent-scaler/ci',
      maxResults: 100,
    });
    expect(ecs.commandCalls(ListTasksCommand)[0]!.args[0].input).not.toHaveProperty('desiredStatus');
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks!.length)).toEqual([100, 100, 50]);
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, { include: ['TAGS'] });
  });

  it('never returns a partial list: a failed page throws BackendUnavailableError', async () => {
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: ['a'], nextToken: 'n' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(backend.list(cluster)).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('ThrottlingException'),
    });
  });

  it('stops with the reason (≤ 255 chars) and ignores a task that is already gone', async () => {
    ecs
      .on(StopTaskCommand)
      .resolves({})
      .on(StopTaskCommand, { task: 'gone' })
      .rejects(Object.assign(new Error('The referenced task was not found.'), { name: 'InvalidParameterException' }));
    const agent = {
      agentId: 'ea-1-00000000',
      jobId: 1,
      clusterId: 'ci',
      pipeline: 'p',
      ref: 'arn:t1',
      status: 'running' as const,
      createdAt: new Date(),
    };
    await backend.stop(cluster, [agent, { ...agent, ref: 'gone' }], `GoCD job ${'x'.repeat(300)} completed`);
    const input = ecs.commandCalls(StopTaskCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ cluster: 'ci-agents', task: 'arn:t1' });
    expect(input.reason).toHaveLength(255);
  });
});
