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
  warmPool: { maxPerProfile: 100, maxPerCluster: 1000 },
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
export function quote(value: string): string {
  return `'${value.length > 100 ? `${value.slice(0, 100)}…` : value}'`;
}

/** A policy list as a refusal names it. */
export function listed(list: readonly string[]): string {
  return list.length === 0 ? 'empty' : list.join(', ');
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

/**
 * What a profile declares it needs (its Docker mode, capabilities), with what its cluster's own settings ask for
 * (`cluster`, from its backend: a host network namespace).
 */
export function declaredNeeds(
  profile: ElasticProfile,
  cluster: Pick<PrivilegeNeeds, 'hostNetwork'> = {},
): PrivilegeNeeds {
  const mode = profile.dockerMode;
  const needs: PrivilegeNeeds = { mode, capabilities: [] };
  if (mode === 'privileged' || mode === 'sidecar') {
    const all = profile.capabilities.some((c) => c.replace(/^CAP_/, '') === 'ALL');
    if (profile.capabilities.length === 0 || all)
      needs.fullPrivilege = all ? `docker_mode ${mode} with capabilities ALL` : `docker_mode ${mode}`;
    else needs.capabilities = profile.capabilities;
  }
  if (mode === 'socket') needs.hostPaths = 'docker_mode socket (the host Docker socket)';
  if (cluster.hostNetwork) needs.hostNetwork = cluster.hostNetwork;
  return needs;
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
