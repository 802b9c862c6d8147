import { describe, expect, it } from 'vitest';
import { defaultClusterId } from '../../src/agents/profiles.js';
import { profileHash } from '../../src/backends/ecs/task-definition.js';
import { ValidationError } from '../../src/errors.js';
import {
  ecsCluster,
  ecsProfile,
  launchRefusal,
  parseClusterProfile,
  parseElasticProfile,
  validateClusterProperties,
  validateElasticProperties,
} from '../support/profiles.js';

const cluster = { go_server_url: 'https://gocd.example.com/go' };

describe('elastic profile validation', () => {
  it('accepts a minimal profile and treats nulls (as GoCD sends them) as unset', () => {
    expect(
      validateElasticProperties({ image: 'gocd/agent:v1', cpu: null, docker_mode: null, environment: null }),
    ).toEqual([]);
  });

  it('says the image is missing', () => {
    expect(validateElasticProperties({ image: '  ' })).toEqual([{ key: 'image', message: 'image must not be blank' }]);
  });

  it('names bad numbers, unknown docker modes and unknown keys', () => {
    const problems = validateElasticProperties({
      image: 'i',
      cpu: 'two',
      memory: '64',
      docker_mode: 'dind',
      Image: 'x',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { key: 'cpu', message: "cpu must be a whole number, got 'two'" },
        { key: 'memory', message: 'memory must be at least 128' },
        { key: 'docker_mode', message: "docker_mode must be one of none, privileged, sidecar, socket; got 'dind'" },
        { key: 'Image', message: expect.stringContaining("unknown property 'Image'") },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('checks environment lines, capabilities and their docker mode', () => {
    const problems = validateElasticProperties({
      image: 'i',
      environment: 'GOOD=1\n bad key=2\n# comment\n\nALSO_GOOD=a=b',
      capabilities: 'SYS_ADMIN, net-admin',
    });
    expect(problems.map((p) => p.key).sort()).toEqual(['capabilities', 'capabilities', 'environment']);
    expect(problems.find((p) => p.key === 'environment')?.message).toContain('line 2');
  });

  it('parses defaults and values', () => {
    const p = parseElasticProfile({
      image: 'img:1',
      docker_mode: 'sidecar',
      capabilities: 'CAP_SYS_ADMIN,NET_ADMIN',
      environment: 'A=1\nB=x=y',
      command: 'sleep\n\n600\n',
    });
    expect(p).toMatchObject({
      image: 'img:1',
      cpu: 1024,
      memory: 2048,
      dockerMode: 'sidecar',
      capabilities: ['SYS_ADMIN', 'NET_ADMIN'],
      dindImage: 'docker:dind',
      environment: { A: '1', B: 'x=y' },
      command: ['sleep', '600'],
      enableExecuteCommand: false,
    });
  });

  it('throws a ValidationError naming every problem', () => {
    expect(() => parseElasticProfile({ Image: 'alpine' })).toThrow(ValidationError);
    expect(() => parseElasticProfile({ Image: 'alpine' })).toThrow(/unknown property 'Image'.*image must not be blank/);
  });
});

describe('cluster profile validation', () => {
  it('defaults to the docker backend without an ECS cluster, ecs with one', () => {
    expect(parseClusterProfile(cluster).backend).toBe('docker');
    const ecs = parseClusterProfile({ ...cluster, cluster: 'ci', region: 'eu-west-1' });
    expect(ecs).toMatchObject({
      backend: 'ecs',
      launchType: 'EC2',
      maxAgents: 10,
      registrationTimeoutMinutes: 10,
      idleTimeoutMinutes: 0,
    });
  });

  it('refuses launch_type with capacity_provider, ecs without a cluster, Fargate without subnets', () => {
    expect(
      validateClusterProperties({ ...cluster, cluster: 'c', launch_type: 'EC2', capacity_provider: 'cp' }).map(
        (p) => p.key,
      ),
    ).toEqual(['capacity_provider']);
    expect(validateClusterProperties({ ...cluster, backend: 'ecs' }).map((p) => p.key)).toEqual(['cluster']);
    expect(validateClusterProperties({ ...cluster, cluster: 'c', launch_type: 'FARGATE' }).map((p) => p.key)).toEqual([
      'subnets',
    ]);
  });

  it('requires go_server_url and a short cluster_id', () => {
    const problems = validateClusterProperties({ cluster_id: 'this-is-far-too-long-for-ecs', max_agents: '0' });
    expect(problems.map((p) => p.key).sort()).toEqual(['cluster_id', 'go_server_url', 'max_agents']);
  });

  it('derives a stable 12-hex cluster id from the properties when none is set', () => {
    const a = defaultClusterId({ go_server_url: 'u', cluster: 'c' });
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(defaultClusterId({ cluster: 'c', go_server_url: 'u', region: null })).toBe(a);
    expect(defaultClusterId({ go_server_url: 'u', cluster: 'd' })).not.toBe(a);
    expect(parseClusterProfile({ ...cluster, cluster_id: 'ci-main' }).clusterId).toBe('ci-main');
  });
});

describe('launch refusals (need both profiles, checked at create-agent)', () => {
  const image = { image: 'i' };
  it('refuses any Docker mode on Fargate', () => {
    const fargate = parseClusterProfile({
      ...cluster,
      cluster: 'c',
      launch_type: 'FARGATE',
      subnets: 's-1',
      allow_privileged: 'true',
    });
    expect(launchRefusal(fargate, parseElasticProfile({ ...image, docker_mode: 'sidecar' }))).toMatch(/Fargate/);
    expect(launchRefusal(fargate, parseElasticProfile(image))).toBeUndefined();
  });
  it('enforces the privileged and socket gates', () => {
    const closed = parseClusterProfile(cluster);
    const open = parseClusterProfile({ ...cluster, allow_privileged: 'TRUE', allow_socket_mount: 'true' });
    for (const mode of ['privileged', 'sidecar']) {
      expect(launchRefusal(closed, parseElasticProfile({ ...image, docker_mode: mode }))).toMatch(/allow_privileged/);
      expect(launchRefusal(open, parseElasticProfile({ ...image, docker_mode: mode }))).toBeUndefined();
    }
    expect(launchRefusal(closed, parseElasticProfile({ ...image, docker_mode: 'socket' }))).toMatch(
      /allow_socket_mount/,
    );
    expect(launchRefusal(open, parseElasticProfile({ ...image, docker_mode: 'socket' }))).toBeUndefined();
  });
});

describe('profile hash (task definition family)', () => {
  it('is equal for equal content and differs when the profile changes', () => {
    const c = ecsCluster({ ...cluster, cluster: 'c' });
    const h1 = profileHash(c, ecsProfile({ image: 'i', environment: 'A=1\nB=2' }));
    expect(profileHash(c, ecsProfile({ environment: 'B=2\nA=1', image: 'i' }))).toBe(h1);
    expect(profileHash(c, ecsProfile({ image: 'i', environment: 'A=1\nB=3' }))).not.toBe(h1);
    expect(h1).toMatch(/^[0-9a-f]{16}$/);
  });
});
