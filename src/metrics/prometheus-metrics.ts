import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
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

/** Every metric name of the service starts with this. */
export const METRIC_PREFIX = 'gocd_agent_scaler_';
const DOCKER_MODES = new Set(['none', 'privileged', 'sidecar', 'socket']);
/** Distinct valid cluster ids given their own series; later ones share `other`, so series stay bounded. */
const MAX_CLUSTER_LABELS = 256;

/**
 * Every Prometheus metric of the service, in its own registry (named `gocd_agent_scaler_*`). Implements the
 * domain metric interfaces so domain code never imports prom-client.
 */
export class PrometheusMetrics implements AgentMetrics {
  readonly registry = new Registry();

  /**
   * `processMetrics`: also prom-client's default metrics of this process, under the same prefix
   * (`gocd_agent_scaler_process_resident_memory_bytes`, `…_nodejs_eventloop_lag_seconds`, `…_process_open_fds` …).
   */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

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
  private readonly warmPools = new Counter({
    name: 'gocd_agent_scaler_warm_pool_total',
    help: 'create-agent requests of pooled profiles: hit (a waiting pool agent takes the job) or miss (the job gets its own)',
    labelNames: ['cluster_id', 'outcome'],
    registers: [this.registry],
  });
  private readonly jobWaits = new Histogram({
    name: 'gocd_agent_scaler_job_wait_seconds',
    help: "Jobs' wait from their first create-agent to their assignment (GoCD's clock, measured by the forwarder), by agent (warm: a warm-pool agent; own: the job's own)",
    labelNames: ['agent'],
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
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

  jobWait(seconds: number, warm: boolean): void {
    this.jobWaits.observe({ agent: warm ? 'warm' : 'own' }, seconds);
  }

  warmPool(clusterId: string, outcome: 'hit' | 'miss'): void {
    this.warmPools.inc({ cluster_id: this.clusterLabel(clusterId), outcome });
  }

  agentStopped(clusterId: string, rule: string): void {
    this.stopped.inc({ cluster_id: this.clusterLabel(clusterId), rule });
  }

  agentsListed(rawClusterId: string, agents: readonly AgentRecord[]): void {
    const cluster_id = this.clusterLabel(rawClusterId);
    // Counted first, then every (state, mode) series of the cluster set, zeros included: states that emptied drop to
    // zero rather than keep their last value, and a scrape never sees a half-updated cluster.
    const counts = new Map<string, number>();
    for (const a of agents) {
      const mode = a.dockerMode && DOCKER_MODES.has(a.dockerMode) ? a.dockerMode : 'none';
      const key = `${a.status}\0${mode}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const state of ['pending', 'running', 'stopping']) {
      for (const docker_mode of DOCKER_MODES)
        this.agents.set({ cluster_id, state, docker_mode }, counts.get(`${state}\0${docker_mode}`) ?? 0);
    }
  }
}
