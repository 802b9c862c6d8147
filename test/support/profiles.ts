import { pino } from 'pino';
import { ActivityLog } from '../../src/agents/activity-log.js';
import type { AgentBackend } from '../../src/agents/agent-backend.port.js';
import { AgentService, type AgentServiceDeps } from '../../src/agents/agent-service.js';
import type { LaunchBudget } from '../../src/agents/commands.js';
import type { GocdAgent, JobIdentifier } from '../../src/agents/job.js';
import type { AgentEvents } from '../../src/agents/notices.js';
import type { OperatorPolicy } from '../../src/agents/policy.js';
import type { ClusterProfile, ElasticProfile, RawProperties } from '../../src/agents/profiles.js';
import { asDockerCluster, type DockerClusterProfile } from '../../src/backends/docker/docker-profiles.js';
import { asEcsCluster, type EcsClusterProfile, type EcsElasticProfile } from '../../src/backends/ecs/ecs-profiles.js';
import { parseConfig } from '../../src/config/config-text.js';
import { type CreateAgentInput, GocdCommands } from '../../src/gocd/commands.js';
import { profileCatalog } from '../../src/main/composition.js';

// The service's own profile catalog and edge, for tests that drive the lifecycle or a backend directly with the
// property maps GoCD sends: they are read exactly as the gocd/ edge reads a request's.

/** The catalog of the ECS and Docker backends, as the composition root builds it. */
export const profiles = profileCatalog();
/** GoCD's bodies read into the lifecycle's commands. */
export const commands = new GocdCommands(profiles);

/** A cluster profile's properties, parsed (throws ValidationError naming every problem). */
export function parseClusterProfile(raw: RawProperties): ClusterProfile {
  return profiles.parseCluster(raw);
}

/** An elastic profile's properties, parsed for a backend (default ECS, which reads every elastic property). */
export function parseElasticProfile(raw: RawProperties, backend = 'ecs'): ElasticProfile {
  return profiles.parseElastic(raw, { backend });
}

/** An ECS cluster profile's properties, parsed. */
export function ecsCluster(raw: RawProperties): EcsClusterProfile {
  return asEcsCluster(profiles.parseCluster(raw));
}

/** An elastic profile's properties, parsed for the ECS backend. */
export function ecsProfile(raw: RawProperties): EcsElasticProfile {
  return profiles.parseElastic(raw, { backend: 'ecs' }) as EcsElasticProfile;
}

/** An elastic profile's properties, parsed for the Docker backend. */
export function dockerProfile(raw: RawProperties): ElasticProfile {
  return profiles.parseElastic(raw, { backend: 'docker' });
}

/** A Docker cluster profile's properties, parsed. */
export function dockerCluster(raw: RawProperties): DockerClusterProfile {
  return asDockerCluster(profiles.parseCluster(raw));
}

/**
 * The lifecycle driven as GoCD's handlers drive it: each call takes the property maps of a GoCD request, reads them
 * at the edge (src/gocd/commands.ts), and hands the command to the service.
 */
export function viaEdge(service: AgentService) {
  return {
    /** The service itself (its fleet view, its known clusters). */
    agents: service,
    createAgent: (input: CreateAgentInput, budget?: LaunchBudget) =>
      service.createAgent(commands.createAgent(input), budget),
    jobCompleted: (input: {
      elasticAgentId: string;
      job: JobIdentifier;
      clusterProperties: RawProperties;
      agents?: GocdAgent[];
      events?: AgentEvents;
    }) =>
      service.jobCompleted(
        {
          elasticAgentId: input.elasticAgentId,
          job: input.job,
          cluster: commands.cluster(input.clusterProperties),
          ...(input.agents ? { agents: input.agents } : {}),
        },
        input.events,
      ),
    serverPing: (
      clusters: RawProperties[],
      agents: GocdAgent[] | undefined,
      events?: AgentEvents,
      forwarderInstance?: string,
    ) =>
      service.serverPing(
        {
          clusters: clusters.map((c) => commands.cluster(c)),
          ...(agents ? { agents } : {}),
          ...(forwarderInstance ? { forwarderInstance } : {}),
        },
        events,
      ),
    clusterReport: (clusterProperties: RawProperties) => service.clusterReport(parseClusterProfile(clusterProperties)),
    agentReport: (clusterProperties: RawProperties, by: { agentId?: string; jobId?: number }) =>
      service.agentReport(parseClusterProfile(clusterProperties), by),
  };
}

/** The lifecycle as `viaEdge` drives it. */
export type EdgeService = ReturnType<typeof viaEdge>;

/** validate-cluster-profile's answer for these properties. */
export const validateClusterProperties = (raw: RawProperties) => profiles.validateCluster(raw);
/** validate-elastic-agent-profile's answer for these properties. */
export const validateElasticProperties = (raw: RawProperties) => profiles.validateElastic(raw);
/** The create-agent rules that need both profiles (the backend's linked rules, the Docker-mode gates). */
export const launchRefusal = (cluster: ClusterProfile, profile: ElasticProfile) =>
  profiles.launchRefusal(cluster, profile);
/** The operator policy's verdict on a cluster profile alone. */
export const clusterPolicyRefusal = (policy: Readonly<OperatorPolicy>, cluster: ClusterProfile) =>
  profiles.policyRefusal(policy, cluster);
/** The operator policy's verdict on a create-agent: the cluster, then what the profile declares. */
export const policyRefusal = (policy: Readonly<OperatorPolicy>, cluster: ClusterProfile, profile: ElasticProfile) =>
  profiles.policyRefusal(policy, cluster, profile);

/**
 * The lifecycle over one backend (in this process), driven through the edge: `deps` adds or replaces what the
 * service is built with (a logger, the clock, the operator policy, a store …).
 */
export function edgeService(
  backend: AgentBackend,
  deps: Partial<Omit<AgentServiceDeps, 'backends' | 'profiles'>> = {},
): EdgeService {
  return viaEdge(
    new AgentService({
      profiles,
      backends: { forCluster: async () => backend },
      activity: new ActivityLog(),
      logger: pino({ level: 'silent' }),
      ...deps,
    }),
  );
}

/** The operator policy a config file's YAML gives (the rest of the config defaulted). */
export function policyOf(yaml = ''): OperatorPolicy {
  const env = { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' };
  return parseConfig(yaml, 'test', { env }).config.policy as OperatorPolicy;
}
