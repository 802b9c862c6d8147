import type { AgentService } from '../agents/agent-service.js';
import type { ClusterRead } from '../agents/commands.js';
import { escapeHtml } from '../html.js';
import { renderAgentReport, renderClusterSection, renderStatusPage } from './status-report.view.js';

/** Extra report sections from outside the plugin protocol (e.g. registry triggers), as HTML. */
export type ExtraSections = () => string[];

/**
 * The status reports as HTML views: the plugin's (every cluster profile, and the extra sections), one cluster's, one
 * agent's. GoCD asks for them through the forwarder; `/status` shows the plugin's for the cluster profiles of the last
 * server-ping. A view never fails: a profile that cannot be read is reported in it (a blank view breaks GoCD's page).
 */
export class StatusReports {
  constructor(
    private readonly agents: AgentService,
    private readonly extra: ExtraSections = () => [],
  ) {}

  private async section(read: ClusterRead): Promise<string> {
    if (!read.ok) return unreadable(read.reason);
    return renderClusterSection(await this.agents.clusterReport(read.cluster));
  }

  /** `plugin-status-report`: a section per cluster profile, then the extra sections. */
  async pluginStatus(clusters: readonly ClusterRead[]): Promise<string> {
    return renderStatusPage([...(await Promise.all(clusters.map((c) => this.section(c)))), ...this.extra()]);
  }

  /** `cluster-status-report`. */
  async clusterStatus(read: ClusterRead): Promise<string> {
    return renderStatusPage([await this.section(read)]);
  }

  /** `agent-status-report`, by elastic agent id or by job. */
  async agentStatus(read: ClusterRead, by: { agentId?: string; jobId?: number }): Promise<string> {
    if (!read.ok) return renderStatusPage([unreadable(read.reason)]);
    return renderAgentReport(await this.agents.agentReport(read.cluster, by));
  }
}

function unreadable(reason: string): string {
  return `<p class="err">Cluster profile cannot be read: ${escapeHtml(reason)}</p>`;
}
