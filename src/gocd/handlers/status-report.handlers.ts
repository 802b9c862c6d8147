import type { GocdCommands } from '../commands.js';
import type { AgentStatusReportMessage, ClusterStatusReportMessage, PluginStatusReportMessage } from '../messages.js';
import type { StatusReports } from '../status-reports.js';

/** The three status reports; each answers `{view: html}` and never an error (a blank view breaks GoCD's page). */
export function statusReportHandlers(reports: StatusReports, commands: GocdCommands) {
  return {
    'cd.go.elastic-agent.plugin-status-report': async (body: PluginStatusReportMessage) => ({
      view: await reports.pluginStatus((body.all_cluster_profiles_properties ?? []).map((p) => commands.cluster(p))),
    }),
    'cd.go.elastic-agent.cluster-status-report': async (body: ClusterStatusReportMessage) => ({
      view: await reports.clusterStatus(commands.cluster(body.cluster_profile_properties)),
    }),
    'cd.go.elastic-agent.agent-status-report': async (body: AgentStatusReportMessage) => ({
      view: await reports.agentStatus(commands.cluster(body.cluster_profile_properties), {
        ...(body.elastic_agent_id !== undefined ? { agentId: body.elastic_agent_id } : {}),
        ...(body.job_identifier ? { jobId: body.job_identifier.job_id } : {}),
      }),
    }),
  } as const;
}
