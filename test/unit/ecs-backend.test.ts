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
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { completionStopReason } from '../../src/agents/job.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import type { EcsLaunchRequest } from '../../src/backends/ecs/ecs-profiles.js';
import { clientTokenFor } from '../../src/backends/ecs/run-task-input.js';
import { buildTaskDefinition } from '../../src/backends/ecs/task-definition.js';
import { job } from '../support/gocd-bodies.js';
import { ecsCluster as parseClusterProfile, ecsProfile as parseElasticProfile } from '../support/profiles.js';

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
  log_group: '/gocd/agents',
});
const TD_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/gocd-agent-x:1';
const ARN = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/${id}`;
const notFound = () => Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' });

function request(jobId: number, profileProps: Record<string, string> = {}, c = cluster): EcsLaunchRequest {
  return {
    agentId: agentIdFor(c.clusterId, jobId),
    job: job(jobId),
    cluster: c,
    profile: parseElasticProfile({ image: 'agent:1', ...profileProps }),
    jobEnv: { GO_EA_AUTO_REGISTER_KEY: `key-${Math.random()}`, GO_EA_SERVER_URL: 'https://gocd.example.com/go' },
  };
}

function task(id: string, jobId: number, lastStatus = 'RUNNING', extra: Partial<Task> = {}): Task {
  return {
    taskArn: ARN(id),
    lastStatus,
    desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    tags: [
      { key: 'gocd-agent-scaler:agent-id', value: agentIdFor('ci', jobId) },
      { key: 'gocd-agent-scaler:job-id', value: String(jobId) },
      { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
      { key: 'gocd-agent-scaler:pipeline', value: 'app/7/test/1/build' },
      { key: 'gocd-agent-scaler:docker-mode', value: 'none' },
    ],
    ...extra,
  };
}

const conflict = (...resourceIds: string[]) =>
  new ConflictException({ message: 'The client token has been used', $metadata: {}, resourceIds });

let backend: EcsBackend;
beforeEach(() => {
  ecs.reset();
  ecs.on(DescribeTaskDefinitionCommand).rejects(notFound());
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, status: 'ACTIVE' } });
  backend = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger, missingRetryDelaysMs: [1, 1] });
});

describe('ECS backend launch', () => {
  it('sends one RunTask with startedBy, identity tags, the job env as agent overrides, awsvpc and a deterministic clientToken', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 42)], failures: [] });
    const req = request(42);
    const outcome = await backend.launch(req);
    expect(outcome).toEqual({
      kind: 'launched',
      agent: {
        agentId: agentIdFor('ci', 42),
        jobId: 42,
        clusterId: 'ci',
        pipeline: 'app/7/test/1/build',
        ref: ARN('t1'),
        status: 'running',
        createdAt: new Date('2026-01-01T00:00:00Z'),
        dockerMode: 'none',
      },
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(ecs.commandCalls(RunTaskCommand)[0]!.args[0].input).toEqual({
      cluster: 'ci-agents',
      taskDefinition: TD_ARN,
      count: 1,
      startedBy: 'gocd-agent-scaler/ci',
      clientToken: clientTokenFor('ci', 42, 0),
      launchType: 'EC2',
      propagateTags: 'NONE',
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
    expect(clientTokenFor('other', 42, 0)).not.toBe(clientTokenFor('ci', 42, 0));
  });

  it('uses a capacity provider strategy instead of a launch type, and distinctInstance in the shared socket group', async () => {
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
    expect(input.group).toBe('gocd-agent-scaler-socket');
    expect(input.placementConstraints).toEqual([{ type: 'distinctInstance' }]);
    const plain = await backend.launch(request(2, {}, cp));
    expect(plain.kind).toBe('launched');
    expect(ecs.commandCalls(RunTaskCommand)[1]!.args[0].input.group).toBeUndefined();
  });

  it('registers the task definition once for three jobs, and a restarted backend finds it instead of registering', async () => {
    ecs.on(RunTaskCommand).callsFake((input: { clientToken: string }) => ({ tasks: [task(input.clientToken, 1)] }));
    await Promise.all([backend.launch(request(1)), backend.launch(request(2)), backend.launch(request(3))]);
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 3);
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: buildTaskDefinition(cluster, request(1).profile).family,
      include: ['TAGS'],
    });
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input;
    expect(registered).toEqual(buildTaskDefinition(cluster, request(1).profile));

    // A restart: the family's latest revision carries the definition hash this version would register.
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: TD_ARN, status: 'ACTIVE' },
      tags: registered.tags,
    });
    const restarted = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger });
    await restarted.launch(request(4));
    await restarted.launch(request(5));
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 2);
    expect(ecs).toHaveReceivedLastCommandWith(RunTaskCommand, { taskDefinition: TD_ARN });
  });

  it('registers a new revision when the found one differs from what this version would register', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 1)] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: `${TD_ARN.slice(0, -2)}:0`, status: 'ACTIVE' },
      tags: [{ key: 'gocd-agent-scaler:definition-hash', value: '0000000000000000' }],
    });
    await backend.launch(request(1));
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, { taskDefinition: TD_ARN });
  });

  it("runs a profile's task_definition as the revision it described, with the job env in the agent's overrides", async () => {
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/my-agents:7';
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'my-agents:7' }).resolves({
      taskDefinition: {
        taskDefinitionArn: arn,
        family: 'my-agents',
        status: 'ACTIVE',
        containerDefinitions: [{ name: 'agent', image: 'agent:1' }],
      },
    });
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t1', 5)] });
    await backend.launch(request(5, { task_definition: 'my-agents:7' }));
    await backend.launch(request(6, { task_definition: 'my-agents:7' }));
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 0);
    // Described once per revision, not per launch.
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, {
      taskDefinition: arn,
      overrides: { containerOverrides: [expect.objectContaining({ name: 'agent' })] },
    });
  });

  it('answers "existing" when the token is already tied to a live task (a repeated create-agent with a new key)', async () => {
    ecs.on(RunTaskCommand).rejects(conflict(ARN('t9')));
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t9', 7, 'PENDING')], failures: [] });
    const outcome = await backend.launch(request(7));
    expect(outcome).toMatchObject({
      kind: 'existing',
      agent: { agentId: agentIdFor('ci', 7), ref: ARN('t9'), status: 'pending' },
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: 'ci-agents',
      tasks: [ARN('t9')],
      include: ['TAGS'],
    });
  });

  it('starts nothing when the conflicting task was stopped because its job completed (a stale create-agent)', async () => {
    ecs.on(RunTaskCommand).rejects(conflict(ARN('done')));
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [task('done', 11, 'STOPPED', { tags: [], stoppedReason: completionStopReason(job(11)) })],
    });
    const outcome = await backend.launch(request(11));
    expect(outcome).toMatchObject({ kind: 'existing', agent: { agentId: agentIdFor('ci', 11), status: 'stopped' } });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
  });

  it('moves to the next attempt with a fresh token when the conflicting task is STOPPED, or stays MISSING', async () => {
    ecs
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 0) })
      .rejects(conflict(ARN('old')))
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 1) })
      .rejects(conflict(ARN('gone')))
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 8, 2) })
      .resolves({ tasks: [task('new', 8)] });
    ecs
      .on(DescribeTasksCommand, { tasks: [ARN('old')] })
      .resolves({ tasks: [task('old', 8, 'STOPPED')] })
      .on(DescribeTasksCommand, { tasks: [ARN('gone')] })
      .resolves({ tasks: [], failures: [{ arn: ARN('gone'), reason: 'MISSING' }] });
    const outcome = await backend.launch(request(8));
    expect(outcome).toMatchObject({ kind: 'launched', agent: { ref: ARN('new') } });
    expect(ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken)).toEqual([
      clientTokenFor('ci', 8, 0),
      clientTokenFor('ci', 8, 1),
      clientTokenFor('ci', 8, 2),
    ]);
    // MISSING may be eventual consistency right after a launch: described again (twice here) before giving up on it.
    expect(ecs.commandCalls(DescribeTasksCommand, { tasks: [ARN('gone')] })).toHaveLength(3);
  });

  it('never launches twice when the conflicting task is one it launched moments ago and ECS still says MISSING', async () => {
    ecs
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [task('fresh', 11)] })
      .rejects(conflict(ARN('fresh')));
    ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: ARN('fresh'), reason: 'MISSING' }] });
    expect((await backend.launch(request(11))).kind).toBe('launched');
    expect(await backend.launch(request(11))).toMatchObject({
      kind: 'existing',
      agent: { agentId: agentIdFor('ci', 11), ref: ARN('fresh'), status: 'pending' },
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 2);
  });

  it('a conflict with no task (an earlier RunTask placed nothing) moves on to the next attempt', async () => {
    ecs
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 12, 0) })
      .rejects(conflict())
      .on(RunTaskCommand, { clientToken: clientTokenFor('ci', 12, 1) })
      .resolves({ tasks: [task('t12', 12)] });
    expect((await backend.launch(request(12))).kind).toBe('launched');
    expect(ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 0);
  });

  it('reports RunTask failures (RESOURCE:MEMORY) as a failed launch with the reason and detail', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [
        { arn: 'arn:aws:ecs:eu-west-1:1:container-instance/ci/abc', reason: 'RESOURCE:MEMORY', detail: 'need 2048' },
      ],
    });
    expect(await backend.launch(request(9))).toEqual({
      kind: 'failed',
      reason: 'RESOURCE:MEMORY',
      detail: 'need 2048 arn:aws:ecs:eu-west-1:1:container-instance/ci/abc',
    });
  });

  it('reports an ECS error (AccessDenied) as a failed launch, not an exception', async () => {
    ecs
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('not authorized to perform ecs:RunTask'), { name: 'AccessDeniedException' }));
    expect(await backend.launch(request(10))).toMatchObject({
      kind: 'failed',
      reason: 'AccessDeniedException',
      detail: expect.stringContaining('ecs:RunTask'),
    });
  });

  it('gives up with a clear reason once every launch attempt of the job is used', async () => {
    const bounded = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger, maxAttempts: 3 });
    ecs.on(RunTaskCommand).rejects(conflict());
    expect(await bounded.launch(request(13))).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('no launch attempt left for this job: 3 client tokens'),
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 3);
  });

  it('builds the record from the request when RunTask answers the task without its tags', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: ARN('bare'), lastStatus: 'PROVISIONING' }] });
    expect(await backend.launch(request(14, { docker_mode: 'none' }))).toMatchObject({
      kind: 'launched',
      agent: { agentId: agentIdFor('ci', 14), jobId: 14, clusterId: 'ci', ref: ARN('bare'), status: 'pending' },
    });
  });
});

describe('ECS backend under request throttling', () => {
  const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  /** A backend on a manual clock whose waits move time (no real waiting). */
  function pacedBackend(quota = { burst: 100, refillPerSecond: 40 }) {
    let t = Date.parse('2026-12-01T00:00:00Z');
    const b = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), {
      logger,
      runTaskQuota: quota,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    return { b, now: () => t };
  }

  it('waits for the next turn after a throttled RunTask and launches: the job is not failed', async () => {
    const { b, now } = pacedBackend();
    const start = now();
    ecs
      .on(RunTaskCommand)
      .rejectsOnce(throttling())
      .resolves({ tasks: [task('t9', 9)], failures: [] });
    const outcome = await b.launch(request(9));
    expect(outcome.kind).toBe('launched');
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 2);
    // The shared bucket was empty: the retry waited for its refill, one turn at 40/s (plus the timer margin).
    expect(now() - start).toBe(30);
  });

  it('answers throttled (nothing started, nothing failed) when ECS keeps throttling until the deadline', async () => {
    const { b, now } = pacedBackend();
    ecs.on(RunTaskCommand).rejects(throttling());
    const outcome = await b.launch({ ...request(10), deadline: now() + 1_000 });
    expect(outcome).toEqual({ kind: 'throttled', detail: 'ECS throttled RunTask' });
    expect(ecs.commandCalls(RunTaskCommand).length).toBeGreaterThan(1);
    expect(now()).toBeLessThanOrEqual(Date.parse('2026-12-01T00:00:00Z') + 1_000);
  });

  it('does not call RunTask at all when its turn comes after the deadline', async () => {
    const { b, now } = pacedBackend({ burst: 1, refillPerSecond: 1 });
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t11', 11)], failures: [] });
    expect((await b.launch(request(11))).kind).toBe('launched');
    expect(await b.launch({ ...request(12), deadline: now() + 500 })).toMatchObject({ kind: 'throttled' });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
  });

  it('paces StopTask with RunTask (one ECS bucket)', async () => {
    // A burst of 3 of which the pacer spends 2 (10% headroom, rounded down).
    const { b, now } = pacedBackend({ burst: 3, refillPerSecond: 10 });
    ecs.on(RunTaskCommand).resolves({ tasks: [task('t13', 13)], failures: [] });
    ecs.on(StopTaskCommand).resolves({});
    await b.launch(request(13));
    const start = now();
    const agents = [14, 15, 16].map((j) => ({ ...(task(`s${j}`, j) as object), agentId: `a${j}`, ref: ARN(`s${j}`) }));
    await b.stop(cluster, agents as unknown as AgentRecord[], 'reap');
    expect(ecs).toHaveReceivedCommandTimes(StopTaskCommand, 3);
    // One turn left after the launch, then two more at 10/s (stops run in parallel; the last waits 200 ms + 5 ms).
    expect(now() - start).toBeCloseTo(205, 6);
  });

  it('answers throttled when RunTask is still unanswered at the deadline, and the next try sends the same client token', async () => {
    let fire: (() => void) | undefined;
    const deadlines: number[] = [];
    const b = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), {
      logger,
      deadlineSignal: (deadline) => {
        deadlines.push(deadline);
        const controller = new AbortController();
        fire = () => controller.abort();
        return controller.signal;
      },
    });
    // The SDK still retrying (or ECS not answering) when the request's deadline passes: the abort ends the call.
    ecs
      .on(RunTaskCommand)
      .callsFakeOnce(
        () =>
          new Promise((_, reject) => {
            setImmediate(() => {
              fire?.();
              reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
            });
          }),
      )
      .resolves({ tasks: [task('t30', 30)], failures: [] });
    const deadline = Date.now() + 20_000;
    expect(await b.launch({ ...request(30), deadline })).toEqual({
      kind: 'throttled',
      detail: 'ECS throttled RunTask',
    });
    expect(deadlines.at(-1)).toBe(deadline);
    expect((await b.launch({ ...request(30), deadline })).kind).toBe('launched');
    const tokens = ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens).toEqual([clientTokenFor('ci', 30, 0), clientTokenFor('ci', 30, 0)]);
  });

  it('marks a listing that stayed throttled, so callers wait instead of reporting a failure', async () => {
    const { b } = pacedBackend();
    ecs.on(ListTasksCommand).rejects(throttling());
    await expect(b.list(cluster)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', throttled: true });
    ecs.on(ListTasksCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(b.list(cluster)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', throttled: false });
  });
});

describe('ECS backend list / stop / inspect', () => {
  it('pages through ListTasks (startedBy only, 100 a page) and describes in batches of 100 with tags', async () => {
    const arns = Array.from({ length: 250 }, (_, i) => ARN(`t${i}`));
    const pages: Record<string, { taskArns: string[]; nextToken?: string }> = {
      '': { taskArns: arns.slice(0, 100), nextToken: 'a' },
      a: { taskArns: arns.slice(100, 200), nextToken: 'b' },
      b: { taskArns: arns.slice(200) },
    };
    // The paginator reuses one input object, so each call's input is copied as it is made.
    const inputs: Record<string, unknown>[] = [];
    ecs.on(ListTasksCommand).callsFake((input: { nextToken?: string }) => {
      inputs.push({ ...input });
      return pages[input.nextToken ?? ''];
    });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((a) => task(a.split('/').pop()!, Number(a.split('/t').pop()))),
    }));
    const agents = await backend.list(cluster);
    expect(agents).toHaveLength(250);
    expect(new Set(agents.map((a) => a.jobId)).size).toBe(250);
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 3);
    expect(inputs).toEqual([
      { cluster: 'ci-agents', startedBy: 'gocd-agent-scaler/ci', maxResults: 100 },
      { cluster: 'ci-agents', startedBy: 'gocd-agent-scaler/ci', maxResults: 100, nextToken: 'a' },
      { cluster: 'ci-agents', startedBy: 'gocd-agent-scaler/ci', maxResults: 100, nextToken: 'b' },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks!.length)).toEqual([100, 100, 50]);
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, { cluster: 'ci-agents', include: ['TAGS'] });
  });

  it('maps lastStatus to agent status and leaves out stopped, untagged and other-profile tasks', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(ARN) });
    const foreign = task('f', 6);
    foreign.tags = foreign.tags!.map((t) => (t.key === 'gocd-agent-scaler:cluster-id' ? { ...t, value: 'x' } : t));
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task('a', 1, 'PROVISIONING'),
        task('b', 2, 'ACTIVATING'),
        task('c', 3, 'RUNNING', { startedAt: new Date('2026-01-01T00:01:00Z') }),
        task('d', 4, 'RUNNING', { desiredStatus: 'STOPPED' }),
        task('e', 5, 'STOPPED', { stoppedReason: 'Essential container in task exited' }),
        foreign,
        { taskArn: ARN('g'), lastStatus: 'RUNNING', tags: [] },
      ],
      failures: [{ arn: ARN('h'), reason: 'MISSING' }],
    });
    const agents = await backend.list(cluster);
    expect(agents.map((a) => [a.jobId, a.status])).toEqual([
      [1, 'pending'],
      [2, 'pending'],
      [3, 'running'],
      [4, 'stopping'],
    ]);
    expect(agents[2]!.startedAt).toEqual(new Date('2026-01-01T00:01:00Z'));
  });

  it('never returns a partial list: a failed page throws BackendUnavailableError', async () => {
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [ARN('a')], nextToken: 'n' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(backend.list(cluster)).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('ThrottlingException'),
    });
    ecs.reset();
    ecs.on(ListTasksCommand).resolves({ taskArns: [ARN('a')] });
    ecs.on(DescribeTasksCommand).rejects(Object.assign(new Error('boom'), { name: 'ServerException' }));
    await expect(backend.list(cluster)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('stops with the reason (cut to 255 chars), ignores a task that is already gone, and reports other errors', async () => {
    ecs
      .on(StopTaskCommand)
      .resolves({})
      .on(StopTaskCommand, { task: 'gone' })
      .rejects(Object.assign(new Error('The referenced task was not found.'), { name: 'InvalidParameterException' }));
    const agent: AgentRecord = {
      agentId: 'ea-1-00000000',
      jobId: 1,
      clusterId: 'ci',
      pipeline: 'p',
      ref: ARN('t1'),
      status: 'running',
      createdAt: new Date(),
    };
    await backend.stop(cluster, [agent, { ...agent, ref: 'gone' }], `GoCD job ${'x'.repeat(300)} completed`);
    const input = ecs.commandCalls(StopTaskCommand, { task: ARN('t1') })[0]!.args[0].input;
    expect(input).toMatchObject({ cluster: 'ci-agents', task: ARN('t1') });
    expect(input.reason).toHaveLength(255);
    expect(input.reason!.startsWith('GoCD job xxx')).toBe(true);

    ecs.on(StopTaskCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(backend.stop(cluster, [agent], 'r')).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('AccessDeniedException'),
    });
  });

  it('inspects an agent: containers, the agent env with the auto-register key masked, console and log links', async () => {
    const t = task('abc123', 21, 'RUNNING', {
      taskDefinitionArn: TD_ARN,
      overrides: {
        containerOverrides: [
          {
            name: 'agent',
            environment: [
              { name: 'GO_EA_AUTO_REGISTER_KEY', value: 'secret-key' },
              { name: 'GO_EA_SERVER_URL', value: 'https://gocd.example.com/go' },
            ],
          },
        ],
      },
      containers: [
        { name: 'agent', image: 'agent:1', lastStatus: 'RUNNING' },
        { name: 'dind', image: 'docker:dind', lastStatus: 'STOPPED', exitCode: 1, reason: 'OOM' },
      ],
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: [t.taskArn!] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [t] });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: TD_ARN }).resolves({
      taskDefinition: {
        containerDefinitions: [{ name: 'agent', environment: [{ name: 'FOO', value: 'bar' }] }],
      },
    });
    const details = await backend.inspect(cluster, agentIdFor('ci', 21));
    expect(details).toEqual({
      agent: expect.objectContaining({ agentId: agentIdFor('ci', 21), ref: t.taskArn }),
      containers: [
        { name: 'agent', image: 'agent:1', status: 'RUNNING' },
        { name: 'dind', image: 'docker:dind', status: 'STOPPED', exitCode: 1, reason: 'OOM' },
      ],
      environment: { FOO: 'bar', GO_EA_AUTO_REGISTER_KEY: '********', GO_EA_SERVER_URL: 'https://gocd.example.com/go' },
      links: [
        {
          label: 'ECS task',
          url: 'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/ci-agents/tasks/abc123',
        },
        {
          label: 'agent log',
          url: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fgocd$252Fagents/log-events/gocd-agent$252Fagent$252Fabc123',
        },
      ],
    });
    expect(JSON.stringify(details)).not.toContain('secret-key');
    expect(await backend.inspect(cluster, agentIdFor('ci', 999))).toBeUndefined();
  });
});
