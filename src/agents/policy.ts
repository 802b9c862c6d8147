import type { PolicyConfig } from '../config/config.schema.js';
import { AppError } from '../errors.js';
import type { DockerMode } from './profile-properties.js';
import type { ClusterProfile, ElasticProfile } from './profiles.js';

/**
 * The operator policy (config `policy:`, DESIGN.md "Operator policy"). A cluster profile arrives in every request body
 * and is written by whoever edits cluster profiles in GoCD (or holds the forwarder token), so it can only narrow what
 * the operator allowed here: which engines and ECS clusters it may name, and the most it may allow. Every refusal names
 * the policy key that decided it.
 */
export type OperatorPolicy = PolicyConfig;

/** No restriction beyond the cluster profile's own gates: for code that builds an AgentService without a config. */
export const NO_OPERATOR_POLICY: Readonly<OperatorPolicy> = Object.freeze({
  docker: { engines: ['*'] },
  ecs: {},
  allow: { privileged: true, socketMount: true, hostNetwork: true, capabilities: ['*'] },
});

/** A cluster profile or launch the policy refuses; the message names the policy key. */
export class PolicyRefusedError extends AppError {
  constructor(message: string) {
    super('POLICY_REFUSED', message);
  }
}

/** What a launch needs beyond an ordinary container: declared by the profile or found in a task definition. */
export interface PrivilegeNeeds {
  /** The Docker mode the launch really has (tags, labels, placement). */
  mode: DockerMode;
  /** Full privilege: `privileged: true`, host devices, host pid/ipc namespaces, or the capability `ALL`. */
  fullPrivilege?: string;
  /** Capabilities added without full privilege. */
  capabilities: string[];
  /** The host's Docker socket, or another host path (the host's files). */
  hostPaths?: string;
  /** The host's (or another container's) network namespace. */
  hostNetwork?: string;
}

/** What a launch may have: the cluster profile's gates narrowed by the policy. */
export interface LaunchPermits {
  privileged: boolean;
  socketMount: boolean;
  hostNetwork: boolean;
  /** Capabilities the capability form may add; `all` when full privilege is allowed anyway. */
  capabilities: ReadonlySet<string> | 'all';
  /** Which key said no, per permit, for the refusal message. */
  deniedBy: { privileged?: string; socketMount?: string; hostNetwork?: string; capabilities?: string };
}

/** A value quoted in a refusal: bounded, since profiles are attacker-sized. */
function quote(value: string): string {
  return `'${value.length > 100 ? `${value.slice(0, 100)}…` : value}'`;
}

function listed(list: readonly string[]): string {
  return list.length === 0 ? 'empty' : list.join(', ');
}

/** A Docker engine address as the policy compares it: `local`, `unix:///path` or `tcp://host:port`. */
export function engineKey(dockerHost: string | undefined): string {
  const value = dockerHost?.trim();
  if (!value) return 'local';
  if (value.startsWith('unix://')) return `unix://${value.slice('unix://'.length) || '/var/run/docker.sock'}`;
  const tcp = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/i.exec(value);
  if (tcp?.[1]) return `tcp://${tcp[1].toLowerCase()}:${tcp[2] ?? '2375'}`;
  return value;
}

/** The region and account an ECS cluster ARN names (`arn:aws:ecs:<region>:<account>:cluster/<name>`). */
function clusterArnParts(cluster: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):cluster\/(.+)$/.exec(cluster);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}

function roleAccount(arn: string | undefined): string | undefined {
  return arn ? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1] : undefined;
}

/**
 * A `policy.ecs.clusters` entry naming every cluster of one account: `arn:<partition>:ecs:<region or *>:<account>:
 * cluster/*` (the CDK stack writes one per cross-account role: that account's cluster names are its own).
 */
function accountWildcard(entry: string): { region: string; account: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+|\*):(\d{12}):cluster\/\*$/.exec(entry);
  return m ? { region: m[1]!, account: m[2]! } : undefined;
}

/**
 * Whether a `policy.ecs.clusters` entry allows the profile's cluster: the same name or ARN; a bare name also matches
 * an ARN of that name; an account wildcard matches a cluster whose account is known to be that one (its ARN's, else
 * its `assume_role_arn`'s: a bare name without a role is a cluster of the service's own account, never another's).
 */
function clusterEntryAllows(entry: string, cluster: ClusterProfile): boolean {
  const named = cluster.cluster ?? '';
  const arn = clusterArnParts(named);
  if (entry === named) return true;
  if (!entry.startsWith('arn:')) return entry === (arn?.name ?? named);
  const wildcard = accountWildcard(entry);
  if (!wildcard) return false;
  const account = arn?.account ?? roleAccount(cluster.assumeRoleArn);
  const region = arn?.region ?? cluster.region;
  // An unnamed region is the service's default; `policy.ecs.regions` bounds named ones.
  return (
    account === wildcard.account && (wildcard.region === '*' || region === undefined || region === wildcard.region)
  );
}

/**
 * Whether a cluster profile may be used at all (before any engine or ECS endpoint is contacted): its Docker engine,
 * or its ECS cluster, region and accounts. Returns the refusal, or undefined.
 */
export function clusterPolicyRefusal(policy: OperatorPolicy, cluster: ClusterProfile): string | undefined {
  if (cluster.backend === 'docker') {
    const engines = policy.docker.engines;
    if (engines.includes('*')) return undefined;
    const key = engineKey(cluster.dockerHost);
    if (engines.some((e) => engineKey(e === 'local' ? undefined : e) === key)) return undefined;
    const named = key === 'local' ? 'the local engine' : `docker_host ${quote(cluster.dockerHost ?? '')}`;
    return `${named} is not allowed by the operator policy (policy.docker.engines: ${listed(engines)})`;
  }
  const { clusters, regions, accounts } = policy.ecs;
  const arn = cluster.cluster ? clusterArnParts(cluster.cluster) : undefined;
  if (clusters && cluster.cluster) {
    if (!clusters.some((c) => clusterEntryAllows(c, cluster)))
      return `ECS cluster ${quote(cluster.cluster)} is not allowed by the operator policy (policy.ecs.clusters: ${listed(clusters)})`;
  }
  if (regions) {
    for (const region of [cluster.region, arn?.region]) {
      if (region !== undefined && !regions.includes(region))
        return `region ${quote(region)} is not allowed by the operator policy (policy.ecs.regions: ${listed(regions)})`;
    }
  }
  if (accounts) {
    for (const [key, account] of [
      ['assume_role_arn', roleAccount(cluster.assumeRoleArn)],
      ['cluster', arn?.account],
    ] as const) {
      if (account !== undefined && !accounts.includes(account))
        return `account ${account} (${key}) is not allowed by the operator policy (policy.ecs.accounts: ${listed(accounts)})`;
    }
  }
  return undefined;
}

/** The cluster profile's gates narrowed by the policy: what a launch on this cluster may have. */
export function launchPermits(policy: OperatorPolicy, cluster: ClusterProfile): LaunchPermits {
  const deniedBy: LaunchPermits['deniedBy'] = {};
  // The cluster profile's key is named first: it is the one its author can change.
  if (!cluster.allowPrivileged) deniedBy.privileged = 'allow_privileged';
  else if (!policy.allow.privileged) deniedBy.privileged = 'policy.allow.privileged';
  if (!cluster.allowSocketMount) deniedBy.socketMount = 'allow_socket_mount';
  else if (!policy.allow.socketMount) deniedBy.socketMount = 'policy.allow.socketMount';
  if (!policy.allow.hostNetwork) deniedBy.hostNetwork = 'policy.allow.hostNetwork';
  const privileged = deniedBy.privileged === undefined;
  let capabilities: LaunchPermits['capabilities'];
  if (!cluster.allowPrivileged) {
    capabilities = new Set();
    deniedBy.capabilities = 'allow_privileged';
  } else if (privileged || policy.allow.capabilities.includes('*')) {
    // Full privilege includes every capability.
    capabilities = 'all';
  } else {
    capabilities = new Set(policy.allow.capabilities.map((c) => c.replace(/^CAP_/, '')));
    deniedBy.capabilities = 'policy.allow.capabilities';
  }
  return {
    privileged,
    socketMount: deniedBy.socketMount === undefined,
    hostNetwork: policy.allow.hostNetwork,
    capabilities,
    deniedBy,
  };
}

function whoSaidNo(key: string | undefined): string {
  if (key === undefined) return 'refused';
  return key.startsWith('policy.')
    ? `refused by the operator policy (${key} does not allow it)`
    : `refused: it needs ${key}=true on the cluster profile`;
}

/**
 * The first thing `needs` asks for that `permits` does not allow, as a refusal naming the cluster profile key or
 * the policy key that decided it; undefined when everything is allowed.
 */
export function privilegeRefusal(permits: LaunchPermits, needs: PrivilegeNeeds, what: string): string | undefined {
  if (needs.fullPrivilege && !permits.privileged)
    return `${what}: ${needs.fullPrivilege} is ${whoSaidNo(permits.deniedBy.privileged)}`;
  if (needs.hostPaths && !permits.socketMount)
    return `${what}: ${needs.hostPaths} is ${whoSaidNo(permits.deniedBy.socketMount)}`;
  if (needs.hostNetwork && !permits.hostNetwork)
    return `${what}: ${needs.hostNetwork} is ${whoSaidNo(permits.deniedBy.hostNetwork)}`;
  const caps = permits.capabilities;
  if (caps !== 'all') {
    const extra = needs.capabilities.filter((c) => !caps.has(c.replace(/^CAP_/, '')));
    if (extra.length > 0) {
      const key = permits.deniedBy.capabilities;
      return `${what}: capabilities ${extra.join(', ')} are ${
        key === 'policy.allow.capabilities'
          ? `refused by the operator policy (policy.allow.capabilities: ${listed([...caps])})`
          : whoSaidNo(key)
      }`;
    }
  }
  return undefined;
}

/** What a profile declares it needs (its Docker mode, capabilities) on a cluster (its Docker network). */
export function declaredNeeds(cluster: ClusterProfile, profile: ElasticProfile): PrivilegeNeeds {
  const mode = profile.dockerMode;
  const needs: PrivilegeNeeds = { mode, capabilities: [] };
  if (mode === 'privileged' || mode === 'sidecar') {
    const all = profile.capabilities.some((c) => c.replace(/^CAP_/, '') === 'ALL');
    if (profile.capabilities.length === 0 || all)
      needs.fullPrivilege = all ? `docker_mode ${mode} with capabilities ALL` : `docker_mode ${mode}`;
    else needs.capabilities = profile.capabilities;
  }
  if (mode === 'socket') needs.hostPaths = 'docker_mode socket (the host Docker socket)';
  const network = cluster.backend === 'docker' ? cluster.network?.trim() : undefined;
  if (network && (network === 'host' || network.startsWith('container:')))
    needs.hostNetwork = `network ${quote(network)} (a host or container network namespace)`;
  return needs;
}

/**
 * The policy's verdict on a create-agent before anything is launched: the cluster profile's engine/cluster, then what
 * the profile declares. (Cluster-gate and Fargate rules are `launchRefusal` in profiles.ts, checked first.)
 */
export function policyRefusal(
  policy: OperatorPolicy,
  cluster: ClusterProfile,
  profile: ElasticProfile,
): string | undefined {
  return (
    clusterPolicyRefusal(policy, cluster) ??
    privilegeRefusal(launchPermits(policy, cluster), declaredNeeds(cluster, profile), 'this elastic profile')
  );
}

/** The policy as one line (check-config, doctor). */
export function describePolicy(policy: OperatorPolicy): string {
  const any = (list: readonly string[] | undefined) => (list ? listed(list) : 'any');
  const a = policy.allow;
  return [
    `Docker engines ${listed(policy.docker.engines)}`,
    `ECS clusters ${any(policy.ecs.clusters)}, regions ${any(policy.ecs.regions)}, accounts ${any(policy.ecs.accounts)}`,
    `cluster profiles may allow: privileged ${a.privileged ? 'yes' : 'no'}, socket ${a.socketMount ? 'yes' : 'no'}, host network ${
      a.hostNetwork ? 'yes' : 'no'
    }, capabilities ${a.capabilities.length ? a.capabilities.join(',') : 'none'}`,
  ].join('; ');
}
