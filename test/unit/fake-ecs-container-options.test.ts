import { describe, expect, it } from 'vitest';
import { type ContainerContext, containerCreateOptions, ECS_LABEL } from '../support/fake-ecs/local-engine-runtime.js';

// The Docker create options the local-engine runtime derives from a container definition: the mapping the ECS
// developer guide's "Task definition parameters" page states for each parameter (user → --user, privileged →
// --privileged, linuxParameters.capabilities → --cap-add/--cap-drop, mountPoints → --volume, volumesFrom →
// --volumes-from, healthCheck → HEALTHCHECK …), as the ECS agent applies it (agent/api/task/task.go).

const ctx: ContainerContext = {
  dockerName: 'ecs-fam-3-agent-0123456789abcdef0123',
  definition: { family: 'fam', revision: 3 },
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789abcdef0123456789abcdef',
  cluster: 'ci',
  sources: new Map([
    ['sock', '/var/run/docker.sock'],
    ['scratch', 'ecs-fam-3-scratch-aaaaaaaaaaaaaaaaaaaa'],
  ]),
  dockerNames: new Map([['dind', 'ecs-fam-3-dind-bbbbbbbbbbbbbbbbbbbb']]),
  metadataUri: 'http://172.17.0.1:4000/v4/1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  region: 'eu-west-1',
  network: 'bridge',
  labels: { 'test.run': 'r1' },
};

describe('local-engine runtime: container definition → Docker create options', () => {
  it('privileged and the capability form map to Privileged and CapAdd/CapDrop, never to each other', () => {
    expect(containerCreateOptions({ name: 'a', image: 'i', privileged: true }, ctx).HostConfig).toMatchObject({
      Privileged: true,
      CapAdd: [],
      CapDrop: [],
    });
    const caps = containerCreateOptions(
      { name: 'a', image: 'i', linuxParameters: { capabilities: { add: ['SYS_ADMIN'], drop: ['NET_RAW'] } } },
      ctx,
    );
    expect(caps.HostConfig).toMatchObject({ Privileged: false, CapAdd: ['SYS_ADMIN'], CapDrop: ['NET_RAW'] });
  });

  it('user, command, entryPoint and workingDirectory go to the container config as given', () => {
    const o = containerCreateOptions(
      { name: 'a', image: 'i', user: 'go', command: ['x', 'y'], entryPoint: ['/e'], workingDirectory: '/w' },
      ctx,
    );
    expect(o).toMatchObject({ User: 'go', Cmd: ['x', 'y'], Entrypoint: ['/e'], WorkingDir: '/w', Image: 'i' });
    expect(containerCreateOptions({ name: 'a', image: 'i' }, ctx).User).toBeUndefined();
  });

  it('mountPoints bind host paths and task volumes (read-only when asked); volumesFrom names the source container', () => {
    const o = containerCreateOptions(
      {
        name: 'a',
        image: 'i',
        mountPoints: [
          { sourceVolume: 'sock', containerPath: '/var/run/docker.sock' },
          { sourceVolume: 'scratch', containerPath: '/s', readOnly: true },
        ],
        volumesFrom: [{ sourceContainer: 'dind', readOnly: true }],
      },
      ctx,
    );
    expect(o.HostConfig?.Binds).toEqual([
      '/var/run/docker.sock:/var/run/docker.sock',
      'ecs-fam-3-scratch-aaaaaaaaaaaaaaaaaaaa:/s:ro',
    ]);
    expect(o.HostConfig?.VolumesFrom).toEqual(['ecs-fam-3-dind-bbbbbbbbbbbbbbbbbbbb:ro']);
  });

  it('the ECS labels come last (a definition’s dockerLabels cannot fake them) and the metadata URIs are set', () => {
    const o = containerCreateOptions(
      { name: 'agent', image: 'i', dockerLabels: { [ECS_LABEL.taskArn]: 'forged', team: 'ci' } },
      ctx,
    );
    expect(o.Labels).toEqual({
      team: 'ci',
      'test.run': 'r1',
      [ECS_LABEL.taskArn]: ctx.taskArn,
      [ECS_LABEL.containerName]: 'agent',
      [ECS_LABEL.family]: 'fam',
      [ECS_LABEL.version]: '3',
      [ECS_LABEL.cluster]: 'ci',
    });
    expect(o.Env).toEqual(
      expect.arrayContaining([
        `ECS_CONTAINER_METADATA_URI_V4=${ctx.metadataUri}`,
        'ECS_CONTAINER_METADATA_URI=http://172.17.0.1:4000/v3/1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        'AWS_REGION=eu-west-1',
        'AWS_DEFAULT_REGION=eu-west-1',
      ]),
    );
  });

  it('a definition’s own AWS_REGION is kept', () => {
    const o = containerCreateOptions(
      { name: 'a', image: 'i', environment: [{ name: 'AWS_REGION', value: 'ap-south-1' }] },
      ctx,
    );
    expect(o.Env).toContain('AWS_REGION=ap-south-1');
    expect(o.Env).not.toContain('AWS_REGION=eu-west-1');
  });

  it('healthCheck becomes a Docker health check in nanoseconds, with ECS’s defaults for what it leaves out', () => {
    const o = containerCreateOptions(
      { name: 'a', image: 'i', healthCheck: { command: ['CMD-SHELL', 'docker info'], interval: 5 } },
      ctx,
    );
    expect(o.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'docker info'],
      Interval: 5e9,
      Timeout: 5e9,
      Retries: 3,
      StartPeriod: 0,
    });
  });

  it('memory limits are MiB, cpu units become CPU shares, initProcessEnabled becomes --init', () => {
    const o = containerCreateOptions(
      {
        name: 'a',
        image: 'i',
        memory: 128,
        memoryReservation: 32,
        cpu: 512,
        linuxParameters: { initProcessEnabled: true },
      },
      ctx,
    );
    expect(o.HostConfig).toMatchObject({
      Memory: 128 * 1024 * 1024,
      MemoryReservation: 32 * 1024 * 1024,
      CpuShares: 512,
      Init: true,
      NetworkMode: 'bridge',
    });
  });
});
