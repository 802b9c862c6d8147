import type { GocdAgent, JobIdentifier } from '../agents/job.js';

/** Profile property maps as GoCD sends them (validation requests may carry nulls). */
export type PropertyMap = Record<string, string | null>;

export interface CreateAgentMessage {
  auto_register_key: string;
  elastic_agent_profile_properties: PropertyMap;
  cluster_profile_properties: PropertyMap;
  environment?: string | null;
  job_identifier: JobIdentifier;
}

export interface ServerPingMessage {
  all_cluster_profile_properties: PropertyMap[];
  agents?: GocdAgent[];
}

export interface JobCompletionMessage {
  elastic_agent_id: string;
  elastic_agent_profile_properties?: PropertyMap;
  cluster_profile_properties: PropertyMap;
  job_identifier: JobIdentifier;
  agents?: GocdAgent[];
}

export interface MigrateConfigMessage {
  cluster_profiles?: unknown[];
  elastic_agent_profiles?: unknown[];
  plugin_settings?: unknown;
}

export interface PluginStatusReportMessage {
  all_cluster_profiles_properties?: PropertyMap[];
}

export interface ClusterStatusReportMessage {
  cluster_profile_properties: PropertyMap;
}

export interface AgentStatusReportMessage {
  cluster_profile_properties: PropertyMap;
  elastic_agent_id?: string;
  job_identifier?: JobIdentifier;
}
