import { describe, expect, it } from 'vitest';
import {
  declaredNeeds,
  describePolicy,
  type LaunchPermits,
  launchPermits,
  listed,
  NO_OPERATOR_POLICY,
  type OperatorPolicy,
  PolicyRefusedError,
  privilegeRefusal,
  quote,
} from '../../src/agents/policy.js';
import { parseClusterProfile, parseElasticProfile } from '../support/profiles.js';

// The operator policy's rules from both sides: each permit granted where cluster profile and policy both allow it,
// refused naming the key that said no (the cluster profile's first: its author can change it).

const policy = (allow: Partial<OperatorPolicy['allow']> = {}): OperatorPolicy => ({
  docker: { engines: ['local'] },
  ecs: {},
  allow: { privileged: false, socketMount: false, hostNetwork: false, capabilities: [], ...allow },
  warmPool: { maxPerProfile: 10, maxPerCluster: 20 },
});
const cluster = (props: Record<string, string> = {}) =>
  parseClusterProfile({ go_server_url: 'https://g/go', cluster_id: 'd', ...props });
const profile = (props: Record<string, string> = {}) => parseElasticProfile({ image: 'agent:1', ...props });
const open = cluster({ allow_privileged: 'true', allow_socket_mount: 'true' });

describe('quoting values in refusals', () => {
  it('quotes a value of 100 characters whole and clips one of 101', () => {
    expect(quote('a'.repeat(100))).toBe(`'${'a'.repeat(100)}'`);
    expect(quote('a'.repeat(101))).toBe(`'${'a'.repeat(100)}…'`);
  });

  it('names an empty list as empty and joins the others', () => {
    expect(listed([])).toBe('empty');
    expect(listed(['a', 'b'])).toBe('a, b');
  });
});

describe('launch permits', () => {
  it('grants everything the cluster profile and the policy both allow', () => {
    const p = launchPermits(policy({ privileged: true, socketMount: true, hostNetwork: true }), open);
    expect(p).toEqual({ privileged: true, socketMount: true, hostNetwork: true, capabilities: 'all', deniedBy: {} });
  });

  it("names the cluster profile's key first when both say no", () => {
    expect(launchPermits(policy(), cluster()).deniedBy).toEqual({
      privileged: 'allow_privileged',
      socketMount: 'allow_socket_mount',
      hostNetwork: 'policy.allow.hostNetwork',
      capabilities: 'allow_privileged',
    });
  });

  it('names the policy key when only the policy says no', () => {
    expect(launchPermits(policy(), open).deniedBy).toEqual({
      privileged: 'policy.allow.privileged',
      socketMount: 'policy.allow.socketMount',
      hostNetwork: 'policy.allow.hostNetwork',
      capabilities: 'policy.allow.capabilities',
    });
  });

  it('allows every capability when the policy lists *, and only the listed ones (CAP_ dropped) otherwise', () => {
    expect(launchPermits(policy({ capabilities: ['*'] }), open).capabilities).toBe('all');
    expect(launchPermits(policy({ capabilities: ['CAP_NET_ADMIN', 'SYS_TIME'] }), open).capabilities).toEqual(
      new Set(['NET_ADMIN', 'SYS_TIME']),
    );
    expect(launchPermits(policy({ capabilities: ['*'] }), cluster()).capabilities).toEqual(new Set());
  });
});

describe('privilege refusals', () => {
  const permits = launchPermits(policy({ capabilities: ['NET_ADMIN'] }), open);

  it('allows a launch that needs nothing it does not have', () => {
    expect(privilegeRefusal(permits, declaredNeeds(profile()), 'launch')).toBeUndefined();
    expect(
      privilegeRefusal(
        permits,
        declaredNeeds(profile({ docker_mode: 'privileged', capabilities: 'CAP_NET_ADMIN' })),
        'launch',
      ),
    ).toBeUndefined();
  });

  it('refuses full privilege, host paths, host networking and extra capabilities, each naming the key', () => {
    expect(privilegeRefusal(permits, declaredNeeds(profile({ docker_mode: 'sidecar' })), 'launch')).toBe(
      'launch: docker_mode sidecar is refused by the operator policy (policy.allow.privileged does not allow it)',
    );
    expect(privilegeRefusal(permits, declaredNeeds(profile({ docker_mode: 'socket' })), 'launch')).toBe(
      'launch: docker_mode socket (the host Docker socket) is refused by the operator policy (policy.allow.socketMount does not allow it)',
    );
    expect(privilegeRefusal(permits, declaredNeeds(profile(), { hostNetwork: 'network host' }), 'launch')).toBe(
      'launch: network host is refused by the operator policy (policy.allow.hostNetwork does not allow it)',
    );
    expect(
      privilegeRefusal(
        permits,
        declaredNeeds(profile({ docker_mode: 'privileged', capabilities: 'NET_ADMIN,SYS_TIME' })),
        'launch',
      ),
    ).toBe('launch: capabilities SYS_TIME are refused by the operator policy (policy.allow.capabilities: NET_ADMIN)');
  });

  it("names the cluster profile's gate when it is the one that says no", () => {
    const closed = launchPermits(NO_OPERATOR_POLICY, cluster());
    expect(privilegeRefusal(closed, declaredNeeds(profile({ docker_mode: 'privileged' })), 'x')).toBe(
      'x: docker_mode privileged is refused: it needs allow_privileged=true on the cluster profile',
    );
    expect(
      privilegeRefusal(closed, declaredNeeds(profile({ docker_mode: 'privileged', capabilities: 'NET_ADMIN' })), 'x'),
    ).toBe('x: capabilities NET_ADMIN are refused: it needs allow_privileged=true on the cluster profile');
  });
});

describe('declared needs', () => {
  it('reads full privilege from a Docker mode without capabilities, or with ALL (CAP_ALL too)', () => {
    expect(declaredNeeds(profile({ docker_mode: 'privileged' }))).toEqual({
      mode: 'privileged',
      capabilities: [],
      fullPrivilege: 'docker_mode privileged',
    });
    expect(declaredNeeds(profile({ docker_mode: 'sidecar', capabilities: 'NET_ADMIN,CAP_ALL' }))).toEqual({
      mode: 'sidecar',
      capabilities: [],
      fullPrivilege: 'docker_mode sidecar with capabilities ALL',
    });
  });

  it('reads the capability form, the host socket and a host network', () => {
    expect(declaredNeeds(profile({ docker_mode: 'privileged', capabilities: 'NET_ADMIN' }))).toEqual({
      mode: 'privileged',
      capabilities: ['NET_ADMIN'],
    });
    expect(declaredNeeds(profile({ docker_mode: 'socket' }), { hostNetwork: 'network host' })).toEqual({
      mode: 'socket',
      capabilities: [],
      hostPaths: 'docker_mode socket (the host Docker socket)',
      hostNetwork: 'network host',
    });
    expect(declaredNeeds(profile())).toEqual({ mode: 'none', capabilities: [] });
  });
});

describe('the policy in one line', () => {
  it('says yes for each allowance and lists clusters, regions, accounts and capabilities', () => {
    expect(
      describePolicy({
        docker: { engines: ['*'] },
        ecs: { clusters: ['a', 'b'], regions: [], accounts: ['123456789012'] },
        allow: { privileged: true, socketMount: true, hostNetwork: true, capabilities: ['NET_ADMIN', 'SYS_TIME'] },
        warmPool: { maxPerProfile: 10, maxPerCluster: 20 },
      }),
    ).toBe(
      'Docker engines *; ECS clusters a, b, regions empty, accounts 123456789012; cluster profiles may allow: privileged yes, socket yes, host network yes, capabilities NET_ADMIN,SYS_TIME',
    );
  });
});

describe('policy edge cases', () => {
  it('refuses with the POLICY_REFUSED code', () => {
    expect(new PolicyRefusedError('no')).toMatchObject({ code: 'POLICY_REFUSED', message: 'no' });
  });

  it('drops CAP_ only as a prefix, in the policy list, the needs and the ALL check', () => {
    expect(launchPermits(policy({ capabilities: ['SYS_CAP_X'] }), open).capabilities).toEqual(new Set(['SYS_CAP_X']));
    const permits = launchPermits(policy({ capabilities: ['NET_ADMIN'] }), open);
    expect(privilegeRefusal(permits, { mode: 'privileged', capabilities: ['CAP_NET_ADMIN'] }, 'x')).toBeUndefined();
    expect(privilegeRefusal(permits, { mode: 'privileged', capabilities: ['XCAP_NET_ADMIN'] }, 'x')).toContain(
      'capabilities XCAP_NET_ADMIN are refused',
    );
    const odd = { ...profile({ docker_mode: 'privileged' }), capabilities: ['ALLCAP_', 'NET_ADMIN'] };
    expect(declaredNeeds(odd)).toStrictEqual({ mode: 'privileged', capabilities: ['ALLCAP_', 'NET_ADMIN'] });
    const oneAll = { ...profile({ docker_mode: 'privileged' }), capabilities: ['NET_ADMIN', 'ALL'] };
    expect(declaredNeeds(oneAll).fullPrivilege).toBe('docker_mode privileged with capabilities ALL');
  });

  it('adds no host network need when the cluster asks for none', () => {
    expect(declaredNeeds(profile(), {})).toStrictEqual({ mode: 'none', capabilities: [] });
  });

  it('says only "refused" when no key is named', () => {
    const permits = {
      privileged: false,
      socketMount: true,
      hostNetwork: true,
      capabilities: 'all' as const,
      deniedBy: {},
    };
    expect(privilegeRefusal(permits, declaredNeeds(profile({ docker_mode: 'privileged' })), 'x')).toBe(
      'x: docker_mode privileged is refused',
    );
  });
});

describe('capability refusals', () => {
  const permits = (capabilities: LaunchPermits['capabilities'], deniedBy: LaunchPermits['deniedBy'] = {}) => ({
    privileged: capabilities === 'all',
    socketMount: false,
    hostNetwork: false,
    capabilities,
    deniedBy,
  });

  it('permits any listed capability where full privilege is allowed', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_ADMIN', 'NET_ADMIN'] };
    expect(privilegeRefusal(permits('all'), needs, 'this elastic profile')).toBeUndefined();
  });

  it('names every capability the policy does not list, comma-separated', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_MODULE', 'NET_RAW', 'SYS_ADMIN'] };
    const refusal = privilegeRefusal(
      permits(new Set(['SYS_ADMIN']), { capabilities: 'policy.allow.capabilities' }),
      needs,
      'this elastic profile',
    );
    expect(refusal).toBe(
      'this elastic profile: capabilities SYS_MODULE, NET_RAW are refused by the operator policy (policy.allow.capabilities: SYS_ADMIN)',
    );
  });

  it('matches a capability by its whole name, not by a name with CAP_ cut out of its middle', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_CAP_X'] };
    const refusal = privilegeRefusal(
      permits(new Set(['SYS_X']), { capabilities: 'policy.allow.capabilities' }),
      needs,
      'this elastic profile',
    );
    expect(refusal).toContain('capabilities SYS_CAP_X are refused');
  });

  it('reads the capability ALL as full privilege', () => {
    const profile = parseElasticProfile({ image: 'agent:1', docker_mode: 'privileged', capabilities: 'ALL' });
    expect(declaredNeeds(profile)).toEqual({
      mode: 'privileged',
      capabilities: [],
      fullPrivilege: 'docker_mode privileged with capabilities ALL',
    });
  });
});
