import type { LaunchBudget } from '../agents/commands.js';
import type { components } from '../contract/generated/gocd-messages.js';

// The GoCD request bodies as openapi.yaml specifies them (types generated from it: src/contract/generated/gocd-messages.ts).

type Schemas = components['schemas'];

/** Profile property maps as GoCD sends them (validation requests may carry nulls). */
export type PropertyMap = Schemas['NullableStringMap'];
export type CreateAgentMessage = Schemas['CreateAgentRequest'];
export type ServerPingMessage = Schemas['ServerPingRequest'];
export type JobCompletionMessage = Schemas['JobCompletionRequest'];
export type MigrateConfigMessage = Schemas['MigrateConfigRequest'];
export type ClusterProfileChangedMessage = Schemas['ClusterProfileChangedRequest'];
export type PluginStatusReportMessage = Schemas['PluginStatusReportRequest'];
export type ClusterStatusReportMessage = Schemas['ClusterStatusReportRequest'];
export type AgentStatusReportMessage = Schemas['AgentStatusReportRequest'];

/** What a request brings besides its body. */
export interface GocdRequestContext {
  /**
   * How long a create-agent may wait for its backend inside this request, and when a job-completion's stop must end
   * (`deadline`; Lambda: the invocation's budget). Absent: the service's own request deadline.
   */
  launch?: LaunchBudget;
}
