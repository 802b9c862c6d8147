import type {
  ClusterRead,
  CreateAgentCommand,
  JobCompletionCommand,
  PoolProfileCommand,
  ServerPingCommand,
} from '../agents/commands.js';
import type { JobIdentifier } from '../agents/job.js';
import type { ProfileCatalog } from '../agents/profile-catalog.js';
import {
  type ClusterProfile,
  clusterIdOfProperties,
  type ElasticProfile,
  type RawProperties,
} from '../agents/profiles.js';
import { errorMessage } from '../errors.js';
import type { CreateAgentMessage, JobCompletionMessage, ServerPingMessage } from './messages.js';

/** A create-agent as GoCD sent it, in the service's names (the form the retry queue keeps a throttled launch in). */
export interface CreateAgentInput {
  autoRegisterKey: string;
  environment?: string;
  job: JobIdentifier;
  clusterProperties: RawProperties;
  profileProperties: RawProperties;
}

/** The create-agent input of GoCD's body. */
export function createAgentInput(body: CreateAgentMessage): CreateAgentInput {
  return {
    autoRegisterKey: body.auto_register_key,
    ...(body.environment ? { environment: body.environment } : {}),
    job: body.job_identifier,
    clusterProperties: body.cluster_profile_properties,
    profileProperties: body.elastic_agent_profile_properties,
  };
}

/**
 * Turns GoCD's bodies (already checked against openapi.yaml) into the lifecycle's commands: every profile is parsed
 * and validated here, once, against the profile catalog of the backends this service has.
 */
export class GocdCommands {
  constructor(private readonly profiles: ProfileCatalog) {}

  /** A cluster profile, parsed, or why it cannot be. */
  cluster(properties: RawProperties): ClusterRead {
    try {
      return { ok: true, cluster: this.profiles.parseCluster(properties) };
    } catch (err) {
      return { ok: false, clusterId: clusterIdOfProperties(properties), properties, reason: errorMessage(err) };
    }
  }

  createAgent(input: CreateAgentInput): CreateAgentCommand {
    const base = {
      autoRegisterKey: input.autoRegisterKey,
      ...(input.environment ? { environment: input.environment } : {}),
      job: input.job,
      sent: { clusterProperties: input.clusterProperties, profileProperties: input.profileProperties },
    };
    return { ...base, ...this.launchProfiles(input.clusterProperties, input.profileProperties) };
  }

  /** The two profiles a launch needs, parsed; or why they cannot be used (the cluster kept when only the elastic one is at fault). */
  private launchProfiles(
    clusterProperties: RawProperties,
    profileProperties: RawProperties,
  ):
    | { clusterId: string; valid: true; cluster: ClusterProfile; profile: ElasticProfile }
    | { clusterId: string; valid: false; cluster?: ClusterProfile; reason: string } {
    const read = this.cluster(clusterProperties);
    if (!read.ok) return { clusterId: read.clusterId, valid: false, reason: read.reason };
    const cluster: ClusterProfile = read.cluster;
    try {
      return {
        clusterId: cluster.clusterId,
        valid: true,
        cluster,
        profile: this.profiles.parseElastic(profileProperties, cluster),
      };
    } catch (err) {
      return { clusterId: cluster.clusterId, valid: false, cluster, reason: errorMessage(err) };
    }
  }

  jobCompletion(body: JobCompletionMessage): JobCompletionCommand {
    return {
      elasticAgentId: body.elastic_agent_id,
      job: body.job_identifier,
      cluster: this.cluster(body.cluster_profile_properties),
      ...(body.agents ? { agents: body.agents } : {}),
    };
  }

  /** The forwarder's warm-pooled profiles that parse (one that does not is skipped: its create-agent says why). */
  private poolProfiles(pools: NonNullable<ServerPingMessage['warm_pools']>): PoolProfileCommand[] {
    const out: PoolProfileCommand[] = [];
    for (const p of pools) {
      const read = this.launchProfiles(p.cluster_profile_properties, p.elastic_agent_profile_properties);
      if (!read.valid) continue;
      out.push({
        cluster: read.cluster,
        profile: read.profile,
        profileProperties: p.elastic_agent_profile_properties,
        ...(p.environment ? { environment: p.environment } : {}),
        autoRegisterKey: p.auto_register_key,
      });
    }
    return out;
  }

  serverPing(body: ServerPingMessage): ServerPingCommand {
    return {
      clusters: body.all_cluster_profile_properties.map((p) => this.cluster(p)),
      ...(body.agents ? { agents: body.agents } : {}),
      ...(body.forwarder_instance ? { forwarderInstance: body.forwarder_instance } : {}),
      ...(body.warm_pools?.length ? { warmPools: this.poolProfiles(body.warm_pools) } : {}),
      ...(body.job_waits?.length
        ? {
            jobWaits: body.job_waits.map((w) => ({
              agentId: w.agent_id,
              jobId: w.job_id,
              waitMs: w.wait_ms,
              warm: w.warm,
            })),
          }
        : {}),
    };
  }
}
