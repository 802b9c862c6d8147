import { writeSync } from 'node:fs';
import awsLambdaFastify from '@fastify/aws-lambda';
import type { FastifyRequest } from 'fastify';
import { loadConfig } from '../config/config-loader.js';
import { buildApp } from '../http/app.js';
import { queuedLaunch } from '../lambda/agent-invocations.js';
import { parseDeferredLaunch } from '../lambda/deferred-launch.js';
import { httpBudgets } from '../lambda/invocation-budget.js';
import type { LambdaContext } from '../lambda/lambda-events.js';
import { createLambdaHandler } from '../lambda/lambda-handler.js';
import { registryInvocations } from '../lambda/registry-invocations.js';
import { createLogger } from '../logger.js';
import { EmfFlusher } from '../metrics/emf-flusher.js';
import { VERSION } from '../version.js';
import { createServices } from './composition.js';
import { budgetSettings, lambdaServiceOptions, lambdaSettings } from './lambda-composition.js';
import { withSecretsFromManager } from './secrets-manager.js';

// Lambda entry. Everything below runs once per container, at init (top-level await), never per invocation.
// Tokens come from the environment or Secrets Manager, never generated: every cold container would invent another.
const env = await withSecretsFromManager(process.env);
const { config } = await loadConfig({ env, allowGeneratedToken: false });
const settings = lambdaSettings(env);
const budgets = budgetSettings(config, settings);
// Synchronous writes: a frozen container must not hold log lines in a buffer.
const logger = createLogger(config.log.level, undefined, true);
const services = await createServices(config, logger, lambdaServiceOptions(config, settings));
// Webhooks answer once their triggers ended (scheduled, deferred to the queue, or reported): nothing runs after.
// Each request spends at most its invocation's budget, read from the Lambda context the adapter decorates it with.
const app = buildApp({
  config,
  logger,
  version: VERSION,
  ...services,
  waitForRegistryTriggers: true,
  budgets: (request) => httpBudgets(lambdaContextOf(request), budgets, Date.now()),
});
// No callbackWaitsForEmptyEventLoop: it only ever applied to callback-style handlers, which nodejs24.x no longer
// runs; this handler is async, so the invocation ends when its promise settles.
const http = awsLambdaFastify(app, { decorateRequest: true });
await app.ready();

const registryRoutes = registryInvocations({ config, registry: services.registry, settings: budgets, logger });
const launch = queuedLaunch(services.agents, services.commands, logger);
const route = createLambdaHandler(
  {
    http,
    ...registryRoutes,
    // The retry queue holds deferred triggers and deferred create-agents (ECS throttled their launch).
    queued: async (body, record, context) => {
      const deferred = parseDeferredLaunch(body);
      return deferred ? launch(deferred, context) : registryRoutes.queued(body, record, context);
    },
  },
  logger,
);
// Nothing scrapes /metrics in Lambda: the same figures go to CloudWatch as EMF log lines, written synchronously.
const emf = new EmfFlusher(services.metrics.registry, (line) => writeSync(1, line));

/** The Lambda context @fastify/aws-lambda decorates each request with. */
function lambdaContextOf(request: FastifyRequest): LambdaContext {
  return (request as FastifyRequest & { awsLambda?: { context?: LambdaContext } }).awsLambda?.context ?? {};
}

/** The Lambda handler: Function URL / HTTP API (payload v2), EventBridge (ECR push, schedule) and the retry queue. */
export const handler: typeof route = async (event, context) => {
  try {
    return await route(event, context);
  } finally {
    await emf.flush();
  }
};
