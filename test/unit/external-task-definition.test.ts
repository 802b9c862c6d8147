import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import type { OperatorPolicy } from '../../src/agents/policy.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { definitionNeeds, ExternalTaskDefinitions } from '../../src/backends/ecs/external-task-definition.js';
import { parseConfig } from '../../src/config/config-text.js';
import { createAgentBody, job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService } from '../support/profiles.js';

// Finding 1 of issue 16: an elastic profile with `docker_mode: none` and `task_definition: <a family the service
// registered for a socket or privileged profile>` ran it on a cluster whose gates were false, skipped the socket task
// group and was tagged docker-mode=none. The definition is now described and held to the gates and the policy.

const ecs = mockClient(ECSClient);
const logger = pino({ level: 'silent' });
const ACCOUNT_TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition';
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/t1';

const CLUSTER = {
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'ci',
  backend: 'ecs',
  cluster: 'ci-agents',
  region: 'eu-west-1',
};

/** What a socket-mode definition of this service looks like (task-definition.ts), under someone's own family. */
function socketDefinition(family: string, revision = 3): TaskDefinition {
  return {
    taskDefinitionArn: `${ACCOUNT_TD}/${family}:${revision}`,
    family,
    revision,
    status: 'ACTIVE',
    volumes: [{ name: 'docker-sock', host: { sourcePath: '/var/run/docker.sock' } }],
    containerDefinitions: [
      {
        name: 'agent',
        image: 'agent:1',
        mountPoints: [{ sourceVolume: 'docker-sock', containerPath: '/var/run/docker.sock' }],
      },
      { name: 'janitor', image: 'janitor:1', essential: false },
    ],
  };
}

function plainDefinition(family: string, revision = 1): TaskDefinition {
  return {
    taskDefinitionArn: `${ACCOUNT_TD}/${family}:${revision}`,
    family,
    revision,
    status: 'ACTIVE',
    containerDefinitions: [{ name: 'agent', image: 'agent:1' }],
  };
}

function launched(jobId: number, mode = 'none'): Task {
  return {
    taskArn: TASK,
    lastStatus: 'PENDING',
    desiredStatus: 'RUNNING',
    tags: [
      { key: 'gocd-agent-scaler:agent-id', value: `ea-${jobId}-00000000` },
      { key: 'gocd-agent-scaler:job-id', value: String(jobId) },
      { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
      { key: 'gocd-agent-scaler:docker-mode', value: mode },
    ],
  };
}

function policy(yaml = ''): OperatorPolicy {
  return parseConfig(yaml, 'test', { env: { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' } }).config
    .policy as OperatorPolicy;
}

let activity: ActivityLog;
function service(p: OperatorPolicy = policy()): EdgeService {
  activity = new ActivityLog();
  const backend = new EcsBackend(new ECSClient({ region: 'eu-west-1' }), { logger });
  return edgeService(backend, { activity, logger, policy: p });
}

const create = (svc: EdgeService, jobId: number, cluster: Record<string, string>, profile: Record<string, string>) => {
  const body = createAgentBody(jobId);
  return svc.createAgent({
    autoRegisterKey: String(body.auto_register_key),
    job: job(jobId),
    clusterProperties: cluster,
    profileProperties: profile,
  });
};

beforeEach(() => {
  ecs.reset();
  ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [] });
  ecs.on(RunTaskCommand).resolves({ tasks: [launched(1)], failures: [] });
});

describe('task_definition: the attack of issue 16 finding 1', () => {
  it('refuses a socket-mounting family under docker_mode none on a cluster without allow_socket_mount: no RunTask', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: socketDefinition('team-socket-agents') });
    const outcome = await create(service(), 1, CLUSTER, { image: 'agent:1', task_definition: 'team-socket-agents' });
    expect(outcome).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/task_definition 'team-socket-agents'.*mounts the host's Docker socket/),
    });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
    expect(activity.recent({ kinds: ['refused'] })).toHaveLength(1);
  });

  it("refuses the service's own gocd-agent-* families outright, without describing them", async () => {
    for (const td of ['gocd-agent-0123456789abcdef', `${ACCOUNT_TD}/gocd-agent-0123456789abcdef:4`]) {
      const svc = service(policy('policy: { allow: { privileged: true, socketMount: true } }'));
      const outcome = await create(
        svc,
        2,
        { ...CLUSTER, allow_socket_mount: 'true', allow_privileged: 'true' },
        {
          image: 'agent:1',
          task_definition: td,
        },
      );
      expect(outcome.kind, td).toMatch(/refused|invalid/);
      expect('reason' in outcome && outcome.reason).toMatch(/gocd-agent/);
    }
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 0);
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
  });

  it('refuses a host path when the cluster allows host paths but the operator policy does not, naming the policy key', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        ...plainDefinition('team-cache'),
        volumes: [{ name: 'cache', host: { sourcePath: '/srv/cache' } }],
      },
    });
    const outcome = await create(
      service(),
      3,
      { ...CLUSTER, allow_socket_mount: 'true' },
      { image: 'agent:1', task_definition: 'team-cache' },
    );
    expect(outcome).toMatchObject({ kind: 'refused', reason: expect.stringContaining('policy.allow.socketMount') });
    expect(ecs).toHaveReceivedCommandTimes(RunTaskCommand, 0);
  });

  // Issue 14's "no cleanup ever crosses jobs": only the service's own socket definition has the janitor (slot claim,
  // proxy, cleanup of exactly this job's containers). A foreign socket task has no slot claim, so a managed socket
  // task still stopping on its host removes its job's containers, and its own job's containers are never removed.
  it('refuses a socket-mounting definition even when the gates and the policy allow the socket, naming why', async () => {
    const cases: [string, TaskDefinition][] = [
      ['with a janitor of its own', socketDefinition('team-socket-agents', 9)],
      [
        'through a local-driver bind of /var/run',
        {
          ...plainDefinition('team-bind-run', 2),
          volumes: [
            {
              name: 'run',
              dockerVolumeConfiguration: { driver: 'local', driverOpts: { o: 'bind', device: '/var/run/' } },
            },
          ],
        },
      ],
    ];
    for (const [what, td] of cases) {
      ecs.reset();
      ecs.on(ListTasksCommand).resolves({ taskArns: [] });
      ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td });
      const svc = service(policy('policy: { allow: { socketMount: true } }'));
      const outcome = await create(
        svc,
        4,
        { ...CLUSTER, allow_socket_mount: 'true' },
        { image: 'agent:1', docker_mode: 'none', task_definition: td.family! },
      );
      expect(outcome, what).toEqual({
        kind: 'refused',
        reason: expect.stringMatching(
          /mounts the host's Docker socket, which only docker_mode socket without task_definition may do: .*janitor/,
        ),
      });
      expect(ecs, what).toHaveReceivedCommandTimes(RunTaskCommand, 0);
    }
  });

  it('holds privileged containers, added capabilities, devices, host namespaces, confinement-lifting security options and host networking to their gates', async () => {
    const cases: [string, TaskDefinition, string][] = [
      ['privileged agent', { containerDefinitions: [{ name: 'agent', privileged: true }] }, 'allow_privileged'],
      [
        'privileged sidecar',
        { containerDefinitions: [{ name: 'agent' }, { name: 'dind', privileged: true }] },
        'allow_privileged',
      ],
      [
        'capabilities',
        { containerDefinitions: [{ name: 'agent', linuxParameters: { capabilities: { add: ['SYS_ADMIN'] } } }] },
        'allow_privileged',
      ],
      [
        'devices',
        { containerDefinitions: [{ name: 'agent', linuxParameters: { devices: [{ hostPath: '/dev/kmsg' }] } }] },
        'allow_privileged',
      ],
      ['pid host', { pidMode: 'host', containerDefinitions: [{ name: 'agent' }] }, 'allow_privileged'],
      ['network host', { networkMode: 'host', containerDefinitions: [{ name: 'agent' }] }, 'policy.allow.hostNetwork'],
      [
        'a bind mount through the local volume driver',
        {
          volumes: [
            { name: 'v', dockerVolumeConfiguration: { driver: 'local', driverOpts: { o: 'bind', device: '/srv' } } },
          ],
          containerDefinitions: [{ name: 'agent' }],
        },
        'allow_socket_mount',
      ],
      [
        'apparmor unconfined',
        { containerDefinitions: [{ name: 'agent', dockerSecurityOptions: ['apparmor:unconfined'] }] },
        'allow_privileged',
      ],
      [
        'seccomp unconfined on a sidecar',
        {
          containerDefinitions: [{ name: 'agent' }, { name: 'helper', dockerSecurityOptions: ['seccomp:unconfined'] }],
        },
        'allow_privileged',
      ],
      [
        'SELinux labels off',
        { containerDefinitions: [{ name: 'agent', dockerSecurityOptions: ['label:disable'] }] },
        'allow_privileged',
      ],
    ];
    for (const [what, td, key] of cases) {
      ecs.reset();
      ecs.on(ListTasksCommand).resolves({ taskArns: [] });
      ecs.on(DescribeTaskDefinitionCommand).resolves({
        taskDefinition: { ...td, taskDefinitionArn: `${ACCOUNT_TD}/x-${what.replace(/\W/g, '')}:1`, status: 'ACTIVE' },
      });
      const outcome = await create(service(), 5, CLUSTER, {
        image: 'agent:1',
        task_definition: `x-${what.replace(/\W/g, '')}`,
      });
      expect(outcome, what).toMatchObject({ kind: 'refused', reason: expect.stringContaining(key) });
      expect(ecs, what).toHaveReceivedCommandTimes(RunTaskCommand, 0);
    }
  });

  it('runs a plain definition with no gate, and refuses one without an agent container', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'plain' })
      .resolves({ taskDefinition: plainDefinition('plain') });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'no-agent' }).resolves({
      taskDefinition: { ...plainDefinition('no-agent'), containerDefinitions: [{ name: 'app' }] },
    });
    expect((await create(service(), 6, CLUSTER, { image: 'agent:1', task_definition: 'plain' })).kind).toBe('launched');
    const refused = await create(service(), 7, CLUSTER, { image: 'agent:1', task_definition: 'no-agent' });
    expect(refused).toMatchObject({ kind: 'refused', reason: expect.stringContaining("no container named 'agent'") });
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 0);
  });
});

describe('describing profiles’ task definitions', () => {
  it('describes a revision once, and a bare family again once its short cache expired (a new revision may exist)', async () => {
    let now = 0;
    let revision = 1;
    ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
      const rev = /:(\d+)$/.exec(input.taskDefinition)?.[1];
      return { taskDefinition: plainDefinition('fam', rev ? Number(rev) : revision) };
    });
    const defs = new ExternalTaskDefinitions(new ECSClient({ region: 'eu-west-1' }), {
      familyTtlMs: 1000,
      now: () => now,
    });
    expect((await defs.describe('fam:1')).arn).toBe(`${ACCOUNT_TD}/fam:1`);
    await defs.describe('fam:1');
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    expect((await defs.describe('fam')).arn).toBe(`${ACCOUNT_TD}/fam:1`);
    revision = 2;
    now = 999;
    expect((await defs.describe('fam')).arn).toBe(`${ACCOUNT_TD}/fam:1`);
    now = 1000;
    expect((await defs.describe('fam')).arn).toBe(`${ACCOUNT_TD}/fam:2`);
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 3);
  });

  it('classifies the real mode: socket, privileged (the agent), sidecar (another container), none', () => {
    expect(definitionNeeds(socketDefinition('s')).needs.mode).toBe('socket');
    expect(definitionNeeds({ containerDefinitions: [{ name: 'agent', privileged: true }] }).needs.mode).toBe(
      'privileged',
    );
    expect(
      definitionNeeds({ containerDefinitions: [{ name: 'agent' }, { name: 'dind', privileged: true }] }).needs.mode,
    ).toBe('sidecar');
    expect(definitionNeeds(plainDefinition('p')).needs).toEqual({ mode: 'none', capabilities: [] });
    // Options that only add confinement need nothing.
    expect(
      definitionNeeds({
        containerDefinitions: [
          { name: 'agent', dockerSecurityOptions: ['no-new-privileges', 'credentialspec:file://x'] },
        ],
      }).needs,
    ).toEqual({ mode: 'none', capabilities: [] });
    // A host directory above the socket exposes it too.
    expect(
      definitionNeeds({ volumes: [{ name: 'run', host: { sourcePath: '/var/run/' } }], containerDefinitions: [] }).needs
        .mode,
    ).toBe('socket');
  });
});
