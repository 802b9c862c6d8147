import type { AgentService } from '../../agents/agent-service.js';
import { errorMessage } from '../../errors.js';
import { escapeHtml } from '../../html.js';
import type { AgentStatusReportMessage, ClusterStatusReportMessage, PluginStatusReportMessage } from '../messages.js';
import { renderAgentReport, renderClusterSection, renderStatusPage } from '../status-report.view.js';

/** Extra report sections from outside the plugin protocol (e.g. registry triggers), as HTML. */
export type ExtraSections = () => string[];

/** The three status reports; each answers `{view: html}` and never an error (a blank view breaks GoCD's page). */
export function statusReportHandlers(agents: AgentService, extra: ExtraSections = () => []) {
  const section = async (props: Record<string, unknown>) => {
    try {
      return renderClusterSection(await agents.clusterReport(props));
    } catch (err) {
      return `<p class="err">Cluster profile cannot be read: ${escapeHtml(errorMessage(err))}</p>`;
    }
  };
  return {
    'cd.go.elastic-agent.plugin-status-report': async (body: PluginStatusReportMessage | undefined) => ({
      view: renderStatusPage([
        ...(await Promise.all((body?.all_cluster_profiles_properties ?? []).map(section))),
        ...extra(),
      ]),
    }),
    'cd.go.elastic-agent.cluster-status-report': async (body: ClusterStatusReportMessage) => ({
      view: renderStatusPage([await section(body.cluster_profile_properties)]),
    }),
    'cd.go.elastic-agent.agent-status-report': async (body: AgentStatusReportMessage) => {
      try {
        const report = await agents.agentReport(body.cluster_profile_properties, {
          agentId: body.elastic_agent_id,
          jobId: body.job_identifier?.job_id,
        });
        return { view: renderAgentReport(report) };
      } catch (err) {
        return {
          view: renderStatusPage([
            `<p class="err">Cluster profile cannot be read: ${escapeHtml(errorMessage(err))}</p>`,
          ]),
        };
      }
    },
  } as const;
}
