import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ActivityLog } from '../../src/agents/activity-log.js';
import type { AgentService } from '../../src/agents/agent-service.js';
import type { Config } from '../../src/config/config.schema.js';
import { parseConfig } from '../../src/config/config-text.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/main/composition.js';
import type { RegistryServiceOptions, RegistryServices } from '../../src/main/registry-composition.js';
import type { PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { VERSION } from '../../src/version.js';
import { MemoryBackend, singleBackend } from './memory-backend.js';

export const TEST_TOKEN = 'test-forwarder-token-0123456789';

export interface TestApp {
  app: FastifyInstance;
  backend: MemoryBackend;
  activity: ActivityLog;
  agents: AgentService;
  metrics: PrometheusMetrics;
  /** Registry triggers built from the config's `registries`/`subscriptions` (GoCD at `gocd.apiUrl`). */
  registry: RegistryServices;
  config: Readonly<Config>;
  /** Where the console states and server-health board of the notices live. */
  noticeStore: MemoryStore;
  token: string;
  /** Every log line the app wrote, raw JSON text. */
  logs: string[];
  /** Headers with the forwarder's bearer token and a JSON content type. */
  auth: Record<string, string>;
  /** POSTs `body` (JSON) as GoCD request `cd.go.elastic-agent.<name>`, with the forwarder's token. */
  gocd: (name: string, body: unknown) => Promise<LightMyRequestResponse>;
  close: () => Promise<void>;
}

/** Builds the real app over an in-memory backend, with logs captured for assertions. */
export async function createTestApp(
  options: {
    yaml?: string;
    env?: NodeJS.ProcessEnv;
    now?: () => Date;
    /** Overrides for the registry services (store, scheduler, retry backoff, ECR client, fetch). */
    registry?: RegistryServiceOptions;
    /** Answer registry webhooks only once their triggers ended (the Lambda mode). */
    waitForRegistryTriggers?: boolean;
    /** Log level of the captured logger (default `debug`; benchmarks use `info`). */
    logLevel?: string;
    /** The Docker engine probe behind /healthz (default: always `unused`). */
    dockerStatus?: () => Promise<string>;
    /** The clock of /healthz's probe cache. */
    nowMs?: () => number;
    /** Where notices live (default: a store of this app's own); give two apps one to play two processes. */
    noticeStore?: MemoryStore;
  } = {},
): Promise<TestApp> {
  const env = { SCALER_FORWARDER_TOKEN: TEST_TOKEN, ...options.env };
  const { config } = parseConfig(options.yaml ?? '', 'test', { env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger(options.logLevel ?? 'debug', sink);
  const backend = new MemoryBackend(options.now);
  // The notices' board in its own memory store, so a test can break it apart from the registry's dedupe store.
  const noticeStore = options.noticeStore ?? new MemoryStore();
  // The composition root itself, with an in-memory backend and the test's registry overrides.
  const services = await createServices(config, logger, {
    backends: singleBackend(backend),
    registry: options.registry ?? {},
    noticeStore,
    ...(options.now ? { now: options.now } : {}),
  });
  const { agents, activity, metrics, registry } = services;
  const app = buildApp({
    config,
    logger,
    ...services,
    waitForRegistryTriggers: options.waitForRegistryTriggers,
    version: VERSION,
    dockerStatus: options.dockerStatus ?? (async () => 'unused'),
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });
  await app.ready();
  const auth = { authorization: `Bearer ${config.gocd.forwarderToken}`, 'content-type': 'application/json' };
  return {
    app,
    backend,
    activity,
    agents,
    metrics,
    registry,
    config,
    noticeStore,
    token: config.gocd.forwarderToken,
    logs,
    auth,
    gocd: (name, body) =>
      app.inject({
        method: 'POST',
        url: `/gocd/requests/cd.go.elastic-agent.${name}`,
        headers: auth,
        payload: JSON.stringify(body),
      }),
    close: async () => {
      await app.close();
      await services.close();
    },
  };
}
