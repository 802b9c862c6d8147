import { describe, expect, it } from 'vitest';
import {
  buildTaskDefinition,
  definitionHash,
  profileHash,
  taskDefinitionFamily,
} from '../../src/backends/ecs/task-definition.js';
import { ecsCluster as parseClusterProfile, ecsProfile as parseElasticProfile } from '../support/profiles.js';

const cluster = parseClusterProfile({
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'ci',
  cluster: 'ci-agents',
  region: 'eu-west-1',
  execution_role_arn: 'arn:aws:iam::123456789012:role/exec',
  log_group: '/gocd/agents',
  environment: 'SHARED=1\nOVERRIDDEN=cluster',
  allow_privileged: 'true',
  allow_socket_mount: 'true',
  janitor_image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/janitor:1',
});
const profile = (extra: Record<string, string> = {}) =>
  parseElasticProfile({
    image: 'gocd/gocd-agent-docker-dind:v25.1.0',
    cpu: '2048',
    memory: '4096',
    environment: 'OVERRIDDEN=profile',
    ...extra,
  });
const AWSLOGS = {
  logDriver: 'awslogs',
  options: { 'awslogs-group': '/gocd/agents', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'gocd-agent' },
};
const HASH = expect.stringMatching(/^[0-9a-f]{16}$/);

describe('ECS task definition per docker_mode', () => {
  it('none: one agent container with the static env (profile over cluster), awslogs, bridge, task-level size, tags', () => {
    const p = profile({ task_role_arn: 'arn:aws:iam::123456789012:role/job', command: 'sh\n-c\nrun' });
    const td = buildTaskDefinition(cluster, p);
    expect(td).toEqual({
      family: `gocd-agent-${profileHash(cluster, p)}`,
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      cpu: '2048',
      memory: '4096',
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      taskRoleArn: 'arn:aws:iam::123456789012:role/job',
      containerDefinitions: [
        {
          name: 'agent',
          image: 'gocd/gocd-agent-docker-dind:v25.1.0',
          essential: true,
          command: ['sh', '-c', 'run'],
          environment: [
            { name: 'OVERRIDDEN', value: 'profile' },
            { name: 'SHARED', value: '1' },
          ],
          logConfiguration: AWSLOGS,
        },
      ],
      tags: [
        { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
        { key: 'gocd-agent-scaler:profile-hash', value: profileHash(cluster, p) },
        { key: 'gocd-agent-scaler:definition-hash', value: definitionHash(td) },
      ],
    });
    expect(td.family).toBe(taskDefinitionFamily(cluster, p));
    // Per-job variables (auto-register key …) never reach the definition: they go in RunTask overrides.
    expect(JSON.stringify(td)).not.toContain('GO_EA_');
  });

  it('passes repository credentials, and takes the awslogs region from the client when the profile has none', () => {
    const noRegion = parseClusterProfile({ go_server_url: 'https://g/go', cluster: 'c', log_group: '/gocd/agents' });
    const td = buildTaskDefinition(
      noRegion,
      profile({ repository_credentials: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hub' }),
      { region: 'ap-south-1' },
    );
    const [agent] = td.containerDefinitions!;
    expect(agent!.repositoryCredentials).toEqual({
      credentialsParameter: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hub',
    });
    expect(agent!.logConfiguration!.options!['awslogs-region']).toBe('ap-south-1');
    expect(() => buildTaskDefinition(noRegion, profile())).toThrow(/log_group needs a region/);
  });

  it('privileged: the agent is privileged, or unprivileged with exactly the named capabilities', () => {
    const full = buildTaskDefinition(cluster, profile({ docker_mode: 'privileged' }));
    expect(full.containerDefinitions).toHaveLength(1);
    expect(full.containerDefinitions![0]).toMatchObject({ name: 'agent', privileged: true });
    expect(full.containerDefinitions![0]!.linuxParameters).toBeUndefined();
    const caps = buildTaskDefinition(
      cluster,
      profile({ docker_mode: 'privileged', capabilities: 'SYS_ADMIN,NET_ADMIN' }),
    ).containerDefinitions![0]!;
    expect(caps.privileged).toBe(false);
    expect(caps.linuxParameters).toEqual({ capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN'] } });
  });

  it('sidecar: a health-checked DinD container on a socket-only daemon, shared socket and workspace volumes, DOCKER_HOST, dependsOn HEALTHY', () => {
    const td = buildTaskDefinition(cluster, profile({ docker_mode: 'sidecar', dind_image: 'docker:27-dind' }));
    expect(td.volumes).toEqual([
      { name: 'dind-socket', host: {} },
      { name: 'workspace', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } },
    ]);
    const mounts = [
      { sourceVolume: 'dind-socket', containerPath: '/var/run/dind' },
      { sourceVolume: 'workspace', containerPath: '/godata' },
    ];
    expect(td.containerDefinitions).toEqual([
      {
        name: 'agent',
        image: 'gocd/gocd-agent-docker-dind:v25.1.0',
        essential: true,
        logConfiguration: AWSLOGS,
        mountPoints: mounts,
        dependsOn: [{ containerName: 'dind', condition: 'HEALTHY' }],
        environment: [
          { name: 'DOCKER_HOST', value: 'unix:///var/run/dind/docker.sock' },
          { name: 'OVERRIDDEN', value: 'profile' },
          { name: 'SHARED', value: '1' },
        ],
      },
      {
        name: 'dind',
        image: 'docker:27-dind',
        essential: true,
        privileged: true,
        command: ['dockerd', '--host=unix:///var/run/dind/docker.sock', '--group=0'],
        environment: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
        mountPoints: mounts,
        healthCheck: {
          command: ['CMD-SHELL', 'docker -H unix:///var/run/dind/docker.sock info >/dev/null'],
          interval: 5,
          timeout: 5,
          retries: 10,
          startPeriod: 10,
        },
      },
    ]);
    const caps = buildTaskDefinition(cluster, profile({ docker_mode: 'sidecar', capabilities: 'SYS_ADMIN' }));
    expect(caps.containerDefinitions![1]).toMatchObject({
      privileged: false,
      linuxParameters: { capabilities: { add: ['SYS_ADMIN'] } },
    });
    expect(caps.containerDefinitions![0]!.privileged).toBeUndefined();
    // Without --privileged the cgroup mounts are read-only: the daemon remounts them, then runs docker:dind's own
    // entrypoint when the image has one, else the command. Full privilege keeps the image's entrypoint untouched.
    const entryPoint = caps.containerDefinitions![1]!.entryPoint!;
    expect(entryPoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(entryPoint[2]).toContain('mount -o remount,rw');
    expect(entryPoint[2]).toMatch(/exec dockerd-entrypoint\.sh "\$@"; fi\nexec "\$@"$/);
    expect(td.containerDefinitions![1]!.entryPoint).toBeUndefined();
  });

  it('socket: the host socket in the janitor only; the agent reaches the engine through the janitor’s proxy socket and starts once the janitor holds the host’s socket slot', () => {
    const td = buildTaskDefinition(cluster, profile({ docker_mode: 'socket' }));
    expect(td.volumes).toEqual([
      { name: 'docker-sock', host: { sourcePath: '/var/run/docker.sock' } },
      { name: 'docker-proxy', host: {} },
    ]);
    const proxy = { sourceVolume: 'docker-proxy', containerPath: '/var/run/gocd-agent-scaler' };
    const [agent, janitor] = td.containerDefinitions!;
    expect(agent).toMatchObject({
      mountPoints: [proxy],
      dependsOn: [{ containerName: 'janitor', condition: 'HEALTHY' }],
    });
    expect(agent!.environment).toContainEqual({
      name: 'DOCKER_HOST',
      value: 'unix:///var/run/gocd-agent-scaler/docker.sock',
    });
    expect(agent!.privileged).toBeUndefined();
    expect(janitor).toEqual({
      name: 'janitor',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/janitor:1',
      essential: false,
      memoryReservation: 32,
      mountPoints: [{ sourceVolume: 'docker-sock', containerPath: '/var/run/docker.sock' }, proxy],
      environment: [
        { name: 'JANITOR_AGENT_CONTAINER_NAME', value: 'agent' },
        { name: 'JANITOR_PROXY_SOCKET', value: '/var/run/gocd-agent-scaler/docker.sock' },
      ],
      healthCheck: {
        command: ['CMD', '/usr/local/bin/gocd-janitor', 'health'],
        interval: 5,
        timeout: 5,
        retries: 10,
        startPeriod: 300,
      },
      stopTimeout: 60,
    });
    // The wait for a previous socket task (its agent's default 30 s stop timeout plus its janitor's 60 s) fits in
    // the health check's start period.
    expect(janitor!.healthCheck!.startPeriod!).toBeGreaterThanOrEqual(30 + 60);
  });

  it('awsvpc with subnets or on Fargate, FARGATE and EXTERNAL compatibilities; Docker modes are refused on Fargate', () => {
    const vpc = parseClusterProfile({ go_server_url: 'https://g/go', cluster: 'c', subnets: 'subnet-1' });
    expect(buildTaskDefinition(vpc, profile())).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['EC2'],
    });
    const fargate = parseClusterProfile({
      go_server_url: 'https://g/go',
      cluster: 'c',
      subnets: 'subnet-1',
      launch_type: 'FARGATE',
    });
    expect(buildTaskDefinition(fargate, profile())).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '2048',
      memory: '4096',
    });
    const spot = parseClusterProfile({
      go_server_url: 'https://g/go',
      cluster: 'c',
      subnets: 'subnet-1',
      capacity_provider: 'FARGATE_SPOT',
    });
    expect(buildTaskDefinition(spot, profile()).requiresCompatibilities).toEqual(['FARGATE']);
    for (const mode of ['privileged', 'sidecar', 'socket']) {
      expect(() => buildTaskDefinition(fargate, profile({ docker_mode: mode }))).toThrow(/cannot run on Fargate/);
    }
    const external = parseClusterProfile({ go_server_url: 'https://g/go', cluster: 'c', launch_type: 'EXTERNAL' });
    expect(buildTaskDefinition(external, profile())).toMatchObject({
      networkMode: 'bridge',
      requiresCompatibilities: ['EXTERNAL'],
    });
  });

  it('the family follows the profiles (janitor image included); the definition hash follows what is registered', () => {
    const socket = profile({ docker_mode: 'socket' });
    const a = buildTaskDefinition(cluster, socket);
    const b = buildTaskDefinition({ ...cluster, janitorImage: 'janitor:2' }, socket);
    expect(a.family).not.toBe(b.family);
    expect(buildTaskDefinition({ ...cluster, janitorImage: 'janitor:2' }, profile()).family).toBe(
      buildTaskDefinition(cluster, profile()).family,
    );
    // Something the profiles do not name (here the region the client resolved) changes the content, not the family.
    const noRegion = { ...cluster, region: undefined };
    const east = buildTaskDefinition(noRegion, socket, { region: 'us-east-1' });
    const west = buildTaskDefinition(noRegion, socket, { region: 'us-west-2' });
    expect(east.family).toBe(west.family);
    expect(definitionHash(east)).not.toBe(definitionHash(west));
    expect(definitionHash(a)).toEqual(HASH);
    expect(definitionHash(a)).toBe(definitionHash(buildTaskDefinition(cluster, socket)));
  });

  it('stays far inside ECS limits (10 containers, 64 KiB) and refuses an environment that would exceed them', () => {
    for (const mode of ['none', 'privileged', 'sidecar', 'socket']) {
      const td = buildTaskDefinition(cluster, profile({ docker_mode: mode }));
      expect(td.containerDefinitions!.length).toBeLessThanOrEqual(2);
      expect(JSON.stringify(td).length).toBeLessThan(4 * 1024);
    }
    const huge = { ...cluster, environment: { BIG: 'x'.repeat(70 * 1024) } };
    expect(() => buildTaskDefinition(huge, profile())).toThrow(/64|65536/);
  });
});
