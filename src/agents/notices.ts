import type { GocdSchemas } from '../contract/gocd.js';
import type { AgentRecord } from './agent-backend.port.js';
import type { ClusterProfile } from './profiles.js';

/**
 * One line for a job's console. The fields are GoCD's `go.processor.console-log.append` 2.0 body
 * (ConsoleLogAppendRequest2_0: `pipeline_counter` a number, `stage_counter` a string); `text` is the bare message,
 * to which the forwarder adds GoCD's console line prefix (`##|HH:mm:ss.SSS [go] `, GoCD's clock) and a newline.
 */
export type ConsoleNotice = GocdSchemas['ConsoleNotice'];

/** One of the plugin's server-health messages (`go.processor.server-health.add-messages` 1.0, PluginHealthMessage). */
export type HealthMessage = GocdSchemas['HealthMessage'];

/**
 * What a reply asks the forwarder to tell GoCD users. `health`, when present, is the plugin's complete set of
 * server-health messages: GoCD replaces the previous set with it (an empty list clears them).
 */
export type Notices = GocdSchemas['NoticesReply'];

/**
 * Facts the agent lifecycle reports while it handles one GoCD request, for whoever tells users about them
 * (src/agents/request-notices.ts). Every method must be cheap and must not throw.
 */
export interface AgentEvents {
  /** job-completion stopped the job's agent; `childrenRemoved` when the backend counted what the job started. */
  agentStopped(cluster: ClusterProfile, agent: AgentRecord, childrenRemoved?: number): void;
  /** server-ping listed this cluster's live agents. */
  agentsListed(cluster: ClusterProfile, agents: readonly AgentRecord[]): void;
  /** server-ping could not list this cluster's agents. */
  listingFailed(cluster: ClusterProfile, message: string): void;
  /** server-ping got a cluster profile that does not parse. */
  clusterProfileRejected(properties: Record<string, unknown>, message: string): void;
  /** server-ping reconciliation stopped an agent. */
  agentReaped(cluster: ClusterProfile, agent: AgentRecord, reason: string): void;
}
