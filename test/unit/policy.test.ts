import { describe, expect, it } from 'vitest';
import { describePolicy, launchPermits } from '../../src/agents/policy.js';
import { engineKey } from '../../src/backends/docker/docker-profiles.js';
import type { ConfigError } from '../../src/config/config-loader.js';
import { parseConfig } from '../../src/config/config-text.js';
import {
  clusterPolicyRefusal,
  parseClusterProfile,
  parseElasticProfile,
  policyOf,
  policyRefusal,
} from '../support/profiles.js';

const env = { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' };
const docker = (props: Record<string, string> = {}) =>
  parseClusterProfile({ go_server_url: 'https://g/go', cluster_id: 'd', ...props });
const ecs = (props: Record<string, string> = {}) =>
  parseClusterProfile({ go_server_url: 'https://g/go', cluster_id: 'e', cluster: 'agents', ...props });
const profile = (props: Record<string, string> = {}) => parseElasticProfile({ image: 'agent:1', ...props });

describe('operator policy: defaults', () => {
  it('lets a docker cluster profile use only the local engine, and an ECS one any cluster, region or account', () => {
    const p = policyOf();
    expect(p).toEqual({
      docker: { engines: ['local'] },
      ecs: {},
      allow: { privileged: false, socketMount: false, hostNetwork: false, capabilities: [] },
      warmPool: { maxPerProfile: 10, maxPerCluster: 20 },
    });
    expect(clusterPolicyRefusal(p, docker())).toBeUndefined();
    expect(clusterPolicyRefusal(p, docker({ docker_host: 'tcp://10.0.0.9:2375' }))).toBe(
      "docker_host 'tcp://10.0.0.9:2375' is not allowed by the operator policy (policy.docker.engines: local)",
    );
    // A unix socket the profile names is another engine, even on this host (the SSRF of finding 2).
    expect(clusterPolicyRefusal(p, docker({ docker_host: 'unix:///run/user/0/docker.sock' }))).toContain(
      'policy.docker.engines',
    );
    expect(
      clusterPolicyRefusal(p, ecs({ region: 'ap-south-1', assume_role_arn: 'arn:aws:iam::999999999999:role/x' })),
    ).toBeUndefined();
  });

  it('refuses every Docker mode, host networking and capabilities a cluster profile allows, naming the policy key', () => {
    const p = policyOf();
    const open = docker({ allow_privileged: 'true', allow_socket_mount: 'true' });
    expect(policyRefusal(p, open, profile({ docker_mode: 'privileged' }))).toContain('policy.allow.privileged');
    expect(policyRefusal(p, open, profile({ docker_mode: 'sidecar' }))).toContain('policy.allow.privileged');
    expect(policyRefusal(p, open, profile({ docker_mode: 'socket' }))).toContain('policy.allow.socketMount');
    expect(policyRefusal(p, open, profile({ docker_mode: 'privileged', capabilities: 'NET_ADMIN' }))).toContain(
      'policy.allow.capabilities',
    );
    expect(policyRefusal(p, docker({ network: 'host' }), profile())).toContain('policy.allow.hostNetwork');
    expect(policyRefusal(p, docker({ network: 'container:gocd-server' }), profile())).toContain(
      'policy.allow.hostNetwork',
    );
    expect(policyRefusal(p, docker({ network: 'ci-net' }), profile())).toBeUndefined();
    expect(policyRefusal(p, open, profile())).toBeUndefined();
  });
});

describe('operator policy: a request can only narrow it', () => {
  const wide = policyOf(`
policy:
  docker: { engines: [local, 'tcp://builder.internal:2375', 'unix:///run/docker-agents.sock'] }
  ecs: { clusters: [gocd-agents], regions: [eu-west-1], accounts: ['123456789012'] }
  allow: { privileged: true, socketMount: true, hostNetwork: true, capabilities: [SYS_ADMIN] }
`);

  it('allows only the listed engines (compared normalised: scheme, default port, case)', () => {
    expect(engineKey('http://Builder.Internal')).toBe('tcp://builder.internal:2375');
    for (const host of ['tcp://builder.internal:2375', 'TCP://builder.internal', 'unix:///run/docker-agents.sock']) {
      expect(clusterPolicyRefusal(wide, docker({ docker_host: host })), host).toBeUndefined();
    }
    expect(clusterPolicyRefusal(wide, docker({ docker_host: 'tcp://builder.internal:2376' }))).toContain(
      'policy.docker.engines',
    );
  });

  it('allows only the listed ECS clusters (by name or ARN), regions and accounts', () => {
    expect(clusterPolicyRefusal(wide, ecs({ cluster: 'gocd-agents', region: 'eu-west-1' }))).toBeUndefined();
    expect(
      clusterPolicyRefusal(wide, ecs({ cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/gocd-agents' })),
    ).toBeUndefined();
    expect(clusterPolicyRefusal(wide, ecs({ cluster: 'prod-services' }))).toBe(
      "ECS cluster 'prod-services' is not allowed by the operator policy (policy.ecs.clusters: gocd-agents)",
    );
    expect(clusterPolicyRefusal(wide, ecs({ cluster: 'gocd-agents', region: 'us-east-1' }))).toContain(
      'policy.ecs.regions',
    );
    expect(
      clusterPolicyRefusal(wide, ecs({ cluster: 'arn:aws:ecs:eu-west-1:999999999999:cluster/gocd-agents' })),
    ).toContain('policy.ecs.accounts');
    expect(
      clusterPolicyRefusal(
        wide,
        ecs({ cluster: 'gocd-agents', assume_role_arn: 'arn:aws:iam::999999999999:role/ecs' }),
      ),
    ).toBe(
      'account 999999999999 (assume_role_arn) is not allowed by the operator policy (policy.ecs.accounts: 123456789012)',
    );
  });

  it('bounds another account by account with a cluster wildcard, while the own account keeps its named cluster only', () => {
    const p = policyOf(`
policy:
  ecs:
    clusters: [gocd-agents, 'arn:aws:ecs:eu-west-1:210987654321:cluster/*']
    regions: [eu-west-1]
    accounts: ['123456789012', '210987654321']
`);
    const role = 'arn:aws:iam::210987654321:role/ecs-agents';
    // The role's account: any of its clusters, by name (through the role) or by ARN.
    expect(clusterPolicyRefusal(p, ecs({ cluster: 'their-agents', assume_role_arn: role }))).toBeUndefined();
    expect(
      clusterPolicyRefusal(
        p,
        ecs({ cluster: 'arn:aws:ecs:eu-west-1:210987654321:cluster/builds', assume_role_arn: role }),
      ),
    ).toBeUndefined();
    // The own account: only the named cluster, by name or ARN.
    expect(clusterPolicyRefusal(p, ecs({ cluster: 'gocd-agents' }))).toBeUndefined();
    expect(
      clusterPolicyRefusal(p, ecs({ cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/gocd-agents' })),
    ).toBeUndefined();
    for (const cluster of ['prod-services', 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-services']) {
      expect(clusterPolicyRefusal(p, ecs({ cluster })), cluster).toContain('policy.ecs.clusters');
      // Naming a role does not carry the own account's other clusters in.
      if (cluster.startsWith('arn:'))
        expect(clusterPolicyRefusal(p, ecs({ cluster, assume_role_arn: role })), cluster).toContain(
          'policy.ecs.clusters',
        );
    }
    // The wildcard is for that region only.
    expect(
      clusterPolicyRefusal(
        p,
        ecs({ cluster: 'arn:aws:ecs:us-east-1:210987654321:cluster/builds', assume_role_arn: role }),
      ),
    ).toContain('policy.ecs.clusters');
  });

  it("keeps the cluster profile's own gates: the policy allowing a mode does not turn a false gate on", () => {
    expect(policyRefusal(wide, docker(), profile({ docker_mode: 'privileged' }))).toContain('allow_privileged');
    const permits = launchPermits(wide, docker({ allow_privileged: 'false', allow_socket_mount: 'false' }));
    expect(permits).toMatchObject({ privileged: false, socketMount: false, hostNetwork: true });
    expect(permits.deniedBy).toMatchObject({ privileged: 'allow_privileged', socketMount: 'allow_socket_mount' });
  });

  it('allows the capability form with only the listed capabilities, unless full privilege is allowed', () => {
    const capsOnly = policyOf('policy: { allow: { capabilities: [SYS_ADMIN, CAP_NET_ADMIN] } }');
    const cluster = docker({ allow_privileged: 'true' });
    expect(
      policyRefusal(capsOnly, cluster, profile({ docker_mode: 'sidecar', capabilities: 'SYS_ADMIN,NET_ADMIN' })),
    ).toBeUndefined();
    expect(policyRefusal(capsOnly, cluster, profile({ docker_mode: 'sidecar', capabilities: 'SYS_MODULE' }))).toBe(
      'this elastic profile: capabilities SYS_MODULE are refused by the operator policy (policy.allow.capabilities: SYS_ADMIN, NET_ADMIN)',
    );
    // capabilities ALL is full privilege (finding 9): it needs policy.allow.privileged, not a capability list.
    expect(policyRefusal(capsOnly, cluster, profile({ docker_mode: 'privileged', capabilities: 'ALL' }))).toContain(
      'policy.allow.privileged',
    );
    expect(policyRefusal(wide, cluster, profile({ docker_mode: 'privileged', capabilities: 'ALL' }))).toBeUndefined();
  });

  it('quotes at most 100 characters of a value in a refusal', () => {
    const reason = clusterPolicyRefusal(policyOf(), docker({ docker_host: `tcp://${'a'.repeat(5000)}:2375` }));
    expect(reason!.length).toBeLessThan(300);
  });

  it('is described in one line for check-config and the doctor', () => {
    expect(describePolicy(policyOf())).toBe(
      'Docker engines local; ECS clusters any, regions any, accounts any; cluster profiles may allow: privileged no, socket no, host network no, capabilities none',
    );
  });
});

describe('operator policy in the config', () => {
  it('refuses malformed engines, regions, accounts and capabilities with the path of each', () => {
    let problems: { path: string }[] = [];
    try {
      parseConfig(
        `policy:
  docker: { engines: ['ftp://x'] }
  ecs: { regions: [EU], accounts: ['12'] }
  allow: { capabilities: ['sys admin'], root: true }
`,
        'test',
        { env },
      );
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/policy/allow',
      '/policy/allow/capabilities/0',
      '/policy/docker/engines/0',
      '/policy/ecs/accounts/0',
      '/policy/ecs/regions/0',
    ]);
  });
});
