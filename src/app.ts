import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AgentService } from './agents/agent-service.js';
import { UserNotices } from './agents/request-notices.js';
import type { Config } from './config/config.schema.js';
import { createGocdHandlers } from './gocd/gocd-handlers.js';
import { registerJsonBodyParser } from './http/body-parser.js';
import { registerErrorHandler } from './http/error-handler.js';
import { registerGocdRoutes } from './http/gocd.routes.js';
import { registerOperationsRoutes } from './http/health.routes.js';
import { lazyChildLoggerFactory } from './http/lazy-request-logger.js';
import { loadOpenApi } from './http/openapi.js';
import { type OperationsOptions, registerObservabilityRoutes } from './http/operations.routes.js';
import { registerRegistryRoutes } from './http/registry.routes.js';
import { RequestLogController } from './http/request-log.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import type { Logger } from './logger.js';
import type { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import type { RegistryServices } from './registry/registry-composition.js';
import { renderTriggerSection } from './registry/trigger-report.view.js';
import { MemoryStore } from './store/memory-store.js';

/** What the app is built from; clients and services are constructed by the entry point (see composition.ts). */
export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  agents: AgentService;
  version: string;
  dockerStatus: () => Promise<string>;
  metrics: PrometheusMetrics;
  /**
   * What GoCD users are told about their agents (console lines, server-health messages), kept in the shared store;
   * default: a board in this process's memory.
   */
  notices?: UserNotices;
  /** Registry push triggers; without them every `/registry/{name}` is unknown (404). */
  registry?: RegistryServices;
  /** Lambda: answer registry webhooks only once their triggers ended (see registerRegistryRoutes). */
  waitForRegistryTriggers?: boolean;
  /** Clock of the /healthz probe cache (tests). */
  nowMs?: () => number;
}

/** The Fastify app factory: registers parsers, the error handler and routes, nothing else. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const spec = loadOpenApi();
  const limits = deps.config.limits;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: limits.bodyBytes,
    // A client gets this long to send a whole request, and a connection this long without traffic: slow senders
    // cannot hold sockets and buffers open. Node only enforces requestTimeout when it is given to http.createServer
    // (setting it afterwards, as Fastify's own option does, leaves it unchecked), and checks it at this interval.
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    connectionTimeout: limits.connectionTimeoutSeconds * 1000,
    http: {
      requestTimeout: limits.requestTimeoutSeconds * 1000,
      headersTimeout: limits.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(limits.requestTimeoutSeconds * 1000, 5_000),
    },
    requestIdHeader: 'x-request-id',
    logController: new RequestLogController(deps.metrics.httpDuration),
    return503OnClosing: true,
    childLoggerFactory: lazyChildLoggerFactory,
  });
  registerJsonBodyParser(app);
  registerErrorHandler(app);
  registerSecurityHeaders(app);
  registerOperationsRoutes(app, {
    spec,
    version: deps.version,
    dockerStatus: deps.dockerStatus,
    ...(deps.nowMs ? { now: deps.nowMs } : {}),
  });
  const triggers = deps.registry?.triggers;
  const problems = deps.registry?.triggerProblems;
  const handlers = createGocdHandlers(
    deps.agents,
    deps.logger,
    deps.notices ?? new UserNotices(new MemoryStore({ maxKeysPerNamespace: 20_000 }), deps.logger),
    triggers && deps.config.subscriptions.length ? () => [renderTriggerSection(triggers.recentTriggers())] : undefined,
    problems ? () => problems.current() : undefined,
  );
  registerObservabilityRoutes(app, {
    spec,
    agents: deps.agents,
    registry: deps.metrics.registry,
    statusToken: deps.config.gocd.forwarderToken,
    metricsToken: deps.config.metrics.token,
    pluginStatusReport: handlers['cd.go.elastic-agent.plugin-status-report'] as OperationsOptions['pluginStatusReport'],
  });
  registerGocdRoutes(app, { spec, forwarderToken: deps.config.gocd.forwarderToken, handlers });
  registerRegistryRoutes(app, {
    spec,
    registry: deps.registry,
    waitForTriggers: deps.waitForRegistryTriggers,
    bodyLimit: limits.webhookBodyBytes,
    unauthenticated: { max: limits.unauthenticatedBodies, deadlineMs: limits.unauthenticatedBodySeconds * 1000 },
  });
  await app.ready();
  return app;
}
