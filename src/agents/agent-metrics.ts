import type { AgentRecord } from './agent-backend.port.js';

/** What the agent lifecycle reports for metrics; the Prometheus adapter lives in src/metrics. */
export interface AgentMetrics {
  /** One create-agent outcome: launched, existing, waiting, deferred, refused, invalid, failed, error. */
  createAgent(clusterId: string, dockerMode: string, outcome: string, failureReason?: string): void;
  /** One agent stopped by reconciliation, by rule (never-registered, lost-contact, idle, disabled) or job completion. */
  agentStopped(clusterId: string, rule: string): void;
  /** The live agents of a cluster as last listed (for the by-state, by-mode gauge). */
  agentsListed(clusterId: string, agents: readonly AgentRecord[]): void;
  /** A create-agent of a pooled profile: a waiting pool agent took the job (hit) or none was waiting (miss). */
  warmPool?(clusterId: string, outcome: 'hit' | 'miss'): void;
  /** A job's wait from its first create-agent to its assignment, measured by the forwarder on GoCD's clock. */
  jobWait?(seconds: number, warm: boolean): void;
}

/** Metrics that go nowhere (tests, or a deployment without metrics). */
export const NO_AGENT_METRICS: AgentMetrics = {
  createAgent: () => undefined,
  agentStopped: () => undefined,
  agentsListed: () => undefined,
};
