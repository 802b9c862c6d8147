import { describe, expect, it } from 'vitest';
import type { LaunchRequest } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import {
  AGENT_SOCKET_PATH,
  agentContainerOptions,
  agentEnvironment,
  CGROUP_RW_PRELUDE,
  containerNameFor,
  containerNameOf,
  DIND_DOCKER_HOST,
  DIND_SOCKET_GID,
  daemonPrivilege,
  dindContainerOptions,
  LABEL,
  SIDECAR_WORKSPACE,
  sidecarNamesFor,
} from '../../src/backends/docker/container-spec.js';
import { engineAddress } from '../../src/backends/docker/docker-client.js';
import { isManagedContainer } from '../../src/backends/docker/socket-children.js';
import { job } from '../support/gocd-bodies.js';
import { dockerCluster as parseClusterProfile, dockerProfile as parseElasticProfile } from '../support/profiles.js';

function request(profile: Record<string, string>, cluster: Record<string, string> = {}): LaunchRequest {
  const parsed = parseElasticProfile({ image: 'agent:1', environment: 'OVERRIDE=profile', ...profile });
  return {
    agentId: 'ea-42-0123abcd',
    job: job(42),
    cluster: parseClusterProfile({
      go_server_url: 'https://gocd.example.com/go',
      cluster_id: 'spec',
      allow_privileged: 'true',
      allow_socket_mount: 'true',
      environment: 'SHARED=cluster\nOVERRIDE=cluster',
      ...cluster,
    }),
    // Profile validation refuses GO_EA_* lines; the spec must still put the job's on top of anything else.
    profile: { ...parsed, environment: { ...parsed.environment, GO_EA_SERVER_URL: 'evil' } },
    jobEnv: {
      GO_EA_SERVER_URL: 'https://gocd.example.com/go',
      GO_EA_AUTO_REGISTER_KEY: 'secret',
      GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: 'ea-42-0123abcd',
      GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID: 'gocd-agent-scaler',
    },
  };
}

describe('container names', () => {
  it('derives one name per (cluster, job), so a repeated create-agent collides on it', () => {
    expect(containerNameFor('prod', 42)).toBe(`gocd-prod-${agentIdFor('prod', 42)}`);
    expect(containerNameFor('prod', 42)).toBe(containerNameFor('prod', 42));
    expect(containerNameFor('other', 42)).not.toBe(containerNameFor('prod', 42));
  });

  it('contains the elastic agent id GoCD shows, so docker ps --filter name=<agent id> finds it', () => {
    const id = agentIdFor('local', 1234);
    expect(id).toMatch(/^ea-1234-[0-9a-f]{8}$/);
    expect(containerNameFor('local', 1234)).toContain(id);
    expect(containerNameFor('a b/c', 1)).toBe(`gocd-a_b_c-${agentIdFor('a b/c', 1)}`);
  });

  it("gives GoCD's negative job ids a valid, distinct Docker name", () => {
    const name = containerNameFor('prod', -7);
    expect(name).toBe(`gocd-prod-${agentIdFor('prod', -7)}`);
    expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    expect(name).not.toBe(containerNameFor('prod', 7));
  });

  it('names a warm-pool agent after its agent id (one container per pool agent), a job agent after its job', () => {
    const cluster = { clusterId: 'prod' };
    const agentId = 'ea-pool-fca2bc23cda3-5f3a9c01-0000a1b2';
    expect(containerNameOf({ agentId, cluster })).toBe('gocd-prod-ea-pool-fca2bc23cda3-5f3a9c01-0000a1b2');
    expect(containerNameOf({ agentId: agentIdFor('prod', 42), cluster, job: { job_id: 42 } })).toBe(
      `gocd-prod-${agentIdFor('prod', 42)}`,
    );
  });

  it('names the sidecar container and volumes after the agent container', () => {
    expect(sidecarNamesFor('gocd-ea-prod-42')).toEqual({
      dind: 'gocd-ea-prod-42-dind',
      socketVolume: 'gocd-ea-prod-42-dind-sock',
      workspaceVolume: 'gocd-ea-prod-42-workspace',
    });
  });
});

describe('agent container options', () => {
  it('carries the identity labels, resources, and the profile env over the cluster env with GO_EA_* on top', () => {
    const opts = agentContainerOptions(request({ cpu: '512', memory: '1024' }), { name: 'gocd-ea-spec-42' });
    expect(opts.name).toBe('gocd-ea-spec-42');
    expect(opts.Image).toBe('agent:1');
    expect(opts.Labels).toEqual({
      [LABEL.agentId]: 'ea-42-0123abcd',
      [LABEL.jobId]: '42',
      [LABEL.clusterId]: 'spec',
      [LABEL.pipeline]: 'app/7/test/1/build',
      [LABEL.dockerMode]: 'none',
      [LABEL.role]: 'agent',
    });
    expect(opts.Env).toEqual(
      expect.arrayContaining([
        'SHARED=cluster',
        'OVERRIDE=profile',
        'GO_EA_SERVER_URL=https://gocd.example.com/go',
        'GO_EA_AUTO_REGISTER_KEY=secret',
      ]),
    );
    expect(opts.HostConfig?.NanoCpus).toBe(500_000_000);
    expect(opts.HostConfig?.Memory).toBe(1024 * 1024 * 1024);
    expect(opts.HostConfig?.AutoRemove).toBeUndefined();
    expect(opts.HostConfig?.Privileged).toBeUndefined();
    expect(opts.HostConfig?.Mounts).toBeUndefined();
    expect(opts.Cmd).toBeUndefined();
  });

  it('labels a warm-pool agent with its profile hash instead of a job id and pipeline', () => {
    const { job: _job, ...base } = request({});
    const opts = agentContainerOptions(
      { ...base, agentId: 'ea-pool-fca2bc23cda3-5f3a9c01-0000a1b2', pool: { profileHash: 'fca2bc23cda3' } },
      { name: 'n' },
    );
    expect(opts.Labels).toEqual({
      [LABEL.agentId]: 'ea-pool-fca2bc23cda3-5f3a9c01-0000a1b2',
      [LABEL.pool]: 'fca2bc23cda3',
      [LABEL.clusterId]: 'spec',
      [LABEL.dockerMode]: 'none',
      [LABEL.role]: 'agent',
    });
  });

  it('uses the profile command and the cluster network when set', () => {
    const opts = agentContainerOptions(request({ command: 'run\n--flag' }, { network: 'ci-net' }), { name: 'n' });
    expect(opts.Cmd).toEqual(['run', '--flag']);
    expect(opts.HostConfig?.NetworkMode).toBe('ci-net');
  });

  it('privileged mode without capabilities is full --privileged, with the image left to start itself', () => {
    const opts = agentContainerOptions(request({ docker_mode: 'privileged' }), { name: 'n' });
    expect(opts.HostConfig?.Privileged).toBe(true);
    expect(opts.HostConfig?.CapAdd).toBeUndefined();
    expect(opts.Entrypoint).toBeUndefined();
  });

  it('privileged mode with capabilities adds exactly those, unconfines seccomp/AppArmor and wraps the image start', () => {
    const opts = agentContainerOptions(
      request({ docker_mode: 'privileged', capabilities: 'SYS_ADMIN, CAP_NET_ADMIN' }),
      {
        name: 'n',
        imageStart: { Entrypoint: ['/entry.sh'], Cmd: ['dockerd'] },
      },
    );
    expect(opts.HostConfig).toMatchObject({
      Privileged: false,
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    });
    expect(opts.Entrypoint).toEqual(['/bin/sh', '-c', CGROUP_RW_PRELUDE, 'gocd-ea-agent', '/entry.sh']);
    expect(opts.Cmd).toEqual(['dockerd']);
  });

  it('socket mode mounts the engine socket and adds its group', () => {
    const opts = agentContainerOptions(request({ docker_mode: 'socket' }), {
      name: 'n',
      socket: { hostPath: '/run/docker.sock', gid: 998 },
    });
    expect(opts.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/run/docker.sock', Target: AGENT_SOCKET_PATH }]);
    expect(opts.HostConfig?.GroupAdd).toEqual(['998']);
    expect(opts.HostConfig?.Privileged).toBeUndefined();
    expect(opts.Labels?.[LABEL.dockerMode]).toBe('socket');
  });

  it('sidecar mode points DOCKER_HOST at the shared daemon socket and mounts both shared volumes', () => {
    const req = request({ docker_mode: 'sidecar' });
    expect(agentEnvironment(req).DOCKER_HOST).toBe(DIND_DOCKER_HOST);
    const opts = agentContainerOptions(req, { name: 'a' });
    expect(opts.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'a-dind-sock', Target: '/var/run/dind' },
      { Type: 'volume', Source: 'a-workspace', Target: SIDECAR_WORKSPACE },
    ]);
    expect(opts.HostConfig?.GroupAdd).toEqual([String(DIND_SOCKET_GID)]);
    expect(opts.HostConfig?.Privileged).toBeUndefined();
  });
});

describe('DinD sidecar options', () => {
  it('runs dockerd on a unix socket only, in the shared volumes, labelled as the agent`s dind', () => {
    const req = request({ docker_mode: 'sidecar', dind_image: 'docker:27-dind' });
    const opts = dindContainerOptions(req, sidecarNamesFor('a'), { Entrypoint: ['dockerd-entrypoint.sh'], Cmd: [] });
    expect(opts.name).toBe('a-dind');
    expect(opts.Image).toBe('docker:27-dind');
    expect(opts.Cmd).toEqual(['dockerd', `--host=${DIND_DOCKER_HOST}`, `--group=${DIND_SOCKET_GID}`]);
    expect(opts.Env).toEqual(['DOCKER_TLS_CERTDIR=']);
    expect(opts.Labels?.[LABEL.role]).toBe('dind');
    expect(opts.Labels?.[LABEL.agentId]).toBe('ea-42-0123abcd');
    expect(opts.HostConfig?.Privileged).toBe(true);
    expect(opts.HostConfig?.Mounts?.map((m) => m.Target)).toEqual(['/var/run/dind', SIDECAR_WORKSPACE]);
  });

  it('with capabilities, keeps the image entrypoint behind the cgroup prelude', () => {
    const req = request({ docker_mode: 'sidecar', capabilities: 'SYS_ADMIN,NET_ADMIN' });
    const opts = dindContainerOptions(req, sidecarNamesFor('a'), { Entrypoint: ['dockerd-entrypoint.sh'], Cmd: [] });
    expect(opts.Entrypoint).toEqual(['/bin/sh', '-c', CGROUP_RW_PRELUDE, 'gocd-ea-dind', 'dockerd-entrypoint.sh']);
    expect(opts.Cmd?.[0]).toBe('dockerd');
    expect(opts.HostConfig).toMatchObject({ Privileged: false, CapAdd: ['SYS_ADMIN', 'NET_ADMIN'] });
  });
});

describe('daemon privilege', () => {
  it('is full privilege for an empty list and a capability set otherwise', () => {
    expect(daemonPrivilege([])).toEqual({ Privileged: true });
    expect(daemonPrivilege(['SYS_ADMIN'])).toEqual({
      Privileged: false,
      CapAdd: ['SYS_ADMIN'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    });
  });
});

describe('socket children attribution', () => {
  it('never counts the scaler`s own or ECS-managed containers as a job`s children', () => {
    expect(isManagedContainer({ [LABEL.agentId]: 'x' })).toBe(true);
    expect(isManagedContainer({ 'com.amazonaws.ecs.task-arn': 'arn' })).toBe(true);
    expect(isManagedContainer({ 'gocd-agent-scaler-test.run': 'r', maintainer: 'me' })).toBe(false);
    expect(isManagedContainer(undefined)).toBe(false);
  });
});

describe('engine address', () => {
  it('reads unix and tcp docker_host values and defaults to DOCKER_HOST, then the local socket', () => {
    expect(engineAddress('unix:///run/docker.sock', {})).toEqual({
      kind: 'unix',
      socketPath: '/run/docker.sock',
      url: 'unix:///run/docker.sock',
    });
    expect(engineAddress('tcp://127.0.0.1:2375', {})).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 2375 });
    expect(engineAddress(undefined, { DOCKER_HOST: 'tcp://10.0.0.5' })).toMatchObject({ host: '10.0.0.5', port: 2375 });
    expect(engineAddress(undefined, {})).toMatchObject({ socketPath: '/var/run/docker.sock' });
    expect(() => engineAddress('ssh://host', {})).toThrow(/docker_host must be/);
  });
});
