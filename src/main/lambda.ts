import { writeSync } from 'node:fs';
import awsLambdaFastify from '@fastify/aws-lambda';
import { loadConfig } from '../config/config-loader.js';
import { withSecretsFromManager } from '../config/secrets-manager-env.js';
import { buildApp } from '../http/app.js';
import { queuedLaunch } from '../lambda/agent-invocations.js';
import { parseDeferredLaunch } from '../lambda/deferred-launch.js';
import { createLambdaHandler } from '../lambda/lambda-handler.js';
import { registryInvocations } from '../lambda/registry-invocations.js';
import { createLogger } from '../logger.js';
import { EmfFlusher } from '../metrics/emf-flusher.js';
import { VERSION } from '../version.js';
import { createServices } from './composition.js';
import { lambdaAgentOptions, lambdaRegistryOptions, lambdaSettings, withHttpScope } from './lambda-composition.js';

// Lambda entry. Everything below runs once per container, at init (top-level await), never per invocation.
// Tokens come from the environment or Secrets Manager, never generated: every cold container would invent another.
const env = await withSecretsFromManager(process.env);
const { config } = loadConfig({ env, allowGeneratedToken: false });
const settings = lambdaSettings(env);
// Synchronous writes: a frozen container must not hold log lines in a buffer.
const logger = createLogger(config.log.level, undefined, true);
const registry = lambdaRegistryOptions(config, settings);
const services = await createServices(config, logger, {
  withDocker: false,
  registry,
  agents: lambdaAgentOptions(settings),
});
// Webhooks answer once their triggers ended (scheduled, deferred to the queue, or reported): nothing runs after.
const app = await buildApp({ config, logger, version: VERSION, ...services, waitForRegistryTriggers: true });
// decorateRequest must be false: buildApp has already made the app ready, and no route reads the raw event.
// No callbackWaitsForEmptyEventLoop: it only ever applied to callback-style handlers, which nodejs24.x no longer
// runs; this handler is async, so the invocation ends when its promise settles.
const http = awsLambdaFastify(app, { decorateRequest: false });

const registryRoutes = registryInvocations({ config, registry: services.registry, logger });
const launch = queuedLaunch(services.agents, logger);
const route = createLambdaHandler(
  {
    http: withHttpScope(http, config, settings),
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

/** The Lambda handler: Function URL / HTTP API (payload v2), EventBridge (ECR push, schedule) and the retry queue. */
export const handler: typeof route = async (event, context) => {
  try {
    return await route(event, context);
  } finally {
    await emf.flush();
  }
};
