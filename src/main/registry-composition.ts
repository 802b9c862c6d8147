import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Config, RegistryConfig } from '../config/config.schema.js';
import { GocdScheduleClient } from '../gocd-api/gocd-schedule-client.js';
import type { Logger } from '../logger.js';
import { BackstopPoller } from '../registry/backstop-poller.js';
import { RegistryDeliveries } from '../registry/delivery.js';
import { parseEcrHost } from '../registry/ecr-host.js';
import type { KeyValueStore } from '../registry/store.port.js';
import { SubscriptionTable } from '../registry/subscriptions.js';
import type { TagSource } from '../registry/tag-source.port.js';
import { TriggerProblems } from '../registry/trigger-health.js';
import { NO_TRIGGER_METRICS, type TriggerMetrics } from '../registry/trigger-metrics.js';
import { type PipelineScheduler, type TriggerDeferrer, TriggerService } from '../registry/trigger-service.js';
import { RegistryApiClient } from '../registry-api/registry-api-client.js';
import { createStore } from './store-factory.js';

/** Everything registry triggers need at run time, built once per process / Lambda container. */
export interface RegistryServices {
  /** Configured registry entries by name (the `/registry/{name}` segment). */
  registries: ReadonlyMap<string, Readonly<RegistryConfig>>;
  /** Accepting a delivery (`POST /registry/{name}`, the Lambda's EventBridge events). */
  deliveries: RegistryDeliveries;
  triggers: TriggerService;
  /** Trigger problems for GoCD's server-health panel, in the shared store (read at server-ping). */
  triggerProblems: TriggerProblems;
  poller: BackstopPoller;
  store: KeyValueStore;
  metrics: TriggerMetrics;
  /** Starts the backstop poll (when `poll.intervalSeconds` > 0). */
  start(): void;
  /** Stops polling and retries; unfinished triggers are released and logged. */
  close(): Promise<void>;
}

/** Injection points for tests and for other entry points (Lambda). */
export interface RegistryServiceOptions {
  store?: KeyValueStore;
  scheduler?: PipelineScheduler;
  /** `fetch` used for GoCD and the registry APIs (default the global one). */
  fetch?: typeof fetch;
  /** Builds the ECR client of a region (default `new ECRClient({region})`, loaded only when an ECR entry exists). */
  ecrClient?: (region: string) => ECRClient;
  /** Backoff of GoCD schedule retries (tests shorten it). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  metrics?: TriggerMetrics;
  /** Lambda: where busy-GoCD triggers wait (an SQS queue) instead of retrying inside the invocation. */
  deferrer?: TriggerDeferrer;
  now?: () => Date;
}

/** A scheduler for a config without `gocd.apiUrl`: every trigger is reported, never silently dropped. */
const unconfiguredScheduler: PipelineScheduler = {
  schedule: async () => ({
    kind: 'failed',
    attempts: 0,
    message: 'gocd.apiUrl is not configured',
    windowExhausted: false,
  }),
};

/**
 * The composition of registry triggers: their clients (GoCD's scheduling API, the registry APIs, ECR per region) and
 * store, each built once per process or Lambda container.
 */
export async function createRegistryServices(
  config: Readonly<Config>,
  logger: Logger,
  options: RegistryServiceOptions = {},
): Promise<RegistryServices> {
  const log = logger.child({ component: 'registry' });
  const metrics = options.metrics ?? NO_TRIGGER_METRICS;
  const store = options.store ?? (await createStore(config.store));
  const scheduler =
    options.scheduler ??
    (config.gocd.apiUrl
      ? new GocdScheduleClient({
          apiUrl: config.gocd.apiUrl,
          apiToken: config.gocd.apiToken,
          retryWindowMs: config.gocd.scheduleRetryWindowSeconds * 1000,
          ...options.retry,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : unconfiguredScheduler);
  const sources = await buildTagSources(config.registries, options);
  const tagSources = (name: string) => sources.get(name);
  const subscriptions = new SubscriptionTable(config.subscriptions);
  const triggerProblems = new TriggerProblems(
    store,
    [...new Set(config.subscriptions.flatMap((s) => s.pipelines))],
    log,
  );
  const triggers = new TriggerService({
    store,
    scheduler,
    subscriptions,
    logger: log,
    retryWindowSeconds: config.gocd.scheduleRetryWindowSeconds,
    ttlDays: config.store.ttlDays,
    tagSources,
    metrics,
    outcomes: triggerProblems,
    ...(options.deferrer ? { deferrer: options.deferrer } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const poller = new BackstopPoller({
    subscriptions,
    registries: config.registries,
    tagSources,
    triggers,
    store,
    logger: log,
    intervalSeconds: config.poll.intervalSeconds,
    ttlDays: config.store.ttlDays,
  });
  return {
    registries: new Map(config.registries.map((r) => [r.name, r])),
    deliveries: new RegistryDeliveries(triggers, metrics),
    triggers,
    triggerProblems,
    poller,
    store,
    metrics,
    start: () => poller.start(),
    close: async () => {
      await poller.stop();
      await triggers.close();
    },
  };
}

/** A tag source per entry that can be asked: ECR through its API, others through `apiUrl` (registry API v2). */
async function buildTagSources(
  registries: readonly RegistryConfig[],
  options: RegistryServiceOptions,
): Promise<Map<string, TagSource>> {
  const out = new Map<string, TagSource>();
  const ecrClients = new Map<string, ECRClient>();
  for (const r of registries) {
    if (r.type === 'ecr') {
      const parsed = parseEcrHost(r.host);
      const region = r.region ?? parsed?.region;
      if (!region) continue;
      const { EcrImages } = await import('../registry-api/ecr-images.js');
      let client = ecrClients.get(region);
      if (!client) {
        client = options.ecrClient
          ? options.ecrClient(region)
          : new (await import('@aws-sdk/client-ecr')).ECRClient({ region });
        ecrClients.set(region, client);
      }
      out.set(r.name, new EcrImages(client, parsed?.account));
    } else if (r.apiUrl) {
      out.set(
        r.name,
        new RegistryApiClient({
          apiUrl: r.apiUrl,
          username: r.username,
          password: r.password,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        }),
      );
    }
  }
  return out;
}
