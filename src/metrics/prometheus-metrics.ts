import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentRecord } from '../agents/agent-backend.port.js';
import type { AgentMetrics } from '../agents/agent-metrics.js';
import { CLUSTER_ID_PATTERN } from '../agents/profiles.js';
import { LatencyHistogram } from './latency-histogram.js';

/** Normalises a failure reason to a bounded label value (`RESOURCE:MEMORY`, `AGENT`, `ThrottlingException` …). */
export function reasonLabel(reason: string | undefined): string {
  if (!reason) return 'unknown';
  const m = /^([A-Za-z]+(?::[A-Z]+)?)/.exec(reason.trim());
  return (m?.[1] ?? 'other').slice(0, 40);
}

const DOCKER_MODES = new Set(['none', 'privileged', 'sidecar', 'socket']);
/** Distinct valid cluster ids given their own series; later ones share `other`, so series stay bounded. */
const MAX_CLUSTER_LABELS = 256;

/**
 * Every Prometheus metric of the service, in its own registry (named `gocd_agent_scaler_*`). Implements the
 * domain metric interfaces so domain code never imports prom-client.
 */
export class PrometheusMetrics implements AgentMetrics {
  readonly registry = new Registry();
  /** Cluster ids that have series (bounded by MAX_CLUSTER_LABELS). */
  private readonly clusterLabels = new Set<string>();
  private readonly agents = new Gauge({
    name: 'gocd_agent_scaler_agents',
    help: 'Live agents by cluster, state and docker mode, as last listed',
    labelNames: ['cluster_id', 'state', 'docker_mode'],
    registers: [this.registry],
  });
  private readonly launches = new Counter({
    name: 'gocd_agent_scaler_create_agent_total',
    help: 'create-agent requests by outcome (launched, existing, waiting, deferred, refused, invalid, failed, error)',
    labelNames: ['cluster_id', 'docker_mode', 'outcome'],
    registers: [this.registry],
  });
  private readonly launchFailures = new Counter({
    name: 'gocd_agent_scaler_launch_failures_total',
    help: 'Agent launches that failed, by reason',
    labelNames: ['cluster_id', 'reason'],
    registers: [this.registry],
  });
  private readonly stopped = new Counter({
    name: 'gocd_agent_scaler_agents_stopped_total',
    help: 'Agents stopped, by rule (job-completed, never-registered, lost-contact, idle, disabled)',
    labelNames: ['cluster_id', 'rule'],
    registers: [this.registry],
  });
  readonly reapedChildren = new Counter({
    name: 'gocd_agent_scaler_reaped_children_total',
    help: 'Containers a socket-mode job started that were removed with its agent',
    registers: [this.registry],
  });
  readonly registryEvents = new Counter({
    name: 'gocd_agent_scaler_registry_events_total',
    help: 'Registry notifications by registry type and outcome (triggered, duplicate, ignored, unmatched, rejected)',
    labelNames: ['source', 'outcome'],
    registers: [this.registry],
  });
  readonly triggers = new Counter({
    name: 'gocd_agent_scaler_triggers_total',
    help: 'Pipeline schedule requests by final outcome (scheduled, failed)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly ecsCalls = new Counter({
    name: 'gocd_agent_scaler_ecs_api_calls_total',
    help: 'ECS API calls (each SDK attempt) by operation',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  readonly ecsThrottles = new Counter({
    name: 'gocd_agent_scaler_ecs_throttles_total',
    help: 'ECS API attempts answered with a throttling error, by operation',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  readonly httpDuration = new LatencyHistogram({
    name: 'gocd_agent_scaler_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [this.registry],
  });

  /** Counts ECS API attempts and throttles, per operation (an `EcsCallObserver`, see createEcsClient). */
  ecsObserver(): { call(operation: string): void; throttled(operation: string): void } {
    return {
      call: (operation) => this.ecsCalls.inc({ operation }),
      throttled: (operation) => this.ecsThrottles.inc({ operation }),
    };
  }

  /**
   * A cluster id as a label value: only a valid id (at most 18 of `[A-Za-z0-9_-]`, what a cluster profile may name)
   * becomes a label, `invalid` stands for every other value, and past MAX_CLUSTER_LABELS distinct ids `other` does:
   * create-agent bodies are the caller's, and an unbounded label is memory and `/metrics` size without end.
   */
  clusterLabel(clusterId: string): string {
    if (!CLUSTER_ID_PATTERN.test(clusterId)) return 'invalid';
    if (this.clusterLabels.has(clusterId)) return clusterId;
    if (this.clusterLabels.size >= MAX_CLUSTER_LABELS) return 'other';
    this.clusterLabels.add(clusterId);
    return clusterId;
  }

  createAgent(clusterId: string, dockerMode: string, outcome: string, failureReason?: string): void {
    const cluster_id = this.clusterLabel(clusterId);
    const docker_mode = DOCKER_MODES.has(dockerMode) ? dockerMode : 'invalid';
    this.launches.inc({ cluster_id, docker_mode, outcome });
    if (outcome === 'failed' || outcome === 'error')
      this.launchFailures.inc({ cluster_id, reason: reasonLabel(failureReason) });
  }

  agentStopped(clusterId: string, rule: string): void {
    this.stopped.inc({ cluster_id: this.clusterLabel(clusterId), rule });
  }

  agentsListed(rawClusterId: string, agents: readonly AgentRecord[]): void {
    const clusterId = this.clusterLabel(rawClusterId);
    // Reset this cluster's series so states that emptied drop to zero rather than keep their last value.
    for (const state of ['pending', 'running', 'stopping']) {
      for (const mode of ['none', 'privileged', 'sidecar', 'socket'])
        this.agents.set({ cluster_id: clusterId, state, docker_mode: mode }, 0);
    }
    for (const a of agents)
      this.agents.inc({
        cluster_id: clusterId,
        state: a.status,
        docker_mode: a.dockerMode && DOCKER_MODES.has(a.dockerMode) ? a.dockerMode : 'none',
      });
  }
}
