import type { LaunchRequest } from '../../agents/agent-backend.port.js';
import { VALUE_MAX } from '../../agents/notice-texts.js';
import { listed, quote } from '../../agents/policy.js';
import type { BackendProfiles } from '../../agents/profile-catalog.js';
import type { PropertyDef } from '../../agents/profile-properties.js';
import {
  type ClusterProfile,
  type ElasticProfile,
  isLoopbackUrl,
  readString,
  unreachableServerUrlProblem,
} from '../../agents/profiles.js';
import { clip } from '../../text.js';

/** A cluster profile of the Docker backend: the shared part and the engine its agents run on. */
export interface DockerClusterProfile extends ClusterProfile {
  /** The engine's address (`unix:///…`, `tcp://host:port`); absent: `$DOCKER_HOST` or the local socket. */
  dockerHost?: string;
  /** The network agents join (default bridge). */
  network?: string;
}

/** A launch on the Docker backend. */
export type DockerLaunchRequest = LaunchRequest<DockerClusterProfile>;

const CLUSTER_ROWS: readonly PropertyDef[] = [
  {
    key: 'docker_host',
    label: 'Docker host',
    kind: 'string',
    check: (value) =>
      ENGINE_ADDRESS.test(value.trim())
        ? undefined
        : `docker_host must be unix:///path/to/docker.sock or tcp://host:port, got '${clip(value, 100)}'`,
    help: 'Docker backend: engine address (unix:///var/run/docker.sock default, or tcp://host:2375).',
  },
  {
    key: 'network',
    label: 'Docker network',
    kind: 'string',
    help: 'Docker backend: network agents join (default bridge).',
  },
];

/** The engine addresses the Docker client can use (src/backends/docker/docker-client.ts, engineAddress). */
const ENGINE_ADDRESS = /^(?:unix:\/\/.*|(?:tcp|http):\/\/(?:\[[^\]]+\]|[^:/\s]+)(?::\d{1,5})?\/?)$/i;

/** True for an engine on another machine: a TCP address whose host is not loopback. */
function isRemoteEngine(dockerHost: string | undefined): boolean {
  const key = engineKey(dockerHost);
  // Stryker disable next-line Regex: the key starts with tcp:// here, so an unanchored /tcp:/ replaces the same text
  return key.startsWith('tcp://') && !isLoopbackUrl(key.replace(/^tcp:/, 'http:'));
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

/** The Docker backend's part of the profiles: the engine and network rows, the policy's engine list, one client per engine. */
export const dockerProfiles: BackendProfiles<DockerClusterProfile, ElasticProfile> = {
  backend: 'docker',
  clusterProperties: CLUSTER_ROWS,
  elasticProperties: [],

  // The default backend: a profile that names no backend and no ECS cluster runs on the local engine.
  // Stryker disable BlockStatement,BooleanLiteral: the catalog falls back to the last backend, this one, for a profile no backend claims, so claiming every profile after ECS had its turn selects the same backend
  claims() {
    return false;
  },
  // Stryker restore BlockStatement,BooleanLiteral
  // Agents on another machine's engine cannot reach a loopback go_server_url (on the local engine, a host network can).
  clusterProblems(raw) {
    const dockerHost = readString(raw, 'docker_host');
    return isRemoteEngine(dockerHost)
      ? unreachableServerUrlProblem(raw, `on the remote engine ${clip(dockerHost ?? '', 100)}`)
      : [];
  },
  elasticProblems() {
    return [];
  },

  parseCluster(raw, shared) {
    const dockerHost = readString(raw, 'docker_host');
    return {
      ...shared,
      // Told to GoCD users: the request's value clipped (notice-texts.ts).
      where: `Docker engine ${clip(dockerHost ?? 'local', VALUE_MAX)}`,
      dockerHost,
      network: readString(raw, 'network'),
    };
  },

  parseElastic(_raw, shared) {
    return shared;
  },

  // Stryker disable next-line BlockStatement: an empty body also answers undefined (no refusal)
  launchRefusal() {
    return undefined;
  },

  policyRefusal(policy, cluster) {
    const engines = policy.docker.engines;
    if (engines.includes('*')) return undefined;
    const key = engineKey(cluster.dockerHost);
    // An entry `local` is its own key (engineKey('local') is 'local').
    if (engines.some((e) => engineKey(e) === key)) return undefined;
    // Stryker disable next-line StringLiteral: a key other than local comes from a docker_host, so the fallback is never used
    const named = key === 'local' ? 'the local engine' : `docker_host ${quote(cluster.dockerHost ?? '')}`;
    return `${named} is not allowed by the operator policy (policy.docker.engines: ${listed(engines)})`;
  },

  needs(cluster) {
    const network = cluster.network; // read trimmed (readString)
    return network && (network === 'host' || network.startsWith('container:'))
      ? { hostNetwork: `network ${quote(network)} (a host or container network namespace)` }
      : {};
  },

  clientKey(cluster) {
    return cluster.dockerHost ?? '';
  },
};

/** A cluster profile of the Docker backend (the provider hands the Docker backend only these). */
export function asDockerCluster(cluster: ClusterProfile): DockerClusterProfile {
  if (cluster.backend !== dockerProfiles.backend)
    throw new Error(`not a Docker cluster profile: backend ${cluster.backend}`);
  return cluster as DockerClusterProfile;
}
