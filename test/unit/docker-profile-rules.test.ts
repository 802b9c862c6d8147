import { describe, expect, it } from 'vitest';
import { asDockerCluster, dockerProfiles, engineKey } from '../../src/backends/docker/docker-profiles.js';
import {
  clusterPolicyRefusal,
  dockerCluster,
  ecsCluster,
  policyOf,
  validateClusterProperties,
} from '../support/profiles.js';

// The Docker backend's profile rules one at a time: how an engine address is compared with the operator policy's
// list, when a go_server_url cannot be reached from the engine, what the refusals say, which client a profile uses.

const URL = { go_server_url: 'https://gocd.example.com/go' };

describe('engine addresses as the policy compares them (engineKey)', () => {
  it('reads no address, or a blank one, as the local engine', () => {
    expect(engineKey(undefined)).toBe('local');
    expect(engineKey('   ')).toBe('local');
  });

  it('keeps a unix socket path, and reads unix:// alone as the default socket', () => {
    expect(engineKey('unix:///run/docker-agents.sock')).toBe('unix:///run/docker-agents.sock');
    expect(engineKey('unix://')).toBe('unix:///var/run/docker.sock');
  });

  it('normalises a TCP address: trimmed, lower-case host, default port 2375, tcp scheme for http', () => {
    expect(engineKey('  tcp://Builder.Internal  ')).toBe('tcp://builder.internal:2375');
    expect(engineKey('http://Builder:12')).toBe('tcp://builder:12');
    expect(engineKey('tcp://Builder:23750/')).toBe('tcp://builder:23750');
    expect(engineKey('tcp://[FE80::1]')).toBe('tcp://[fe80::1]:2375');
    expect(engineKey('tcp://[FE80::1]:2376')).toBe('tcp://[fe80::1]:2376');
  });

  it('leaves an address that is not a whole engine address as written, so it matches only itself', () => {
    expect(engineKey('tcp://Builder:2375/v1.41')).toBe('tcp://Builder:2375/v1.41');
    expect(engineKey('ssh://tcp://Builder')).toBe('ssh://tcp://Builder');
    expect(engineKey('tcp://Builder:port')).toBe('tcp://Builder:port');
  });
});

describe('Docker cluster profile validation', () => {
  it('accepts a docker_host with surrounding blanks', () => {
    expect(validateClusterProperties({ ...URL, docker_host: '  tcp://10.0.0.5:2375  ' })).toEqual([]);
  });

  it('refuses a loopback go_server_url for a remote engine, naming the engine, and allows it on a loopback engine', () => {
    const loopback = { go_server_url: 'http://127.0.0.1:8153/go' };
    expect(validateClusterProperties({ ...loopback, docker_host: 'tcp://10.0.0.5:2375' })).toEqual([
      {
        key: 'go_server_url',
        message:
          "go_server_url http://127.0.0.1:8153/go is a loopback address: agents on the remote engine tcp://10.0.0.5:2375 cannot reach GoCD there; use an address they can reach (the server's host name or IP)",
      },
    ]);
    expect(validateClusterProperties({ ...loopback, docker_host: 'tcp://127.0.0.1:2375' })).toEqual([]);
    expect(validateClusterProperties({ ...loopback, docker_host: 'unix:///var/run/docker.sock' })).toEqual([]);
  });
});

describe('Docker engines and the operator policy', () => {
  const remoteOnly = policyOf("policy:\n  docker: { engines: ['tcp://builder:2375'] }\n");

  it('says "the local engine" when the local engine is not listed', () => {
    expect(clusterPolicyRefusal(remoteOnly, dockerCluster(URL))).toBe(
      'the local engine is not allowed by the operator policy (policy.docker.engines: tcp://builder:2375)',
    );
  });

  it('names the docker_host otherwise, and allows a listed engine however it is spelled', () => {
    expect(clusterPolicyRefusal(remoteOnly, dockerCluster({ ...URL, docker_host: 'tcp://other:2375' }))).toBe(
      "docker_host 'tcp://other:2375' is not allowed by the operator policy (policy.docker.engines: tcp://builder:2375)",
    );
    expect(clusterPolicyRefusal(remoteOnly, dockerCluster({ ...URL, docker_host: 'TCP://Builder' }))).toBeUndefined();
  });

  it('lets a policy entry `local` allow the local engine', () => {
    const local = policyOf('policy:\n  docker: { engines: [local] }\n');
    expect(clusterPolicyRefusal(local, dockerCluster(URL))).toBeUndefined();
  });
});

describe('Docker clients and cluster profiles', () => {
  it('uses one client per engine address, the local engine keyed by no address', () => {
    const a = dockerProfiles.clientKey(dockerCluster({ ...URL, docker_host: 'tcp://a:2375' }));
    const b = dockerProfiles.clientKey(dockerCluster({ ...URL, docker_host: 'tcp://b:2375' }));
    const a2 = dockerProfiles.clientKey(dockerCluster({ ...URL, docker_host: 'tcp://a:2375', network: 'ci' }));
    expect(a).toBe('tcp://a:2375');
    expect(a).not.toBe(b);
    expect(a2).toBe(a);
    expect(dockerProfiles.clientKey(dockerCluster(URL))).toBe('');
  });

  it('hands the Docker backend only Docker cluster profiles', () => {
    expect(() => asDockerCluster(ecsCluster({ ...URL, cluster: 'ci' }))).toThrow(
      'not a Docker cluster profile: backend ecs',
    );
    expect(asDockerCluster(dockerCluster(URL)).backend).toBe('docker');
  });
});
