import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { AgentService } from '../agents/agent-service.js';
import type { Config } from '../config/config.schema.js';
import type { GocdHandlers } from '../gocd/gocd-handlers.js';
import type { GocdRequestContext } from '../gocd/messages.js';
import type { StatusReports } from '../gocd/status-reports.js';
import type { Logger } from '../logger.js';
import type { PrometheusMetrics } from '../metrics/prometheus-metrics.js';
import type { RegistryDeliveries } from '../registry/delivery.js';
import type { TriggerBudget, TriggerService } from '../registry/trigger-service.js';
import { registerJsonBodyParser } from './body-parser.js';
import { registerErrorHandler } from './error-handler.js';
import { gocdRoutes } from './gocd.routes.js';
import { healthRoutes } from './health.routes.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';
import { observabilityRoutes } from './observability.routes.js';
import { registryRoutes } from './registry.routes.js';
import { RequestLogController } from './request-log.js';
import { noResponseSchemas, precompiledValidators } from './route-schemas.js';
import { registerSecurityHeaders } from './security-headers.js';
import { triggerRoutes } from './triggers.routes.js';

/** What the app is built from; clients and services are constructed by the composition root (src/main/). */
export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  version: string;
  agents: AgentService;
  /** The handler of every GoCD request name. */
  gocd: GocdHandlers;
  /** The status reports GoCD shows, also served as `/status`. */
  reports: StatusReports;
  dockerStatus: () => Promise<string>;
  metrics: PrometheusMetrics;
  /** Registry deliveries; without them every `/registry/{name}` is unknown (401, like any unknown name). */
  registry?: {
    registries: ReadonlyMap<string, Readonly<Config['registries'][number]>>;
    deliveries: RegistryDeliveries;
    /** Re-runs of failed triggers (`POST /triggers/rerun`); absent: that route answers 404. */
    triggers?: Pick<TriggerService, 'rerun'>;
  };
  /** Lambda: answer registry webhooks only once their triggers ended (see registryRoutes). */
  waitForRegistryTriggers?: boolean;
  /** Lambda: what each request may spend (the invocation's budget); default the service's own bounds. */
  budgets?: (request: FastifyRequest) => { launch?: GocdRequestContext['launch']; triggers?: TriggerBudget };
  /** Clock of the /healthz probe cache (tests). */
  nowMs?: () => number;
}

/**
 * Fastify's compiler factories (its `schemaController.compilersFactory` option). Fastify calls a factory's compiler
 * with `{ schema, method, url, httpPart }` (lib/route.js); the option's type is @fastify/ajv-compiler's, which names
 * ajv's own `compile(schema)` signature instead, hence the cast.
 */
const COMPILERS = {
  buildValidator: () => precompiledValidators,
  buildSerializer: () => noResponseSchemas,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * The Fastify app factory: the JSON parser, the error handler and security headers on the root, then each route group
 * as its own plugin, registered explicitly (no autoload). The app is not made ready here: `listen`, `inject` and the
 * Lambda entry (which wraps it first) do that.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
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
    // Route schemas come from openapi.yaml with their validators compiled ahead of time (scripts/generate.ts); no route
    // declares a response schema. So Fastify builds neither an ajv instance nor a fast-json-stringify compiler (nor
    // loads them), which a cold start would otherwise pay for.
    schemaController: { compilersFactory: COMPILERS },
  });
  registerJsonBodyParser(app);
  registerErrorHandler(app);
  registerSecurityHeaders(app);
  const budgets = deps.budgets;
  const forwarderTokens = [deps.config.gocd.forwarderToken, deps.config.gocd.secondaryForwarderToken];
  app.register(healthRoutes, {
    version: deps.version,
    dockerStatus: deps.dockerStatus,
    ...(deps.nowMs ? { now: deps.nowMs } : {}),
  });
  app.register(observabilityRoutes, {
    agents: deps.agents,
    reports: deps.reports,
    registry: deps.metrics.registry,
    statusReaders: {
      forwarderTokens: forwarderTokens,
      username: deps.config.status.username,
      password: deps.config.status.password,
    },
    ...(deps.config.metrics.token ? { metricsToken: deps.config.metrics.token } : {}),
  });
  app.register(gocdRoutes, {
    handlers: deps.gocd,
    forwarderTokens,
    ...(budgets
      ? { context: (request) => ({ ...(budgets(request).launch ? { launch: budgets(request).launch } : {}) }) }
      : {}),
  });
  app.register(triggerRoutes, {
    ...(deps.registry?.triggers ? { triggers: deps.registry.triggers, registries: deps.registry.registries } : {}),
    operatorToken: deps.config.gocd.apiToken,
  });
  app.register(registryRoutes, {
    ...(deps.registry ?? {}),
    waitForTriggers: deps.waitForRegistryTriggers,
    ...(budgets ? { budget: (request) => budgets(request).triggers } : {}),
    bodyLimit: limits.webhookBodyBytes,
    unauthenticated: { max: limits.unauthenticatedBodies, deadlineMs: limits.unauthenticatedBodySeconds * 1000 },
  });
  return app;
}
