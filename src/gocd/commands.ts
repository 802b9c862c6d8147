import type { ClusterRead, CreateAgentCommand, JobCompletionCommand, ServerPingCommand } from '../agents/commands.js';
import type { JobIdentifier } from '../agents/job.js';
import type { ProfileCatalog } from '../agents/profile-catalog.js';
import { type ClusterProfile, clusterIdOfProperties, type RawProperties } from '../agents/profiles.js';
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
    const read = this.cluster(input.clusterProperties);
    if (!read.ok) return { ...base, clusterId: read.clusterId, valid: false, reason: read.reason };
    const cluster: ClusterProfile = read.cluster;
    try {
      const profile = this.profiles.parseElastic(input.profileProperties, cluster);
      return { ...base, clusterId: cluster.clusterId, valid: true, cluster, profile };
    } catch (err) {
      return { ...base, clusterId: cluster.clusterId, valid: false, cluster, reason: errorMessage(err) };
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

  serverPing(body: ServerPingMessage): ServerPingCommand {
    return {
      clusters: body.all_cluster_profile_properties.map((p) => this.cluster(p)),
      ...(body.agents ? { agents: body.agents } : {}),
    };
  }
}
