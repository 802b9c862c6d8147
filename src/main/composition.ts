import { ActivityLog } from '../agents/activity-log.js';
import type { BackendProvider } from '../agents/agent-backend.port.js';
import { AgentService, type AgentServiceDeps } from '../agents/agent-service.js';
import { ProfileCatalog } from '../agents/profile-catalog.js';
import { GOCD_REQUEST_DEADLINE_MS } from '../agents/request-deadline.js';
import { UserNotices } from '../agents/request-notices.js';
import type { StateStore } from '../agents/state-store.port.js';
import { CachingBackendProvider } from '../backends/backend-provider.js';
import { dockerProfiles } from '../backends/docker/docker-profiles.js';
import { ecsProfiles } from '../backends/ecs/ecs-profiles.js';
import type { Config } from '../config/config.schema.js';
import { GocdCommands } from '../gocd/commands.js';
import { createGocdHandlers, type GocdHandlers } from '../gocd/gocd-handlers.js';
import { StatusReports } from '../gocd/status-reports.js';
import type { Logger } from '../logger.js';
import { PrometheusMetrics } from '../metrics/prometheus-metrics.js';
import { renderTriggerSection } from '../registry/trigger-report.view.js';
import { createRegistryServices, type RegistryServiceOptions, type RegistryServices } from './registry-composition.js';
import { createStore } from './store-factory.js';

/**
 * The profile kinds of every backend this service has: the one table per profile kind (shared rows, then the ECS and
 * the Docker backend's), and their parsing and rules. Pure data and functions: the Lambda has them too, though it has
 * no Docker backend, so a Docker cluster profile is still validated and refused with a clear reason.
 */
export function profileCatalog(): ProfileCatalog {
  return new ProfileCatalog([ecsProfiles, dockerProfiles]);
}

/** The long-lived services an entry point builds once and hands to `buildApp`. */
export interface Services {
  agents: AgentService;
  activity: ActivityLog;
  profiles: ProfileCatalog;
  /** GoCD's bodies read into the lifecycle's commands. */
  commands: GocdCommands;
  /** The handler of every GoCD request name. */
  gocd: GocdHandlers;
  reports: StatusReports;
  /** Console lines and server-health messages for GoCD users, kept in the shared store. */
  notices: UserNotices;
  backends: BackendProvider;
  dockerStatus: () => Promise<string>;
  metrics: PrometheusMetrics;
  registry: RegistryServices;
  /** Starts what runs in the background of a listening process: the backstop poll (a Lambda polls on a schedule). */
  start(): void;
  /** Stops background work and retries; unfinished triggers are released and logged. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Lambda leaves the Docker backend out (and out of the bundle). */
  withDocker?: boolean;
  backends?: BackendProvider;
  /** Registry injection points (Lambda: its lazy store and the SQS deferrer; the store is shared with agents). */
  registry?: RegistryServiceOptions;
  /** Lambda: the retry queue for throttled launches. */
  agents?: Pick<AgentServiceDeps, 'launchDeferrer'>;
  /** Where GoCD users' notices are kept; default the shared store (tests keep them apart). */
  noticeStore?: StateStore;
  /** Clock of the lifecycle, the activity log and the notices (tests). */
  now?: () => Date;
}

/**
 * ECS and (unless left out) Docker backends, each loaded on first use so the Lambda bundle has no Docker client; one
 * backend per client key (an ECS client per region and role, a Docker client per engine).
 */
export function createBackendProvider(
  logger: Logger,
  profiles: ProfileCatalog,
  withDocker = true,
  metrics?: PrometheusMetrics,
  ecs?: Readonly<Config['ecs']>,
): BackendProvider {
  return new CachingBackendProvider(
    {
      ecs: async (cluster) =>
        (await import('./ecs-factory.js')).createEcsBackendFor(cluster, logger, metrics?.ecsObserver(), {
          ...(ecs ? { runTaskQuota: ecs.runTask } : {}),
        }),
      ...(withDocker
        ? {
            docker: async (cluster) =>
              (await import('./docker-factory.js')).createDockerBackendFor(cluster, logger, (n) =>
                metrics?.reapedChildren.inc(n),
              ),
          }
        : {}),
    },
    (cluster) => profiles.clientKey(cluster),
  );
}

/** `available`, `unavailable: <reason>`, or `unused` when the Docker backend is left out. */
export function dockerStatusProbe(withDocker = true): () => Promise<string> {
  return withDocker ? async () => (await import('./docker-factory.js')).localDockerStatus() : async () => 'unused';
}

/** The composition root: the only place services, stores, clients and backends are created, each once. */
export async function createServices(
  config: Readonly<Config>,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Services> {
  const withDocker = options.withDocker ?? true;
  const profiles = profileCatalog();
  const metrics = new PrometheusMetrics();
  const backends = options.backends ?? createBackendProvider(logger, profiles, withDocker, metrics, config.ecs);
  const activity = new ActivityLog(500, options.now);
  // One store for the process: registry dedupe keys, the agents' job-completed marks, the notices' board.
  const store = options.registry?.store ?? (await createStore(config.store));
  const agents = new AgentService({
    backends,
    profiles,
    activity,
    logger,
    metrics,
    store,
    policy: config.policy,
    fleet: { maxAgeMs: config.ecs.fleetViewMaxAgeSeconds * 1000 },
    // Answer GoCD before the forwarder gives up (its 30 s); a request's own deadline (Lambda's budget) replaces it.
    requestDeadlineMs: GOCD_REQUEST_DEADLINE_MS,
    ...(options.now ? { now: options.now } : {}),
    ...options.agents,
  });
  const registry = await createRegistryServices(config, logger, {
    ...options.registry,
    store,
    metrics: {
      registryEvent: (source, outcome, count = 1) => metrics.registryEvents.inc({ source, outcome }, count),
      trigger: (outcome) => metrics.triggers.inc({ outcome }),
    },
  });
  const triggers = registry.triggers;
  const commands = new GocdCommands(profiles);
  const reports = new StatusReports(
    agents,
    config.subscriptions.length ? () => [renderTriggerSection(triggers.recentTriggers())] : undefined,
  );
  const notices = new UserNotices(options.noticeStore ?? store, logger, options.now);
  const gocd = createGocdHandlers({
    agents,
    commands,
    profiles,
    logger,
    notices,
    reports,
    // Trigger problems from the shared store: every process and Lambda container reports the same ones.
    generalHealth: () => registry.triggerProblems.current(),
  });
  return {
    agents,
    activity,
    profiles,
    commands,
    gocd,
    reports,
    notices,
    backends,
    dockerStatus: dockerStatusProbe(withDocker),
    metrics,
    registry,
    start: () => registry.start(),
    close: () => registry.close(),
  };
}
