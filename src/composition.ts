import { ActivityLog } from './agents/activity-log.js';
import { AgentService, type AgentServiceDeps } from './agents/agent-service.js';
import { GOCD_REQUEST_DEADLINE_MS } from './agents/request-deadline.js';
import { UserNotices } from './agents/request-notices.js';
import { CachingBackendProvider } from './backends/backend-provider.js';
import type { BackendProvider } from './backends/port.js';
import type { Config } from './config/config.schema.js';
import type { Logger } from './logger.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import {
  createRegistryServices,
  type RegistryServiceOptions,
  type RegistryServices,
} from './registry/registry-composition.js';
import { createStore } from './store/store-factory.js';

/** The long-lived services an entry point builds once and hands to `buildApp`. */
export interface Services {
  agents: AgentService;
  activity: ActivityLog;
  /** Console lines and server-health messages for GoCD users, kept in the registry's store (shared in Lambda). */
  notices: UserNotices;
  backends: BackendProvider;
  dockerStatus: () => Promise<string>;
  metrics: PrometheusMetrics;
  registry: RegistryServices;
}

export interface ServiceOptions {
  /** Lambda leaves the Docker backend out (and out of the bundle). */
  withDocker?: boolean;
  backends?: BackendProvider;
  /** Registry injection points (Lambda: its scheduler and the SQS deferrer; its store is shared with agents). */
  registry?: RegistryServiceOptions;
  /** Lambda: the invocation's launch budget (instead of GOCD_REQUEST_DEADLINE_MS) and the retry queue for throttled launches. */
  agents?: Pick<AgentServiceDeps, 'launchDeadline' | 'launchDeferrer'>;
}

/** ECS and (unless left out) Docker backends, each loaded on first use so the Lambda bundle has no Docker client. */
export function createBackendProvider(
  logger: Logger,
  withDocker = true,
  metrics?: PrometheusMetrics,
  ecs?: Readonly<Config['ecs']>,
): BackendProvider {
  return new CachingBackendProvider({
    ecs: async (cluster) =>
      (await import('./backends/ecs-factory.js')).createEcsBackendFor(cluster, logger, metrics?.ecsObserver(), {
        ...(ecs ? { runTaskQuota: ecs.runTask } : {}),
      }),
    ...(withDocker
      ? {
          docker: async (cluster) =>
            (await import('./backends/docker-factory.js')).createDockerBackendFor(cluster, logger, (n) =>
              metrics?.reapedChildren.inc(n),
            ),
        }
      : {}),
  });
}

/** `available`, `unavailable: <reason>`, or `unused` when the Docker backend is left out. */
export function dockerStatusProbe(withDocker = true): () => Promise<string> {
  return withDocker
    ? async () => (await import('./backends/docker-factory.js')).localDockerStatus()
    : async () => 'unused';
}

/** The composition root: the only place backends (and so SDK / Docker clients) are created. */
export async function createServices(
  config: Readonly<Config>,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Services> {
  const withDocker = options.withDocker ?? true;
  const metrics = new PrometheusMetrics();
  const backends = options.backends ?? createBackendProvider(logger, withDocker, metrics, config.ecs);
  const activity = new ActivityLog();
  // One store for the process: registry dedupe keys and the agents' job-completed marks.
  const store = options.registry?.store ?? (await createStore(config.store));
  const agents = new AgentService({
    backends,
    activity,
    logger,
    metrics,
    store,
    policy: config.policy,
    fleet: { maxAgeMs: config.ecs.fleetViewMaxAgeSeconds * 1000 },
    // Answer GoCD before the forwarder gives up (its 30 s); Lambda replaces this with the invocation's budget.
    launchDeadline: () => Date.now() + GOCD_REQUEST_DEADLINE_MS,
    ...options.agents,
  });
  const dockerStatus = dockerStatusProbe(withDocker);
  const registry = await createRegistryServices(config, logger, {
    ...options.registry,
    store,
    metrics: {
      registryEvent: (source, outcome, count = 1) => metrics.registryEvents.inc({ source, outcome }, count),
      trigger: (outcome) => metrics.triggers.inc({ outcome }),
    },
  });
  const notices = new UserNotices(registry.store, logger);
  return { agents, activity, notices, backends, dockerStatus, metrics, registry };
}
