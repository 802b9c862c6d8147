import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import {
  agentContainerOptions,
  agentEnvironment,
  CGROUP_RW_PRELUDE,
  containerNameFor,
  daemonPrivilege,
  dindContainerOptions,
  sidecarNamesFor,
} from '../../src/backends/docker/container-spec.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { engineAddress } from '../../src/backends/docker/docker-client.js';
import { isManagedContainer } from '../../src/backends/docker/socket-children.js';
import { createDockerBackendFor } from '../../src/backends/docker-factory.js';
import type { LaunchRequest } from '../../src/backends/port.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { job } from '../support/gocd-bodies.js';

function request(profile: Record<string, string> = {}, cluster: Record<string, string> = {}): LaunchRequest {
  const c = parseClusterProfile({
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: 'unit',
    allow_privileged: 'true',
    allow_socket_mount: 'true',
    ...cluster,
  });
  return {
    agentId: agentIdFor('unit', 9),
    job: job(9),
    cluster: c,
    profile: parseElasticProfile({ image: 'agent:1', ...profile }),
    jobEnv: { GO_EA_SERVER_URL: c.goServerUrl, GO_EA_AUTO_REGISTER_KEY: 'k' },
  };
}

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe('Docker container spec', () => {
  it('names the agent container after (cluster id, job id), a valid Docker name even for negative job ids', () => {
    expect(containerNameFor('prod', 42)).toBe('gocd-ea-prod-42');
    expect(containerNameFor('prod', -42)).toBe('gocd-ea-prod-n42');
    expect(containerNameFor('prod', -42)).not.toBe(containerNameFor('prod', 42));
    for (const name of [containerNameFor('a_b-C', -1), containerNameFor('0123456789ab', 9e15)]) {
      expect(name).toMatch(DOCKER_NAME);
    }
    const names = sidecarNamesFor('gocd-ea-prod-42');
    expect(Object.values(names).every((n) => DOCKER_NAME.test(n))).toBe(true);
  });

  it('full privilege when the profile names no capabilities; otherwise exactly those, seccomp and AppArmor unconfined', () => {
    expect(daemonPrivilege([])).toEqual({ Privileged: true });
    expect(daemonPrivilege(['SYS_ADMIN', 'CAP_NET_ADMIN'])).toEqual({
      Privileged: false,
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    });
  });

  it('privileged: full runs the image as is with --privileged', () => {
    const o = agentContainerOptions(request({ docker_mode: 'privileged' }), { name: 'n' });
    expect(o.HostConfig?.Privileged).toBe(true);
    expect(o.HostConfig?.CapAdd).toBeUndefined();
    expect(o.Entrypoint).toBeUndefined();
  });

  it('privileged with capabilities wraps the image entrypoint in the cgroup prelude and keeps its command', () => {
    const o = agentContainerOptions(request({ docker_mode: 'privileged', capabilities: 'SYS_ADMIN' }), {
      name: 'n',
      imageStart: { Entrypoint: ['/entry.sh'], Cmd: ['dockerd'] },
    });
    expect(o.HostConfig).toMatchObject({ Privileged: false, CapAdd: ['SYS_ADMIN'] });
    expect(o.Entrypoint).toEqual(['/bin/sh', '-c', CGROUP_RW_PRELUDE, 'gocd-ea-agent', '/entry.sh']);
    expect(o.Cmd).toEqual(['dockerd']);
  });

  it('the environment is cluster lines, then profile lines over them, then GO_EA_* over both; sidecar adds DOCKER_HOST', () => {
    const env = agentEnvironment(
      request(
        { environment: 'X=profile\nGO_EA_AUTO_REGISTER_KEY=hijack', docker_mode: 'sidecar' },
        { environment: 'X=cluster\nY=cluster' },
      ),
    );
    expect(env).toEqual({
      X: 'profile',
      Y: 'cluster',
      GO_EA_SERVER_URL: 'https://gocd.example.com/go',
      GO_EA_AUTO_REGISTER_KEY: 'k',
      DOCKER_HOST: 'unix:///var/run/dind/docker.sock',
    });
  });

  it('socket mode bind-mounts the engine socket at the CLI default and adds its group', () => {
    const o = agentContainerOptions(request({ docker_mode: 'socket' }), {
      name: 'n',
      socket: { hostPath: '/run/user/docker.sock', gid: 106 },
    });
    expect(o.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/run/user/docker.sock', Target: '/var/run/docker.sock' },
    ]);
    expect(o.HostConfig?.GroupAdd).toEqual(['106']);
    expect(o.HostConfig?.Privileged).toBeUndefined();
  });

  it('sidecar: agent and DinD share the socket and workspace volumes; the daemon listens only on the unix socket', () => {
    const req = request({ docker_mode: 'sidecar', dind_image: 'dind:1' }, { network: 'ci' });
    const names = sidecarNamesFor('n');
    const agent = agentContainerOptions(req, { name: 'n' });
    const dind = dindContainerOptions(req, names, { Entrypoint: ['dockerd-entrypoint.sh'], Cmd: [] });
    expect(dind.HostConfig?.Mounts).toEqual(agent.HostConfig?.Mounts);
    expect(dind.Labels?.['gocd-agent-scaler.role']).toBe('dind');
    expect(dind.Labels?.['gocd-agent-scaler.agent-id']).toBe(req.agentId);
    expect(dind.Cmd).toEqual(['dockerd', '--host=unix:///var/run/dind/docker.sock', '--group=2375']);
    expect(dind.Env).toEqual(['DOCKER_TLS_CERTDIR=']);
    expect(dind.HostConfig?.Privileged).toBe(true);
    expect(dind.HostConfig?.NetworkMode).toBe('ci');
    expect(agent.HostConfig?.Privileged).toBeUndefined();
  });

  it('cpu units and MiB become NanoCpus and bytes; no auto-remove', () => {
    const o = agentContainerOptions(request({ cpu: '1536', memory: '512' }), { name: 'n' });
    expect(o.HostConfig).toMatchObject({ NanoCpus: 1_500_000_000, Memory: 512 * 1024 * 1024 });
    expect(o.HostConfig?.AutoRemove).toBeUndefined();
  });

  it('socket-children attribution never counts ECS-managed or scaler-labelled containers', () => {
    expect(isManagedContainer({ 'com.amazonaws.ecs.task-arn': 'x' })).toBe(true);
    expect(isManagedContainer({ 'gocd-agent-scaler.role': 'agent' })).toBe(true);
    expect(isManagedContainer({ 'gocd-agent-scaler-test.owner': 'x', app: 'y' })).toBe(false);
    expect(isManagedContainer(null)).toBe(false);
  });
});

describe('Docker engine address', () => {
  it('reads unix:// and tcp:// addresses, DOCKER_HOST, and defaults to the local socket', () => {
    expect(engineAddress(undefined, {})).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(engineAddress('unix:///run/d.sock', {})).toMatchObject({ kind: 'unix', socketPath: '/run/d.sock' });
    expect(engineAddress(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toMatchObject({
      kind: 'tcp',
      host: '10.0.0.5',
      port: 2376,
    });
    expect(engineAddress('tcp://docker', {})).toMatchObject({ kind: 'tcp', host: 'docker', port: 2375 });
    expect(() => engineAddress('ssh://me@host', {})).toThrow(/docker_host must be/);
  });

  it('an unreachable engine makes list, launch and inspect throw BackendUnavailableError (never "no agents")', async () => {
    const backend = await createDockerBackend({ dockerHost: 'unix:///nonexistent/docker.sock' });
    const req = request();
    await expect(backend.list(req.cluster)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(backend.launch(req)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(backend.inspect(req.cluster, req.agentId)).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('a docker_host the factory cannot read is a BackendUnavailableError naming the value', async () => {
    const cluster = parseClusterProfile({ go_server_url: 'https://g/go', docker_host: 'ftp://x' });
    await expect(createDockerBackendFor(cluster, pino({ level: 'silent' }))).rejects.toThrow(
      /docker_host must be .* got 'ftp:\/\/x'/,
    );
  });
});
