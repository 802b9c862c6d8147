import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AgentServiceDeps, LaunchDeferrer } from '../agents/agent-service.js';
import type { Config } from '../config/config.schema.js';
import { InvocationScheduler } from '../lambda/invocation-scheduler.js';
import { currentScope, runInScope } from '../lambda/invocation-scope.js';
import type { HttpEventV2, HttpResultV2, LambdaContext } from '../lambda/lambda-events.js';
import type { TriggerDeferrer } from '../registry/trigger-service.js';
import { LazyStore } from '../store/lazy-store.js';
import type { RegistryServiceOptions } from './registry-composition.js';

/** Settings only a Lambda deployment has; read once by the entry point from its environment. */
export interface LambdaSettings {
  /** The SQS queue webhook triggers wait in while GoCD is busy (`SCALER_RETRY_QUEUE_URL`, set by infra/). */
  retryQueueUrl?: string;
}

/** The Lambda-only settings of an environment. */
export function lambdaSettings(env: NodeJS.ProcessEnv): LambdaSettings {
  return env.SCALER_RETRY_QUEUE_URL ? { retryQueueUrl: env.SCALER_RETRY_QUEUE_URL } : {};
}

/** The container's SQS client, built on first use (a cold start does not load the SQS module it may never use). */
function lazySqsClient(): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({}));
    return client;
  };
}

const sqsClient = lazySqsClient();

/**
 * The agent-lifecycle injection points of the Lambda: each invocation's launch budget (its scope's `launchUntil`),
 * and — with a retry queue — the deferrer that parks a create-agent ECS throttled past it, since nothing runs after
 * the answer.
 */
export function lambdaAgentOptions(
  settings: LambdaSettings,
): Pick<AgentServiceDeps, 'launchDeadline' | 'launchDeferrer'> {
  const queueUrl = settings.retryQueueUrl;
  const launchDeadline = () => currentScope()?.launchUntil;
  if (!queueUrl) return { launchDeadline };
  let deferrer: Promise<LaunchDeferrer> | undefined;
  const build = async (): Promise<LaunchDeferrer> => {
    const { SqsLaunchDeferrer } = await import('../lambda/sqs-launch-deferrer.js');
    return new SqsLaunchDeferrer({ client: await sqsClient(), queueUrl });
  };
  return {
    launchDeadline,
    launchDeferrer: {
      defer: async (input, reason) => {
        deferrer ??= build();
        return (await deferrer).defer(input, reason);
      },
    },
  };
}

/**
 * The registry injection points of the Lambda: the store built on first use (most GoCD requests never need it; the
 * create-agent, server-ping and job-completion notices for GoCD users do), a GoCD
 * scheduler bounded by each invocation's scope, and the SQS deferrer (its client built here, once per container; the
 * SQS module is loaded only when a queue is configured).
 */
export function lambdaRegistryOptions(config: Readonly<Config>, settings: LambdaSettings): RegistryServiceOptions {
  const options: RegistryServiceOptions = {
    store: new LazyStore(async () => (await import('./store-factory.js')).createStore(config.store)),
  };
  if (config.gocd.apiUrl) {
    options.scheduler = new InvocationScheduler({ apiUrl: config.gocd.apiUrl, apiToken: config.gocd.apiToken });
  }
  const queueUrl = settings.retryQueueUrl;
  if (queueUrl) {
    // Built on the first deferral, once per container: a cold start does not load the SQS client it may never use.
    let deferrer: Promise<TriggerDeferrer> | undefined;
    const build = async (): Promise<TriggerDeferrer> => {
      const { SqsTriggerDeferrer } = await import('../lambda/sqs-trigger-deferrer.js');
      return new SqsTriggerDeferrer({
        client: await sqsClient(),
        queueUrl,
        windowSeconds: config.gocd.scheduleRetryWindowSeconds,
      });
    };
    options.deferrer = {
      defer: async (push, pipeline, outcome) => {
        deferrer ??= build();
        return (await deferrer).defer(push, pipeline, outcome);
      },
    };
  }
  return options;
}

/** Time kept back from the invocation for answering, when a webhook has to wait for GoCD itself. */
const MARGIN_MS = 15_000;
/**
 * How long a create-agent may wait inside the HTTP invocation for its turn in ECS's RunTask bucket before it is
 * queued: well within the forwarder's 30 s deadline.
 */
export const HTTP_LAUNCH_WAIT_MS = 10_000;
/** The same for a create-agent run from the retry queue (its batch runs one message after another). */
export const QUEUED_LAUNCH_WAIT_MS = 20_000;

/** Epoch ms until which a launch may wait in an invocation with `remainingMs` left. */
export function launchUntil(now: number, remainingMs: number, waitMs: number): number {
  return now + Math.max(0, Math.min(waitMs, remainingMs - MARGIN_MS));
}

/**
 * Runs each HTTP invocation in an `http` scope. With a retry queue the webhook answers after one GoCD attempt (a busy
 * GoCD defers to the queue); without one it may retry for the config's window, within the invocation's time.
 */
export function withHttpScope(
  http: (event: HttpEventV2, context: LambdaContext) => Promise<HttpResultV2>,
  config: Readonly<Config>,
  settings: LambdaSettings,
  now: () => number = Date.now,
): (event: HttpEventV2, context: LambdaContext) => Promise<HttpResultV2> {
  const window = config.gocd.scheduleRetryWindowSeconds * 1000;
  return (event, context) => {
    const t = now();
    const remaining = context.getRemainingTimeInMillis?.() ?? window + MARGIN_MS;
    const wait = settings.retryQueueUrl ? 0 : Math.max(0, Math.min(window, remaining - MARGIN_MS));
    const scope = {
      kind: 'http' as const,
      retryUntil: t + wait,
      firstAttemptAt: t,
      attempt: 0,
      launchUntil: launchUntil(t, remaining, HTTP_LAUNCH_WAIT_MS),
    };
    return runInScope(scope, () => http(event, context));
  };
}
