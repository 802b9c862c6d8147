import { describe, expect, it } from 'vitest';
import { parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import { buildTaskDefinition, taskDefinitionFamily } from '../../src/backends/ecs/task-definition.js';

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

describe('ECS task definition per docker_mode', () => {
  it('none: one agent container, static env (profile over cluster), awslogs, bridge networking, tags', () => {
    const td = buildTaskDefinition(
      cluster,
      profile({ task_role_arn: 'arn:aws:iam::123456789012:role/job', command: 'sh\n-c\nrun' }),
    );
    expect(td).toEqual({
      family: taskDefinitionFamily(
        cluster,
        profile({ task_role_arn: 'arn:aws:iam::123456789012:role/job', command: 'sh\n-c\nrun' }),
      ),
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      taskRoleArn: 'arn:aws:iam::123456789012:role/job',
      containerDefinitions: [
        {
          name: 'agent',
          image: 'gocd/gocd-agent-docker-dind:v25.1.0',
          essential: true,
          cpu: 2048,
          memory: 4096,
          command: ['sh', '-c', 'run'],
          environment: [
            { name: 'OVERRIDDEN', value: 'profile' },
            { name: 'SHARED', value: '1' },
          ],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/gocd/agents',
              'awslogs-stream-prefix': 'gocd-agent',
              'awslogs-region': 'eu-west-1',
            },
          },
        },
      ],
      tags: [
        { key: 'gocd-agent-scaler:cluster-id', value: 'ci' },
        { key: 'gocd-agent-scaler:profile-hash', value: expect.stringMatching(/^[0-9a-f]{16}$/) },
      ],
    });
    expect(JSON.stringify(td)).not.toContain('GO_EA_');
  });

  it('privileged: the agent is privileged, or gets exactly the named capabilities', () => {
    const full = buildTaskDefinition(cluster, profile({ docker_mode: 'privileged' })).containerDefinitions![0]!;
    expect(full.privileged).toBe(true);
    expect(full.linuxParameters).toBeUndefined();
    const caps = buildTaskDefinition(
      cluster,
      profile({ docker_mode: 'privileged', capabilities: 'SYS_ADMIN,NET_ADMIN' }),
    ).containerDefinitions![0]!;
    expect(caps.privileged).toBe(false);
    expect(caps.linuxParameters).toEqual({ capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN'] } });
  });

  it('sidecar: a healthy-checked DinD container, shared socket and workspace volumes, DOCKER_HOST, dependsOn', () => {
    const td = buildTaskDefinition(cluster, profile({ docker_mode: 'sidecar', dind_image: 'docker:27-dind' }));
    expect(td.volumes).toEqual([{ name: 'dind-socket' }, { name: 'workspace' }]);
    const [agent, dind] = td.containerDefinitions!;
    const mounts = [
      { sourceVolume: 'dind-socket', containerPath: '/var/run/dind' },
      { sourceVolume: 'workspace', containerPath: '/godata/pipelines' },
    ];
    expect(dind).toMatchObject({
      name: 'dind',
      image: 'docker:27-dind',
      essential: true,
      privileged: true,
      command: ['--host=unix:///var/run/dind/docker.sock'],
      environment: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
      mountPoints: mounts,
      healthCheck: { command: ['CMD-SHELL', 'docker -H unix:///var/run/dind/docker.sock info >/dev/null 2>&1'] },
    });
    expect(agent).toMatchObject({ mountPoints: mounts, dependsOn: [{ containerName: 'dind', condition: 'HEALTHY' }] });
    expect(agent!.privileged).toBeUndefined();
    expect(agent!.environment).toContainEqual({ name: 'DOCKER_HOST', value: 'unix:///var/run/dind/docker.sock' });
  });

  it('socket: host socket volume, mounted in the agent and the janitor, which starts first', () => {
    const td = buildTaskDefinition(cluster, profile({ docker_mode: 'socket' }));
    expect(td.volumes).toEqual([{ name: 'docker-sock', host: { sourcePath: '/var/run/docker.sock' } }]);
    const [agent, janitor] = td.containerDefinitions!;
    const mount = [{ sourceVolume: 'docker-sock', containerPath: '/var/run/docker.sock' }];
    expect(agent).toMatchObject({ mountPoints: mount, dependsOn: [{ containerName: 'janitor', condition: 'START' }] });
    expect(janitor).toEqual({
      name: 'janitor',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/janitor:1',
      essential: false,
      memory: 64,
      mountPoints: mount,
      environment: [{ name: 'JANITOR_AGENT_CONTAINER_NAME', value: 'agent' }],
      stopTimeout: 60,
    });
  });

  it('awsvpc with subnets; Fargate task-level cpu/memory; capacity providers', () => {
    const vpc = parseClusterProfile({
      go_server_url: 'https://g/go',
      cluster: 'c',
      subnets: 'subnet-1',
      launch_type: 'FARGATE',
    });
    const td = buildTaskDefinition(vpc, profile());
    expect(td).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '2048',
      memory: '4096',
    });
    expect(td.containerDefinitions![0]!.cpu).toBeUndefined();
    expect(() => buildTaskDefinition(vpc, profile({ docker_mode: 'sidecar' }))).toThrow(/Fargate/);
    const external = parseClusterProfile({ go_server_url: 'https://g/go', cluster: 'c', launch_type: 'EXTERNAL' });
    expect(buildTaskDefinition(external, profile()).requiresCompatibilities).toEqual(['EXTERNAL']);
  });

  it('stays far inside ECS limits (10 containers, 64 KiB)', () => {
    for (const mode of ['none', 'privileged', 'sidecar', 'socket']) {
      const td = buildTaskDefinition(cluster, profile({ docker_mode: mode }));
      expect(td.containerDefinitions!.length).toBeLessThanOrEqual(2);
      expect(JSON.stringify(td).length).toBeLessThan(8 * 1024);
    }
  });
});
